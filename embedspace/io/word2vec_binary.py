"""Reading word2vec's binary format, several times faster than gensim's reader.

``"V D\\n"``, then V records ``key + b" " + D little-endian float32`` (an optional ``"\\n"`` after
each vector, as the original C tool writes). A plain file is memory-mapped and read in one tight
loop (:func:`scan_records`: ``find`` the space that ends each key, copy the vector's bytes straight
into the output array; no per-record numpy call, no parsing). A compressed file is decompressed in
chunks through the same loop. Faults are named by record, counted from 1.
"""
from __future__ import annotations

import mmap
import sys

import numpy as np

from embedspace.errors import FormatError
from embedspace.io.checks import (
    MAX_KEY_BYTES,
    PROGRESS_EVERY,
    UTF8,
    Allocate,
    KeyCodec,
    Progress,
    check_finite,
    check_not_empty,
    in_memory,
    shorten,
)
from embedspace.io.streams import READ_CHUNK, Source
from embedspace.io.text_format import read_header

HEADER_BYTES = 4096  # the header line must end within this many bytes
BLOCK_BYTES = 1 << 26  # a compressed file's vectors are gathered in blocks of at most this size
FIRST_BLOCK_ROWS = 512  # ... growing from twice this many rows


def read_word2vec_binary(source: Source, limit: int | None = None, allocate: Allocate = in_memory,
                         progress: Progress | None = None, codec: KeyCodec = UTF8,
                         every: int = PROGRESS_EVERY) -> tuple[list[str], np.ndarray]:
    """Keys and vectors [V, D] of a word2vec binary file, the vectors in ``allocate((V, D))``.

    ``progress(done_bytes, total_bytes)`` is called every ``every`` records of a large file.
    """
    if source.compression is None:
        if source.size == 0:
            raise FormatError(source.path, "empty file")
        with mmap.mmap(source.raw.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            count, dim, start = header_of(source, buf)
            n = count if limit is None else min(count, limit)
            key_bytes, vectors = read_mapped(source, buf, start, n, count, dim, allocate, progress, every)
    else:
        buf = source.stream.read(HEADER_BYTES)
        count, dim, start = header_of(source, buf)
        n = count if limit is None else min(count, limit)
        key_bytes, vectors = read_streamed(source, buf[start:], n, count, dim, allocate, progress)
    keys = decode_keys(source, key_bytes, codec)
    check_not_empty(source.path, keys, dim)
    check_finite(source.path, vectors, where="record")
    return keys, vectors


def header_of(source: Source, buf) -> tuple[int, int, int]:
    """``(V, D, offset of the first record)`` from the header line at the start of ``buf``."""
    end = buf.find(b"\n", 0, HEADER_BYTES)
    if end < 0:
        if not buf[:HEADER_BYTES]:
            raise FormatError(source.path, "empty file")
        raise FormatError(source.path, f"expected a header 'COUNT DIMS', found {shorten(buf[:40])}", line=1)
    count, dim = read_header(source.path, buf[:end + 1])
    return count, dim, end + 1


def read_mapped(source: Source, buf: mmap.mmap, start: int, n: int, count: int, dim: int,
                allocate: Allocate = in_memory, progress: Progress | None = None,
                every: int = PROGRESS_EVERY) -> tuple[list[bytes], np.ndarray]:
    """The key bytes of the first ``n`` records of a mapped file, and their vectors [n, D] float32."""
    size, nbytes = len(buf), 4 * dim
    room = (size - start) // (nbytes + 1)  # a record takes more than nbytes bytes: no more fit
    # the file cannot hold them all: read what is there (never more than the file), to name the first bad record
    vectors = np.empty((room, dim), dtype=np.float32) if n > room else allocate((n, dim))
    assert vectors.dtype == np.float32 and vectors.flags.c_contiguous
    keys: list[bytes] = []
    position = start
    with memoryview(vectors.view(np.uint8).reshape(-1)) as dest:
        for first in range(0, n, every):
            rows = min(n, first + every) - first
            parsed, position = scan_records(buf, position, dest, first, rows, nbytes, keys)
            if parsed < rows:
                raise binary_end_error(source, buf, position, first + parsed, count, nbytes)
            if progress is not None and first + every < n:
                progress(position, size)
    if n == count:
        check_nothing_follows(source, buf[position:position + MAX_KEY_BYTES], count)
    return keys, little_endian(vectors)


def scan_records(buf, position: int, dest: memoryview, row: int, rows: int, nbytes: int,
                 keys: list[bytes]) -> tuple[int, int]:
    """Read up to ``rows`` whole records of ``buf`` from ``position`` into rows ``row...`` of ``dest``.

    Returns ``(records read, position after them)``; stops early at a record that ``buf`` does
    not hold whole (the caller decides whether more data can come).
    """
    size, find = len(buf), buf.find
    with memoryview(buf) as view:
        for i in range(row, row + rows):
            space = find(b" ", position, position + MAX_KEY_BYTES)
            end = space + 1 + nbytes
            if space < 0 or end > size:
                return i - row, position
            keys.append(buf[position:space])
            dest[i * nbytes:(i + 1) * nbytes] = view[space + 1:end]
            position = end
    return rows, position


def read_streamed(source: Source, buf: bytes, n: int, count: int, dim: int, allocate: Allocate = in_memory,
                  progress: Progress | None = None) -> tuple[list[bytes], np.ndarray]:
    """Like :func:`read_mapped`, from a decompressing stream: ``buf`` holds what follows the header.

    Vectors are gathered in blocks allocated as the data arrives (memory grows with what the
    file really holds, not with what its header claims), then copied into ``allocate((n, D))``.
    """
    nbytes, keys, blocks, done, position, ended = 4 * dim, [], [], 0, 0, False
    block_rows, most_rows = FIRST_BLOCK_ROWS, max(1, BLOCK_BYTES // nbytes)
    while done < n:
        block_rows = min(2 * block_rows, most_rows)  # blocks grow with the data, from a small first one
        block = np.empty((min(block_rows, n - done), dim), dtype=np.float32)
        filled = 0
        with memoryview(block.view(np.uint8).reshape(-1)) as dest:
            while filled < len(block):
                parsed, position = scan_records(buf, position, dest, filled, len(block) - filled, nbytes, keys)
                filled += parsed
                if filled < len(block):
                    if ended:
                        raise binary_end_error(source, buf, position, done + filled, count, nbytes)
                    chunk = source.stream.read(READ_CHUNK)
                    ended = not chunk
                    buf, position = buf[position:] + chunk, 0
        blocks.append(block)
        done += filled
        if progress is not None:
            progress(source.position(), source.size)
    if n == count:
        rest = buf[position:]
        while not rest.strip() and not ended:
            chunk = source.stream.read(READ_CHUNK)
            ended, rest = not chunk, chunk
        check_nothing_follows(source, rest, count)
    vectors, start = allocate((n, dim)), 0
    for block in blocks:
        vectors[start:start + len(block)] = block
        start += len(block)
    return keys, little_endian(vectors)


def check_nothing_follows(source: Source, rest: bytes, count: int) -> None:
    """After all ``count`` records only whitespace may follow."""
    if rest.strip():
        raise FormatError(source.path, f"header count mismatch: header says {count} vectors, but more data follows "
                                       f"record {count}", record=count + 1)


def little_endian(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` as read from the little-endian file, in this machine's byte order (in place)."""
    if sys.byteorder == "big":
        vectors.byteswap(inplace=True)
    return vectors


def binary_end_error(source: Source, buf, position: int, i: int, count: int, nbytes: int) -> FormatError:
    """The error for a binary record that cannot be read whole: file too short, or damaged."""
    rest = buf[position:position + MAX_KEY_BYTES]
    if not rest.strip():
        return FormatError(source.path, f"header count mismatch: header says {count} vectors, file holds {i}",
                           record=i + 1)
    if b" " not in rest:
        return FormatError(source.path, "truncated record: no space after the key", record=i + 1)
    found = len(buf) - position - rest.index(b" ") - 1
    return FormatError(source.path, f"truncated record: vector needs {nbytes} bytes, {found} left", record=i + 1)


def decode_keys(source: Source, key_bytes: list[bytes], codec: KeyCodec = UTF8) -> list[str]:
    """Decoded keys, leading newlines dropped (the C tool ends each vector with one).

    A key that does not decode, is empty, or holds a line break is named by its record.
    """
    if not key_bytes:
        return []
    try:
        text = b" ".join(key_bytes).decode(codec.encoding, codec.unicode_errors)  # keys hold no spaces
    except UnicodeDecodeError:
        text = None
    keys = [] if text is None else text.split(" ")
    if len(keys) == len(key_bytes):  # the common cases, at C speed
        if "\n" not in text and "  " not in f" {text} ":
            return keys
        keys = [key.lstrip("\n") for key in keys]  # the C tool's layout
        if all(key and "\n" not in key for key in keys):
            return keys
    keys = []
    for record, raw in enumerate(key_bytes, start=1):
        try:
            key = codec.decode(bytes(raw)).lstrip("\n")
        except UnicodeDecodeError as error:
            raise FormatError(source.path, f"bad {codec.label} in key {shorten(bytes(raw))}: {error.reason} "
                                           f"({codec.hint()})", record=record) from None
        if not key or "\n" in key:
            raise FormatError(source.path, f"bad key {shorten(bytes(raw))}: empty or holds a line break", record=record)
        keys.append(key)
    return keys
