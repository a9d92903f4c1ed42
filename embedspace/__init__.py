"""embedspace: see how meaning lives in embedding spaces, and measure it.

``Space`` is the vocabulary and its matrix; ``Session`` keeps what a caller has opened. Spaces are
loaded by name or path with :func:`embedspace.catalog.load_space` (or ``Session.space``).
"""
from embedspace.errors import EmbedspaceError, FormatError, InvalidInput, NotInstalled, UnknownKeyError
from embedspace.session import Session
from embedspace.space import Space

__all__ = ["EmbedspaceError", "FormatError", "InvalidInput", "NotInstalled", "Session", "Space", "UnknownKeyError"]
