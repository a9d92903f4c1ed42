"""Writing word2vec files, binary or text (atomically: a temporary file renamed into place).

Text values use 9 significant digits, which round-trips float32 exactly; binary records are
``key + b" " + D little-endian float32``, as gensim and the C tool write them.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from embedspace.errors import InvalidInput
from runtime.files import atomic_file

BLOCK_ROWS = 4096  # rows formatted at a time


def write_word2vec(dest: str | os.PathLike, keys: list[str], vectors: np.ndarray, binary: bool,
                   progress=None) -> Path:
    """Write keys and vectors [V, D] as a word2vec binary or text file (atomically).

    ``progress(n)``, if given, is called with the number of rows written after each block.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from embedspace.io.formats import read_vectors
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "v.bin"
    >>> _ = write_word2vec(path, ["cat", "dog"], np.array([[1, 0.5], [0, 2]], np.float32), binary=True)
    >>> keys, vectors = read_vectors(path)
    >>> keys, vectors.tolist()
    (['cat', 'dog'], [[1.0, 0.5], [0.0, 2.0]])
    """
    for key in keys:
        if not key or any(c in key for c in " \n") or (not binary and key != key.strip()):
            raise InvalidInput(f"key {key!r} cannot be written in word2vec format (empty or holds whitespace)")
    count, dim = vectors.shape
    row_format = "%s " + " ".join(["%.9g"] * dim) + "\n"
    with atomic_file(dest) as handle:
        handle.write(f"{count} {dim}\n".encode())
        for start in range(0, count, BLOCK_ROWS):
            block = np.asarray(vectors[start:start + BLOCK_ROWS], dtype="<f4")
            chunk_keys = keys[start:start + BLOCK_ROWS]
            if binary:
                handle.write(b"".join(k.encode("utf-8") + b" " + row.tobytes() for k, row in zip(chunk_keys, block)))
            else:
                handle.write("".join(row_format % (k, *row) for k, row in zip(chunk_keys, block.tolist()))
                             .encode("utf-8"))
            if progress is not None:
                progress(len(block))
    return Path(dest)
