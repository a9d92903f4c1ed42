"""What every vector-file reader shares: its limits, key decoding, and the checks on what it read.

A reader never trusts a size it reads from a file: before it allocates, it holds the declared
shape (count x dim) against the bytes that can hold it (``MAX_DIM`` bounds a dimension), so a header
that promises a billion rows costs nothing. Values must be finite (:func:`check_finite`); a repeated
key keeps its first vector (:func:`drop_duplicates`).
"""
from __future__ import annotations

import codecs
import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embedspace.errors import FormatError, InvalidInput

log = logging.getLogger(__name__)

Allocate = Callable[[tuple[int, int]], np.ndarray]  # shape -> a C-contiguous float32 array to fill
Progress = Callable[[int, int], None]  # progress(done_bytes, total_bytes)
MAX_KEY_BYTES = 1 << 16  # a key longer than this is taken as a damaged file
MAX_LINE_BYTES = 1 << 26  # a text line longer than this (64 MiB) is taken as a damaged file
MAX_DIM = 1 << 20  # more dimensions than this is taken as a damaged header
PROGRESS_EVERY = 1 << 16  # rows between two calls of a reader's progress(done_bytes, total_bytes)
UNICODE_ERRORS = ("strict", "replace", "ignore")


def in_memory(shape: tuple[int, int]) -> np.ndarray:
    """An uninitialised float32 array of ``shape`` (the default ``allocate`` of the readers)."""
    return np.empty(shape, dtype=np.float32)


@dataclasses.dataclass(frozen=True)
class KeyCodec:
    """How key bytes become text: ``encoding`` and ``unicode_errors`` as gensim's readers take them.

    ``unicode_errors`` is "strict" (a bad key is an error naming its line or record), "replace"
    (bad bytes become U+FFFD) or "ignore" (bad bytes are dropped). The encoding must keep ASCII
    as ASCII (UTF-8, Latin-1, cp1252, cp852, ...): numbers, spaces and newlines are ASCII.

    Examples
    --------
    >>> KeyCodec("latin-1").decode(b"caf\\xe9")
    'café'
    >>> KeyCodec(unicode_errors="replace").decode(b"caf\\xe9")
    'caf\\ufffd'
    """

    encoding: str = "utf-8"
    unicode_errors: str = "strict"

    def __post_init__(self):
        if self.unicode_errors not in UNICODE_ERRORS:
            raise InvalidInput(f"unicode_errors must be one of {', '.join(UNICODE_ERRORS)}, got {self.unicode_errors!r}")
        try:
            name = codecs.lookup(self.encoding).name
        except (LookupError, TypeError):
            raise InvalidInput(f"unknown encoding {self.encoding!r}") from None
        if not ascii_compatible(name):
            raise InvalidInput(f"encoding {self.encoding!r} does not keep ASCII as ASCII (as UTF-16 and UTF-32 do not); "
                               "convert the file to UTF-8 first, e.g. iconv -f UTF-16 -t UTF-8")
        object.__setattr__(self, "encoding", name)

    def decode(self, raw: bytes) -> str:
        """``raw`` as text; raises UnicodeDecodeError only when ``unicode_errors`` is "strict"."""
        return raw.decode(self.encoding, self.unicode_errors)

    @property
    def is_utf8(self) -> bool:
        """True for UTF-8 (where a byte-order mark may start a text file and is skipped)."""
        return self.encoding == "utf-8"

    @property
    def label(self) -> str:
        """The encoding's name in messages ("UTF-8", "cp852", ...)."""
        return "UTF-8" if self.is_utf8 else self.encoding

    def hint(self) -> str:
        """What to try when a key does not decode."""
        return (f"if the file is not {self.label}, give its encoding: --encoding latin-1, cp1252, ... "
                "(encoding='latin-1' in Python), or --unicode-errors replace")


def ascii_compatible(encoding: str) -> bool:
    """True when ``encoding`` writes the ASCII digits, signs, space and newline as ASCII bytes."""
    sample = "0123456789 .-+eE\n\tabcxyzABC<>"
    try:
        return sample.encode(encoding) == sample.encode("ascii")
    except (UnicodeError, LookupError):
        return False


UTF8 = KeyCodec()  # the default: UTF-8, strict


def check_finite(path: Path, vectors: np.ndarray, where: str, first: int = 1) -> None:
    """Raise naming the first row (``where`` = "line" or "record", counted from ``first``) with NaN or inf."""
    for start in range(0, len(vectors), 1 << 16):
        finite = np.isfinite(vectors[start:start + (1 << 16)]).all(axis=1)
        if not finite.all():
            row = start + int(np.argmin(finite)) + first
            raise FormatError(path, "NaN or infinite value", **{where: row})


def drop_duplicates(path: Path, keys: list[str], vectors: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Keep the first row of each key; log one warning naming the repeated keys."""
    first = dict.fromkeys(keys)
    if len(first) == len(keys):
        return keys, vectors
    seen: dict[str, int] = {}
    keep = [seen.setdefault(key, i) == i for i, key in enumerate(keys)]
    repeated = list(dict.fromkeys(k for k, kept in zip(keys, keep) if not kept))
    log.warning("%s: %d duplicate key(s) (%s%s); kept the first vector of each", path, len(keys) - len(first),
                ", ".join(map(repr, repeated[:5])), ", ..." if len(repeated) > 5 else "")
    return list(first), vectors[np.asarray(keep)]


def check_not_empty(path: Path, keys: list[str], dim: int) -> None:
    """A space needs at least one key and one dimension."""
    if dim == 0:
        raise FormatError(path, "the vectors have 0 dimensions (no numbers after the keys)")
    if not keys:
        raise FormatError(path, "no vectors in file")


def shorten(value: bytes | str, width: int = 30) -> str:
    """A short printable form of a field for an error message."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."
