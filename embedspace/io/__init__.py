"""Reading, caching and writing spaces: file formats, the cache, the registry of named spaces, shipped spaces, export."""
