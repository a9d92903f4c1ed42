"""Reading and writing vector files: word2vec binary and text, GloVe text, fastText ``.vec``, space folders.

Every reader returns ``(keys, vectors)``: a list of V unique keys and a float32 array [V, D], and
checks what it reads. A malformed file raises :class:`~embedspace.errors.FormatError` naming the file,
the line (text) or record (binary, counted from 1) and the fault. Duplicate keys keep their first
vector and log one warning.

Formats (``FORMATS``), detected from content by :func:`detect_format`:

``word2vec-bin``
    ``"V D\\n"``, then V records ``key + b" " + D little-endian float32`` (an optional ``"\\n"`` after
    each vector, as the original C tool writes). Read straight into one numpy array (see
    :func:`read_binary_records`), several times faster than gensim's reader.
``word2vec-txt`` / ``fasttext``
    ``"V D\\n"``, then V lines ``key x1 ... xD``. fastText's ``.vec`` is the same layout.
``glove``
    Lines ``key x1 ... xD`` without a header line.
``gensim``
    gensim's native ``.kv`` / ``.model`` files: Python pickles, loaded only on request (see
    :mod:`embedspace.io.registry`).

A *space folder* holds ``vectors.npy`` [V, D], ``vocab.txt`` (one key per line, row order) and
``meta.json``: the cache format, and the format of the shipped ``data/word2vec``.

Writes are atomic: into a temporary file (or folder) beside the destination, then ``os.replace``.
"""
from __future__ import annotations

import errno
import json
import logging
import mmap
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from embedspace.errors import FormatError
from runtime.files import atomic_file

log = logging.getLogger(__name__)

FORMATS = ("word2vec-bin", "word2vec-txt", "glove", "fasttext", "gensim")
TEXT_FORMATS = ("word2vec-txt", "glove", "fasttext")
PICKLE_SUFFIXES = (".kv", ".model", ".pkl", ".pickle")
MAX_KEY_BYTES = 1 << 16  # a binary record's key longer than this is taken as a damaged file
PROGRESS_EVERY = 1 << 16  # rows between two calls of a reader's progress(done_bytes, total_bytes)
Progress = Callable[[int, int], None]
SNIFF_BYTES = 1 << 16


def in_memory(shape: tuple[int, int]) -> np.ndarray:
    """An uninitialised float32 array of ``shape`` (the default ``allocate`` of the readers)."""
    return np.empty(shape, dtype=np.float32)


# -- detection ------------------------------------------------------------------------------------
def detect_format(path: str | os.PathLike) -> str:
    """The format of a vector file, judged from its first bytes (and ``.vec`` for fastText).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "v.txt").write_text("cat 0.5 1.0\\ndog 1.0 0.5\\n")
    >>> detect_format(folder / "v.txt")
    'glove'
    >>> _ = (folder / "v.txt").write_text("2 2\\ncat 0.5 1.0\\ndog 1.0 0.5\\n")
    >>> detect_format(folder / "v.txt")
    'word2vec-txt'
    """
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head:
        raise FormatError(path, "empty file")
    if head.startswith(b"\x80") or path.suffix in PICKLE_SUFFIXES:
        return "gensim"
    first, _, rest = head.partition(b"\n")
    header = parse_header(first)
    if header is None:
        return "glove"
    if looks_like_text_record(rest.partition(b"\n")[0], header[1]):
        return "fasttext" if path.suffix == ".vec" else "word2vec-txt"
    return "word2vec-bin"


def parse_header(line: bytes) -> tuple[int, int] | None:
    """``(V, D)`` from a ``b"V D"`` header line, or None when the line is not a header."""
    fields = line.split()
    if len(fields) != 2 or not all(f.isdigit() for f in fields):
        return None
    return int(fields[0]), int(fields[1])


def looks_like_text_record(line: bytes, dim: int) -> bool:
    """True when ``line`` reads as ``key x1 ... x_dim`` in text."""
    try:
        fields = line.decode("utf-8").rstrip().split(" ")
        return len(fields) == dim + 1 and all(isinstance(float(x), float) for x in fields[1:])
    except ValueError:  # UnicodeDecodeError is a ValueError
        return False


