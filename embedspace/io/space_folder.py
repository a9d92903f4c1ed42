"""Space folders: ``vectors.npy`` [V, D], ``vocab.txt`` (one key per line, row order) and ``meta.json``.

The cache's format, and that of the shipped ``data/word2vec``. float32 vectors load as a read-only
memory map (instant, whatever the size); other float dtypes (the shipped float16) become float32.
Folders are written atomically (:func:`runtime.files.atomic_folder`).
"""
from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import numpy as np

from embedspace.errors import FormatError, InvalidInput
from embedspace.io.streams import open_regular
from runtime.files import atomic_folder

FILES = ("vectors.npy", "vocab.txt", "meta.json")


def read_space_dir(folder: str | os.PathLike, limit: int | None = None,
                   unique: bool = False) -> tuple[list[str], np.ndarray, dict]:
    """Keys, vectors [V, D] and metadata of a space folder.

    Keys must be distinct (checked unless the caller vouches for them with ``unique``, as the cache
    does for the entries it wrote). Values are not checked: the vectors load as an instant map.

    Examples
    --------
    >>> import tempfile
    >>> folder = write_space_dir(Path(tempfile.mkdtemp()) / "s", ["a", "b"], np.eye(2, dtype=np.float32), {})
    >>> keys, vectors, meta = read_space_dir(folder)
    >>> keys, vectors.shape, type(vectors).__name__
    (['a', 'b'], (2, 2), 'memmap')
    """
    folder = Path(folder)
    path = folder / "vectors.npy"
    require_regular(path)
    try:
        vectors = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as error:  # noqa: BLE001 - numpy's header parser raises ValueError, SyntaxError, TokenError...
        raise FormatError(path, f"not a readable .npy array ({type(error).__name__}: {error})") from None
    if vectors.ndim != 2 or vectors.dtype.kind != "f" or 0 in vectors.shape:
        raise FormatError(path, f"expected a non-empty float [V, D] array, found {vectors.dtype} {vectors.shape}")
    keys = read_vocab(folder / "vocab.txt", vectors.shape[0])
    if not unique:
        check_distinct(folder / "vocab.txt", keys)
    vectors = vectors[:limit]
    if vectors.dtype != np.float32:
        vectors = np.asarray(vectors, dtype=np.float32)
    return keys[: len(vectors)], vectors, read_meta(folder / "meta.json")


def require_regular(path: Path) -> None:
    """Raise unless ``path`` is a regular file (FileNotFoundError when missing); never blocks."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise FormatError(path, "is not a regular file")


def read_vocab(path: Path, count: int) -> list[str]:
    """The keys of a vocab.txt file (one per line), which must number ``count``."""
    with open_regular(path) as handle:
        data = handle.read()
    try:
        keys = data.decode("utf-8").split("\n")
    except UnicodeDecodeError as error:
        raise FormatError(path, f"bad UTF-8 at byte {error.start}") from None
    if keys and keys[-1] == "":
        keys.pop()
    if len(keys) != count:
        raise FormatError(path, f"holds {len(keys)} keys but vectors.npy has {count} rows")
    return keys


def check_distinct(path: Path, keys: list[str]) -> None:
    """Raise naming the first key that ``keys`` repeats (with its line in vocab.txt)."""
    if len(dict.fromkeys(keys)) != len(keys):
        seen: set[str] = set()
        line, key = next((i, k) for i, k in enumerate(keys, start=1) if k in seen or seen.add(k))
        raise FormatError(path, f"key {key!r} appears a second time", line=line)


def read_meta(path: Path) -> dict:
    """The metadata of ``meta.json`` ({} when there is none)."""
    if not path.exists():
        return {}
    with open_regular(path) as handle:
        data = handle.read()
    try:
        meta = json.loads(data.decode("utf-8"))
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise FormatError(path, f"not readable JSON ({error})") from None
    if not isinstance(meta, dict):
        raise FormatError(path, "expected a JSON object")
    return meta


def write_space_dir(folder: str | os.PathLike, keys: list[str], vectors: np.ndarray, meta: dict) -> Path:
    """Write a space folder atomically (a temporary folder renamed into place); returns ``folder``."""
    folder = Path(folder)
    check_keys(keys)
    with atomic_folder(folder) as temporary:
        fill_space_dir(temporary, keys, vectors, meta)
    return folder


def check_keys(keys: list[str]) -> None:
    """Raise unless every key can be one line of vocab.txt."""
    if sum(key.count("\n") for key in keys):
        bad = next(key for key in keys if "\n" in key)
        raise InvalidInput(f"key {bad!r} holds a line break, which vocab.txt cannot store")


def fill_space_dir(temporary: Path, keys: list[str], vectors: np.ndarray, meta: dict) -> None:
    """Write vocab.txt, meta.json and (unless ``vectors`` already maps it) vectors.npy into ``temporary``."""
    check_keys(keys)
    target = temporary / "vectors.npy"
    if is_mapping_of(vectors, target):
        vectors.flush()
    else:
        np.save(target, np.asarray(vectors, dtype=np.float32), allow_pickle=False)
    (temporary / "vocab.txt").write_bytes(("\n".join(keys) + "\n" if keys else "").encode("utf-8"))
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
