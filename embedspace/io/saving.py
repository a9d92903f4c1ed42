"""Writing a space: :func:`save_space` in the format a destination's suffix names (:func:`save_format`)."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from embedspace.errors import InvalidInput
from embedspace.io.formats import write_space_dir, write_word2vec
from embedspace.space import Space

SAVE_SUFFIXES = {".bin": "word2vec-bin", ".txt": "word2vec-txt", ".vec": "fasttext"}


def save_space(space: Space, dest: str | os.PathLike, progress: Callable[[int], None] | None = None) -> str:
    """Write ``space`` to ``dest``, in the format its suffix names; returns that format.

    ``.bin`` gives word2vec binary, ``.txt`` word2vec text, ``.vec`` fastText text; a path without a
    suffix (or an existing folder) gives a space folder, the cache format (reloaded as a memory map).
    Writes are atomic. ``progress(n)`` is called with the rows written so far, block by block.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from embedspace.io.loading import load_space
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> space = Space(["cat", "dog"], np.eye(2, dtype=np.float32))
    >>> save_space(space, folder / "small"), save_space(space, folder / "small.bin")
    ('space-folder', 'word2vec-bin')
    >>> load_space(folder / "small").index_to_key
    ['cat', 'dog']
    """
    dest = Path(dest)
    fmt = save_format(dest)
    if fmt == "space-folder":
        meta = {"origin": space.origin, "name": space.name, "count": len(space), "dim": space.dim}
        write_space_dir(dest, space.index_to_key, space.vectors, meta)
        if progress is not None:
            progress(len(space))
        return "space-folder"
    write_word2vec(dest, space.index_to_key, space.vectors, binary=fmt == "word2vec-bin", progress=progress)
    return fmt


def save_format(dest: str | os.PathLike) -> str:
    """The format :func:`save_space` writes to ``dest``, judged from its suffix.

    Raises
    ------
    InvalidInput
        For a suffix that names no format (``.bin``, ``.txt``, ``.vec``, or none for a space folder).

    Examples
    --------
    >>> save_format("vectors.bin"), save_format("my_space")
    ('word2vec-bin', 'space-folder')
    """
    dest = Path(dest)
    if dest.is_dir() or not dest.suffix:
        return "space-folder"
    if dest.suffix not in SAVE_SUFFIXES:
        raise InvalidInput(f"cannot tell the format of {dest}: use a suffix of {', '.join(SAVE_SUFFIXES)}, "
                           "or none for a space folder")
    return SAVE_SUFFIXES[dest.suffix]
