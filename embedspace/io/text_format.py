"""Reading text vector files: word2vec text and fastText ``.vec`` (a ``V D`` header line) and GloVe (none).

Each line is ``key x1 ... xD``, fields separated by single spaces (as gensim reads them). Every
fault is named with its line, counted from 1: a wrong field count (with a hint when the fields are
separated by tabs), a value that is not a number, NaN or infinity, a key that does not decode, a
line longer than ``MAX_LINE_BYTES``, a header that promises more or fewer vectors than follow.
A UTF-8 byte-order mark before the first line is skipped.
"""
from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from embedspace.errors import FormatError
from embedspace.io.checks import (
    MAX_DIM,
    MAX_LINE_BYTES,
    PROGRESS_EVERY,
    UTF8,
    KeyCodec,
    Progress,
    check_not_empty,
    shorten,
)
from embedspace.io.detect import UTF8_BOM, parse_header
from embedspace.io.streams import Source

TAB_HINT = " (the fields are separated by tabs; word2vec and GloVe text separate them by spaces)"


def read_text(source: Source, header: bool, limit: int | None = None, progress: Progress | None = None,
              codec: KeyCodec = UTF8, every: int = PROGRESS_EVERY) -> tuple[list[str], np.ndarray]:
    """Keys and vectors [V, D] of a text file: word2vec / fastText (``header``) or GloVe (no header).

    ``progress(done_bytes, total_bytes)`` is called every ``every`` lines.
    """
    path = source.path
    count = dim = None
    lines = numbered_lines(source, codec)
    if header:
        first = next(lines, (1, b""))[1]
        if not first:
            raise FormatError(path, "empty file")
        count, dim = read_header(path, first)
    wanted = count if limit is None else limit if count is None else min(count, limit)
    with np.errstate(over="ignore"):  # a number beyond float32 becomes inf, which parse_numbers refuses
        keys, rows, dim = read_lines(path, lines, wanted, count, dim, progress, source, codec, every)
    if count is not None and len(keys) < (count if limit is None else min(count, limit)):
        raise FormatError(path, f"header count mismatch: header says {count} vectors, file holds {len(keys)}")
    check_not_empty(path, keys, dim if dim is not None else 0)
    return keys, np.vstack(rows)


def read_lines(path: Path, lines: Iterator[tuple[int, bytes]], wanted: int | None, count: int | None,
               dim: int | None, progress: Progress | None, source: Source, codec: KeyCodec,
               every: int) -> tuple[list[str], list[np.ndarray], int | None]:
    """Keys, rows [D] and D of the ``wanted`` records after the header (all of them when None)."""
    keys: list[str] = []
    rows: list[np.ndarray] = []
    for number, raw in lines:
        if wanted is not None and len(keys) == wanted:
            if wanted == count:  # all the header promised is read: only blank lines may follow
                check_no_more_lines(path, number, raw, lines, count)
            break
        fields = split_line(path, number, raw, codec)
        if fields is None:
            continue
        if dim is None:
            dim = len(fields) - 1
            if dim == 0:
                raise FormatError(path, "no numbers after the key" + (TAB_HINT if "\t" in fields[0] else ""),
                                  line=number)
        keys.append(fields[0])
        rows.append(parse_numbers(path, number, fields, dim))
        if progress is not None and number % every == 0:
            progress(source.position(), source.size)
    return keys, rows, dim


def numbered_lines(source: Source, codec: KeyCodec) -> Iterator[tuple[int, bytes]]:
    """``(number, line)`` from 1, each read with a length limit; a UTF-8 byte-order mark is dropped."""
    lines = iter(functools.partial(source.stream.readline, MAX_LINE_BYTES + 1), b"")
    first = next(lines, b"")
    if codec.is_utf8:
        first = first.removeprefix(UTF8_BOM)
    return enumerate(itertools.chain([first], lines), start=1)


def read_header(path: Path, line: bytes) -> tuple[int, int]:
    """``(V, D)`` of a header line, or a FormatError at line 1."""
    header = parse_header(line)
    if header is None:
        raise FormatError(path, f"expected a header 'COUNT DIMS', found {shorten(line)}", line=1)
    if header[1] == 0:
        raise FormatError(path, "header says the vectors have 0 dimensions", line=1)
    if header[1] > MAX_DIM:
        raise FormatError(path, f"header says the vectors have {header[1]} dimensions (more than {MAX_DIM}: "
                                "a damaged header?)", line=1)
    return header


def split_line(path: Path, number: int, raw: bytes, codec: KeyCodec = UTF8) -> list[str] | None:
    """The space-separated fields of one line, or None for a blank line."""
    if len(raw) > MAX_LINE_BYTES:
        raise FormatError(path, f"line longer than {MAX_LINE_BYTES} bytes (not a text vector file?)", line=number)
    try:
        line = raw.decode(codec.encoding, codec.unicode_errors).rstrip()
    except UnicodeDecodeError as error:
        raise FormatError(path, f"bad {codec.label} at byte {error.start}: {error.reason} ({codec.hint()})",
                          line=number) from None
    if not line:
        return None
    fields = line.split(" ")
    if not fields[0] and raw.startswith(b" "):  # (a key of bytes that unicode_errors="ignore" dropped may be empty)
        raise FormatError(path, "empty key (the line starts with a space)", line=number)
    return fields


def parse_numbers(path: Path, number: int, fields: list[str], dim: int) -> np.ndarray:
    """The D finite numbers after the key, as float32 [D]."""
    if len(fields) != dim + 1:
        hint = TAB_HINT if any("\t" in field for field in fields) else ""
        raise FormatError(path, f"wrong field count: expected {dim + 1} (a key and {dim} numbers), "
                                f"found {len(fields)}{hint}", line=number)
    try:
        row = np.array(fields[1:], dtype=np.float32)  # beyond float32: inf (read_text silences the warning)
    except ValueError:
        bad = next((x for x in fields[1:] if not is_number(x)), " ".join(fields[1:]))
        raise FormatError(path, f"non-numeric value {shorten(bad)}", line=number) from None
    if not np.isfinite(row).all():
        raise FormatError(path, "NaN or infinite value (or a number too large for float32)", line=number)
    return row


def is_number(text: str) -> bool:
    """True when ``text`` parses as a float."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_no_more_lines(path: Path, number: int, raw: bytes, lines: Iterator, count: int) -> None:
    """After the header's ``count`` vectors only blank lines may follow."""
    for later, text in itertools.chain([(number, raw)], lines):
        if text.strip():
            raise FormatError(path, f"header count mismatch: header says {count} vectors, but more follow",
                              line=later)