# -- reading ----------------------------------------------------------------------------------------
def read_vectors(path: str | os.PathLike, fmt: str | None = None, limit: int | None = None,
                 allocate: Callable[[tuple[int, int]], np.ndarray] = in_memory,
                 progress: Progress | None = None) -> tuple[list[str], np.ndarray]:
    """Keys and float32 vectors [V, D] of a word2vec / GloVe / fastText file (first ``limit`` rows).

    The binary reader fills an array made by ``allocate(shape)`` (C-contiguous float32): a memory map
    in the cache, for instance, so that the vectors are written to disk without a second copy.
    ``progress(done_bytes, total_bytes)``, if given, is called every ``PROGRESS_EVERY`` rows of a
    large file (never for a small one).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "v.txt"
    >>> _ = path.write_text("2 3\\ncat 1 0 0\\ndog 0 1 0\\n")
    >>> keys, vectors = read_vectors(path)
    >>> keys, vectors.shape, vectors.dtype
    (['cat', 'dog'], (2, 3), dtype('float32'))
    """
    path = Path(path)
    fmt = fmt or detect_format(path)
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if fmt == "word2vec-bin":
        keys, vectors = read_word2vec_binary(path, limit, allocate, progress)
    elif fmt in TEXT_FORMATS:
        keys, vectors = read_text(path, header=fmt != "glove", limit=limit, progress=progress)
    elif fmt == "gensim":
        raise FormatError(path, "a gensim native file (a pickle), not a vector file; see load_space's trust_pickle")
    else:
        raise ValueError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    return drop_duplicates(path, keys, vectors)


def read_header(path: Path, line: bytes) -> tuple[int, int]:
    """``(V, D)`` of a header line, or a FormatError at line 1."""
    header = parse_header(line)
    if header is None:
        raise FormatError(path, f"expected a header 'COUNT DIMS', found {shorten(line)}", line=1)
    if header[1] == 0:
        raise FormatError(path, "header says the vectors have 0 dimensions", line=1)
    return header


