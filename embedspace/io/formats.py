"""Reading and writing vector files: word2vec binary and text, GloVe text, fastText ``.vec`` and ``.bin``.

Every reader returns ``(keys, vectors)``: a list of V unique keys and a float32 array [V, D], and
checks what it reads. A malformed file raises :class:`~embedspace.errors.FormatError` naming the file,
the line (text) or record (binary, counted from 1) and the fault. Duplicate keys keep their first
vector and log one warning. Only regular files are read (a FIFO or a device is refused), gzip,
bzip2 and xz files are decompressed on the fly, and no array is allocated before the file is known
to hold it.

Formats (``FORMATS``), detected from content by :func:`detect_format`:

``word2vec-bin``
    ``"V D\\n"``, then V records ``key + b" " + D little-endian float32``
    (:mod:`embedspace.io.word2vec_binary`).
``word2vec-txt`` / ``fasttext``
    ``"V D\\n"``, then V lines ``key x1 ... xD``. fastText's ``.vec`` is the same layout
    (:mod:`embedspace.io.text_format`).
``glove``
    Lines ``key x1 ... xD`` without a header line.
``fasttext-bin``
    fastText's native model: the vocabulary's vectors, each its word's row averaged with its
    character n-grams' rows (:mod:`embedspace.io.fasttext_bin`; vectors for other words:
    :mod:`embedspace.io.subwords`).
``gensim``
    gensim's native ``.kv`` / ``.model`` files: Python pickles, loaded only on request (see
    :mod:`embedspace.io.registry`).

Keys are decoded with ``encoding`` (default UTF-8) and ``unicode_errors`` ("strict", "replace" or
"ignore"), as gensim's ``load_word2vec_format`` takes them. Space folders (the cache's format):
:mod:`embedspace.io.space_folder`; writing word2vec files: :mod:`embedspace.io.writers`.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from embedspace.errors import FormatError, InvalidInput
from embedspace.io.checks import PROGRESS_EVERY, Allocate, KeyCodec, Progress, drop_duplicates, in_memory
from embedspace.io.detect import FORMATS, PICKLE_SUFFIXES, SNIFF_BYTES, TEXT_FORMATS, detect_format, format_of
from embedspace.io.space_folder import fill_space_dir, read_space_dir, reserved_memmap, write_space_dir
from embedspace.io.streams import open_source, read_head
from embedspace.io.subwords import read_fasttext_bin
from embedspace.io.text_format import read_text
from embedspace.io.word2vec_binary import read_word2vec_binary
from embedspace.io.writers import write_word2vec

__all__ = ["FORMATS", "PICKLE_SUFFIXES", "TEXT_FORMATS", "Allocate", "Progress", "detect_format", "fill_space_dir",
           "in_memory", "read_space_dir", "read_vectors", "reserved_memmap", "write_space_dir", "write_word2vec"]


def read_vectors(path: str | os.PathLike, fmt: str | None = None, limit: int | None = None,
                 allocate: Allocate = in_memory, progress: Progress | None = None, *,
                 encoding: str = "utf-8", unicode_errors: str = "strict") -> tuple[list[str], np.ndarray]:
    """Keys and float32 vectors [V, D] of a word2vec / GloVe / fastText file (first ``limit`` rows).

    Parameters
    ----------
    path : path
        A regular file, possibly gzip, bzip2 or xz compressed.
    fmt : str, optional
        One of ``FORMATS``; detected from the content when not given.
    limit : int, optional
        Read only the first ``limit`` keys.
    allocate : callable
        ``allocate(shape)`` makes the C-contiguous float32 array that binary readers fill: a memory
        map in the cache, for instance, so that the vectors reach the disk without a second copy.
    progress : callable, optional
        ``progress(done_bytes, total_bytes)``, called now and then while a large file is read
        (never for a small one).
    encoding, unicode_errors : str
        How keys are decoded (see :class:`~embedspace.io.checks.KeyCodec`).

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
    codec = KeyCodec(encoding, unicode_errors)
    if limit is not None and limit < 1:
        raise InvalidInput(f"limit must be a positive number of keys, got {limit}")
    if fmt is not None and fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    with open_source(path) as source:
        fmt = fmt or format_of(path, read_head(source, SNIFF_BYTES))
        if fmt == "word2vec-bin":
            keys, vectors = read_word2vec_binary(source, limit, allocate, progress, codec, PROGRESS_EVERY)
        elif fmt in TEXT_FORMATS:
            keys, vectors = read_text(source, header=fmt != "glove", limit=limit, progress=progress, codec=codec,
                                      every=PROGRESS_EVERY)
        elif fmt == "fasttext-bin":
            keys, vectors = read_fasttext_bin(source, limit, allocate, progress, codec)
        else:
            raise FormatError(path, "a gensim native file (a pickle), not a vector file; see load_space's trust_pickle")
    return drop_duplicates(path, keys, vectors)
