"""Opening a vector file: regular files only, decompressed on the fly when gzip, bzip2 or xz.

:func:`open_source` refuses what is not a regular file (a FIFO would block forever, ``/dev/zero``
never ends) without blocking on it, and recognises compression by its magic bytes (``.gz``,
``.bz2``, ``.xz`` name it too; a suffix that contradicts the content is an error). Errors of a
damaged compressed stream become :class:`~embedspace.errors.FormatError` naming the file.
"""
from __future__ import annotations

import bz2
import contextlib
import dataclasses
import gzip
import lzma
import os
import stat
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from embedspace.errors import FormatError

# name: (magic bytes, suffix)
COMPRESSIONS = {"gzip": (b"\x1f\x8b", ".gz"), "bzip2": (b"BZh", ".bz2"), "xz": (b"\xfd7zXZ\x00", ".xz")}
OPENERS = {"gzip": lambda raw: gzip.GzipFile(fileobj=raw, mode="rb"), "bzip2": bz2.BZ2File, "xz": lzma.LZMAFile}
KINDS = {stat.S_IFDIR: "a folder", stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
         stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}
READ_CHUNK = 1 << 24  # bytes read at a time by read_exactly


@dataclasses.dataclass
class Source:
    """An open vector file: ``stream`` gives its (decompressed) bytes, ``raw`` the bytes on disk."""

    path: Path
    raw: BinaryIO  # the regular file itself
    stream: BinaryIO  # what to read: ``raw``, or a decompressing reader over it
    compression: str | None  # "gzip", "bzip2", "xz" or None
    size: int  # bytes on disk (progress reports raw.tell() against it)

    def position(self) -> int:
        """Bytes of the file on disk consumed so far (for progress)."""
        return self.raw.tell()


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """``path`` opened for binary reading; a FormatError if it is not a regular file.

    The file is opened without blocking (a FIFO with no writer would block ``open`` forever),
    checked with ``fstat``, then switched back to blocking reads.

    Examples
    --------
    >>> open_regular("/dev/null")
    Traceback (most recent call last):
    ...
    embedspace.errors.FormatError: /dev/null: is a character device, not a regular file
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = KINDS.get(stat.S_IFMT(mode), "not a file")
            raise FormatError(path, f"is {kind}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def compression_of(path: Path, head: bytes) -> str | None:
    """The compression of a file from its first bytes; its suffix must not say otherwise.

    Examples
    --------
    >>> compression_of(Path("v.txt.gz"), b"\\x1f\\x8b\\x08"), compression_of(Path("v.txt"), b"cat 1 2")
    ('gzip', None)
    """
    found = next((name for name, (magic, _) in COMPRESSIONS.items() if head.startswith(magic)), None)
    named = next((name for name, (_, suffix) in COMPRESSIONS.items() if path.suffix.lower() == suffix), None)
    if named is not None and found != named:
        raise FormatError(path, f"named {path.suffix} but not {named} data (its first bytes are {head[:6]!r})")
    return found


@contextlib.contextmanager
def open_source(path: str | os.PathLike) -> Iterator[Source]:
    """The open :class:`Source` of ``path``; damaged compressed data raises FormatError."""
    path = Path(path)
    raw = open_regular(path)
    try:
        size = os.fstat(raw.fileno()).st_size
        compression = compression_of(path, raw.read(8))
        raw.seek(0)
        stream = raw if compression is None else OPENERS[compression](raw)
        with decompression_errors(path, compression):
            yield Source(path, raw, stream, compression, size)
    finally:
        raw.close()


@contextlib.contextmanager
def decompression_errors(path: Path, compression: str | None) -> Iterator[None]:
    """Turn the errors of a damaged compressed stream into one FormatError naming the file."""
    if compression is None:
        yield
        return
    try:
        yield
    except (EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile) as error:
        raise FormatError(path, f"damaged {compression} data ({error or 'it ends too early'})") from None
    except OSError as error:
        if error.errno is not None or not str(error):  # a real I/O error, not the decompressor's
            raise
        raise FormatError(path, f"damaged {compression} data ({error})") from None


def read_head(source: Source, size: int) -> bytes:
    """The first ``size`` bytes of the (decompressed) content; the stream is rewound after."""
    head = source.stream.read(size)
    source.stream.seek(0)
    return head


def read_exactly(source: Source, count: int, what: str) -> bytes:
    """``count`` bytes of the stream, read in chunks (memory grows only with data that is there)."""
    chunks, remaining = [], count
    while remaining > 0:
        chunk = source.stream.read(min(remaining, READ_CHUNK))
        if not chunk:
            raise FormatError(source.path, f"truncated: {what} needs {count} bytes, the file has {count - remaining}")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