def read_word2vec_binary(path: Path, limit: int | None = None,
                         allocate: Callable[[tuple[int, int]], np.ndarray] = in_memory,
                         progress: Progress | None = None) -> tuple[list[str], np.ndarray]:
    """Keys and vectors of a word2vec binary file (memory-mapped while read) into ``allocate(shape)``."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            raise FormatError(path, "empty file")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            count, dim = read_header(path, buf.readline())
            n = count if limit is None else min(count, limit)
            key_bytes, vectors = read_binary_records(path, buf, buf.tell(), n, count, dim, allocate, progress)
            keys = decode_keys(path, key_bytes)
    check_finite(path, vectors, where="record")
    return keys, vectors


def read_binary_records(path: Path, buf: mmap.mmap, start: int, n: int, count: int, dim: int,
                        allocate: Callable[[tuple[int, int]], np.ndarray] = in_memory,
                        progress: Progress | None = None) -> tuple[list[bytes], np.ndarray]:
    """The key bytes of the first ``n`` records, and their vectors [n, D] float32.

    One tight loop: ``find`` the space that ends each key, then copy the vector's bytes straight
    into the output array (no per-record numpy call, no parsing).
    """
    size, nbytes = len(buf), 4 * dim
    room = (size - start) // (nbytes + 1)  # a record takes more than nbytes bytes: no more fit
    if n > room:  # the file cannot hold them: read what is there to name the first bad record
        vectors = np.empty((room, dim), dtype=np.float32)
    else:
        vectors = allocate((n, dim))
    assert vectors.dtype == np.float32 and vectors.flags.c_contiguous
    keys: list[bytes] = []
    source, dest = memoryview(buf), memoryview(vectors.view(np.uint8).reshape(-1))
    find, position = buf.find, start
    try:
        for first in range(0, n, PROGRESS_EVERY):
            for i in range(first, min(n, first + PROGRESS_EVERY)):
                space = find(b" ", position, position + MAX_KEY_BYTES)
                end = space + 1 + nbytes
                if space < 0 or end > size:
                    raise binary_end_error(path, buf, position, i, count, nbytes)
                keys.append(buf[position:space])
                dest[i * nbytes:(i + 1) * nbytes] = source[space + 1:end]
                position = end
            if progress is not None and first + PROGRESS_EVERY < n:
                progress(position, size)
    finally:
        source.release()
        dest.release()
    if n == count and buf[position:].strip():
        raise FormatError(path, f"header count mismatch: header says {count} vectors, but more data follows "
                                f"record {count}", record=count + 1)
    if sys.byteorder == "big":
        vectors.byteswap(inplace=True)  # the file is little-endian
    return keys, vectors


def binary_end_error(path: Path, buf: mmap.mmap, position: int, i: int, count: int, nbytes: int) -> FormatError:
    """The error for a binary record that cannot be read whole: file too short, or damaged."""
    rest = buf[position:position + MAX_KEY_BYTES]
    if not rest.strip():
        return FormatError(path, f"header count mismatch: header says {count} vectors, file holds {i}", record=i + 1)
    if b" " not in rest:
        return FormatError(path, "truncated record: no space after the key", record=i + 1)
    found = len(buf) - position - rest.index(b" ") - 1
    return FormatError(path, f"truncated record: vector needs {nbytes} bytes, {found} left", record=i + 1)


def decode_keys(path: Path, key_bytes: list[bytes]) -> list[str]:
    """UTF-8 keys, leading newlines dropped (the C tool ends each vector with one).

    A key that is not UTF-8, is empty, or holds a line break is named by its record.
    """
    try:
        text = b" ".join(key_bytes).decode("utf-8")  # keys hold no spaces
    except UnicodeDecodeError:
        text = None
    if text is not None and "\n" not in text and "  " not in f" {text} ":  # the common case, at C speed
        return text.split(" ") if key_bytes else []
    if text is not None:
        keys = [key.lstrip("\n") for key in text.split(" ")]
        if all(key and "\n" not in key for key in keys):
            return keys
    for record, raw in enumerate(key_bytes, start=1):
        try:
            key = raw.decode("utf-8").lstrip("\n")
        except UnicodeDecodeError as error:
            raise FormatError(path, f"bad UTF-8 in key {shorten(raw)}: {error.reason}", record=record) from None
        if not key or "\n" in key:
            raise FormatError(path, f"bad key {shorten(raw)}: empty or holds a line break", record=record)
    raise AssertionError("unreachable: some key failed to decode")


def read_text(path: Path, header: bool, limit: int | None = None,
              progress: Progress | None = None) -> tuple[list[str], np.ndarray]:
    """Keys and vectors of a text file: word2vec / fastText (``header``) or GloVe (no header)."""
    keys: list[str] = []
    rows: list[np.ndarray] = []
    count = dim = None
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        lines = enumerate(handle, start=1)
        if header:
            first = next(lines, (1, b""))[1]
            if not first:
                raise FormatError(path, "empty file")
            count, dim = read_header(path, first)
        wanted = count if limit is None else limit if count is None else min(count, limit)
        for number, raw in lines:
            if wanted is not None and len(keys) == wanted:
                if wanted == count:  # all the header promised is read: only blank lines may follow
                    check_no_more_lines(path, number, raw, lines, count)
                break
            fields = split_line(path, number, raw)
            if fields is None:
                continue
            dim = dim if dim is not None else len(fields) - 1
            keys.append(fields[0])
            rows.append(parse_numbers(path, number, fields, dim))
            if progress is not None and number % PROGRESS_EVERY == 0:
                progress(handle.tell(), size)
    if not keys and count is None:
        raise FormatError(path, "empty file" if dim is None else "no vectors in file")
    if count is not None and len(keys) < (count if limit is None else min(count, limit)):
        raise FormatError(path, f"header count mismatch: header says {count} vectors, file holds {len(keys)}")
    vectors = np.vstack(rows) if rows else np.empty((0, dim or 0), dtype=np.float32)
    return keys, vectors


def split_line(path: Path, number: int, raw: bytes) -> list[str] | None:
    """The space-separated fields of one line, or None for a blank line."""
    try:
        line = raw.decode("utf-8").rstrip()
    except UnicodeDecodeError as error:
        raise FormatError(path, f"bad UTF-8 at byte {error.start}: {error.reason}", line=number) from None
    if not line:
        return None
    fields = line.split(" ")
    if not fields[0]:
        raise FormatError(path, "empty key (the line starts with a space)", line=number)
    return fields


def parse_numbers(path: Path, number: int, fields: list[str], dim: int) -> np.ndarray:
    """The D finite numbers after the key, as float32 [D]."""
    if len(fields) != dim + 1:
        raise FormatError(path, f"wrong field count: expected {dim + 1} (a key and {dim} numbers), "
                                f"found {len(fields)}", line=number)
    try:
        row = np.array(fields[1:], dtype=np.float32)
    except ValueError:
        bad = next((x for x in fields[1:] if not is_number(x)), " ".join(fields[1:]))
        raise FormatError(path, f"non-numeric value {shorten(bad)}", line=number) from None
    if not np.isfinite(row).all():
        raise FormatError(path, "NaN or infinite value", line=number)
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
    for later, text in [(number, raw), *lines]:
        if text.strip():
            raise FormatError(path, f"header count mismatch: header says {count} vectors, but more follow",
                              line=later)


def check_finite(path: Path, vectors: np.ndarray, where: str) -> None:
    """Raise naming the first row (``where`` = "line" or "record", counted from 1) with NaN or inf."""
    for start in range(0, len(vectors), 1 << 16):
        finite = np.isfinite(vectors[start:start + (1 << 16)]).all(axis=1)
        if not finite.all():
            row = start + int(np.argmin(finite)) + 1
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


def shorten(value: bytes | str, width: int = 30) -> str:
    """A short printable form of a field for an error message."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


