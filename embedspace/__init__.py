"""embedspace: see how meaning lives in embedding spaces, and measure it."""
from embedspace.errors import EmbedspaceError, FormatError, NotInstalled, UnknownKeyError
from embedspace.space import Space

__all__ = ["EmbedspaceError", "FormatError", "NotInstalled", "Space", "UnknownKeyError"]