# -- space folders ----------------------------------------------------------------------------------
def read_space_dir(folder: str | os.PathLike, limit: int | None = None) -> tuple[list[str], np.ndarray, dict]:
    """Keys, vectors [V, D] and metadata of a space folder.

    float32 vectors stay a read-only memory map; other dtypes (the shipped float16) become float32.
    """
    folder = Path(folder)
    try:
        vectors = np.load(folder / "vectors.npy", mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, OSError) as error:
        raise FormatError(folder / "vectors.npy", f"not a readable .npy array ({error})") from None
    if vectors.ndim != 2 or vectors.dtype.kind != "f":
        raise FormatError(folder / "vectors.npy", f"expected a float [V, D] array, found {vectors.dtype} "
                                                  f"{vectors.shape}")
    keys = read_vocab(folder / "vocab.txt", vectors.shape[0])
    vectors = vectors[:limit]
    if vectors.dtype != np.float32:
        vectors = np.asarray(vectors, dtype=np.float32)
    meta_path = folder / "meta.json"
    meta = json.loads(meta_path.read_text("utf-8")) if meta_path.is_file() else {}
    return keys[: len(vectors)], vectors, meta


def read_vocab(path: Path, count: int) -> list[str]:
    """The keys of a vocab.txt file (one per line), which must number ``count``."""
    try:
        keys = path.read_bytes().decode("utf-8").split("\n")
    except UnicodeDecodeError as error:
        raise FormatError(path, f"bad UTF-8 at byte {error.start}") from None
    if keys and keys[-1] == "":
        keys.pop()
    if len(keys) != count:
        raise FormatError(path, f"holds {len(keys)} keys but vectors.npy has {count} rows")
    return keys


def write_space_dir(folder: str | os.PathLike, keys: list[str], vectors: np.ndarray, meta: dict) -> Path:
    """Write a space folder atomically (a temporary folder renamed into place); returns ``folder``."""
    folder = Path(folder)
    temporary = temporary_dir_beside(folder)
    try:
        fill_space_dir(temporary, keys, vectors, meta)
        replace_dir(temporary, folder)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return folder


def temporary_dir_beside(folder: Path) -> Path:
    """A new empty folder in ``folder``'s parent (created if needed), to be renamed onto ``folder``."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))


def fill_space_dir(temporary: Path, keys: list[str], vectors: np.ndarray, meta: dict) -> None:
    """Write vocab.txt, meta.json and (unless ``vectors`` already maps it) vectors.npy into ``temporary``."""
    vocab = "\n".join(keys)
    if vocab.count("\n") != max(len(keys) - 1, 0):
        raise ValueError("a key holds a line break, which vocab.txt cannot store")
    target = temporary / "vectors.npy"
    if is_mapping_of(vectors, target):
        vectors.flush()
    else:
        np.save(target, np.asarray(vectors, dtype=np.float32), allow_pickle=False)
    (temporary / "vocab.txt").write_bytes((vocab + "\n" if keys else "").encode("utf-8"))
    (temporary / "meta.json").write_text(json.dumps(meta, indent=2), "utf-8")


def is_mapping_of(vectors: np.ndarray, path: Path) -> bool:
    """True when ``vectors`` is the whole float32 array that the .npy file ``path`` holds, memory-mapped."""
    if not isinstance(vectors, np.memmap) or vectors.filename is None or not path.is_file():
        return False
    if vectors.dtype != np.float32 or os.path.abspath(vectors.filename) != os.path.abspath(path):
        return False
    on_disk = np.load(path, mmap_mode="r")
    return on_disk.shape == vectors.shape and vectors.offset == on_disk.offset and vectors.flags.c_contiguous


def reserved_memmap(path: Path, shape: tuple[int, int]) -> np.memmap:
    """A new float32 .npy file of ``shape``, mapped for writing, its disk space reserved up front.

    Reserving (``posix_fallocate``) turns a full disk into an OSError here rather than a crash
    (SIGBUS) while the map is written.
    """
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
    if hasattr(os, "posix_fallocate"):
        descriptor = os.open(path, os.O_RDWR)
        try:
            os.posix_fallocate(descriptor, 0, os.path.getsize(path))
        except OSError as error:
            if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
        finally:
            os.close(descriptor)
    return array


def replace_dir(source: Path, dest: Path) -> None:
    """Move folder ``source`` to ``dest``, replacing an older ``dest`` (each step a rename)."""
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old.", dir=dest.parent))
        os.replace(dest, old / "space")
        shutil.rmtree(old, ignore_errors=True)
    try:
        os.replace(source, dest)
    except OSError:  # another process put its copy there first: keep that one
        log.debug("%s appeared meanwhile; keeping it", dest)


# -- writing word2vec files ------------------------------------------------------------------------
def write_word2vec(dest: str | os.PathLike, keys: list[str], vectors: np.ndarray, binary: bool,
                   progress=None) -> Path:
    """Write keys and vectors [V, D] as a word2vec binary or text file (atomically).

    Text values use 9 significant digits, which round-trips float32 exactly. ``progress(n)``,
    if given, is called with the number of rows written after each block.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "v.bin"
    >>> _ = write_word2vec(path, ["cat", "dog"], np.array([[1, 0.5], [0, 2]], np.float32), binary=True)
    >>> keys, vectors = read_vectors(path)
    >>> keys, vectors.tolist()
    (['cat', 'dog'], [[1.0, 0.5], [0.0, 2.0]])
    """
    for key in keys:
        if not key or any(c in key for c in " \n") or (not binary and key != key.strip()):
            raise ValueError(f"key {key!r} cannot be written in word2vec format (empty or holds whitespace)")
    count, dim = vectors.shape
    row_format = "%s " + " ".join(["%.9g"] * dim) + "\n"
    with atomic_file(dest) as handle:
        handle.write(f"{count} {dim}\n".encode())
        step = 4096
        for start in range(0, count, step):
            block = np.asarray(vectors[start:start + step], dtype="<f4")
            chunk_keys = keys[start:start + step]
            if binary:
                handle.write(b"".join(k.encode("utf-8") + b" " + row.tobytes() for k, row in zip(chunk_keys, block)))
            else:
                handle.write("".join(row_format % (k, *row) for k, row in zip(chunk_keys, block.tolist()))
                             .encode("utf-8"))
            if progress is not None:
                progress(len(block))
    return Path(dest)
