"""Writing a space: :func:`save_space` in the format a destination's suffix names (:func:`save_format`).

:func:`check_destination` is what every writer of an output folder asks first (``convert``, the
word2vec and mini GPT training runs): a destination whose writing would lose something is refused.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from embedspace.errors import InvalidInput
from embedspace.io.formats import write_space_dir, write_word2vec
from embedspace.paths import is_within, shipped_folders
from embedspace.space import Space

SAVE_SUFFIXES = {".bin": "word2vec-bin", ".txt": "word2vec-txt", ".vec": "fasttext"}
SPACE_FOLDER_FILES = ("vectors.npy", "vocab.txt", "meta.json")  # a space folder, and the shipped format


class DestinationRefused(InvalidInput):
    """Writing there would lose something: shipped data, a source being read, or other files in the folder."""


def check_destination(dest: str | os.PathLike, keeps: Iterable[str] = SPACE_FOLDER_FILES,
                      reading: Iterable[str | os.PathLike] = (), shipped: bool = False) -> Path:
    """Refuse a destination whose writing would lose something; returns it.

    Refused: a path inside the shipped data (:func:`embedspace.paths.shipped_folders`, unless
    ``shipped``: the scripts that rebuild it); a path being read (``reading``), or a folder holding
    one; an existing folder holding anything but the files the writer puts there (``keeps``), since a
    folder is written whole and replaces the old one; a folder name where a file is.

    Raises
    ------
    DestinationRefused
        (an InvalidInput) Saying why, in one line.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "notes.txt").write_text("mine")
    4
    >>> check_destination(folder)
    Traceback (most recent call last):
    ...
    embedspace.io.saving.DestinationRefused: ... holds other files (notes.txt): it would be replaced whole; write to a new or empty folder
    """
    dest = Path(dest)
    if not shipped:
        check_not_shipped(dest)
    for source in reading:
        if Path(source).exists() and (is_within(dest, source) or is_within(source, dest)):
            raise DestinationRefused(f"{dest} is {'the source being read' if is_within(dest, source) else 'a folder holding the source'}"
                                     f" {source}: write somewhere else")
    if dest.is_dir():
        others = sorted(p.name for p in dest.iterdir() if p.name not in set(keeps))
        if others:
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            raise DestinationRefused(f"{dest} holds other files ({shown}): it would be replaced whole; "
                                     "write to a new or empty folder")
    return dest


def check_not_shipped(dest: str | os.PathLike) -> Path:
    """Refuse a destination inside the shipped data, or a folder holding it (:func:`embedspace.paths.shipped_folders`).

    Examples
    --------
    >>> from embedspace.paths import data_dir
    >>> check_not_shipped(data_dir() / "word2vec")
    Traceback (most recent call last):
    ...
    embedspace.io.saving.DestinationRefused: ... is inside the shipped data (...): write somewhere else
    """
    dest = Path(dest)
    for folder in shipped_folders():
        if is_within(dest, folder) or is_within(folder, dest):
            raise DestinationRefused(f"{dest} is {'inside ' if is_within(dest, folder) else 'a folder holding '}"
                                     f"the shipped data ({folder}): write somewhere else")
    return dest


def save_space(space: Space, dest: str | os.PathLike, progress: Callable[[int], None] | None = None,
               reading: Iterable[str | os.PathLike] = ()) -> str:
    """Write ``space`` to ``dest``, in the format its suffix names; returns that format.

    ``.bin`` gives word2vec binary, ``.txt`` word2vec text, ``.vec`` fastText text; a path without a
    suffix (or an existing folder) gives a space folder, the cache format (reloaded as a memory map).
    Writes are atomic. ``progress(n)`` is called with the rows written so far, block by block.
    A destination in the shipped data, one of the files ``reading`` names (the sources), or a folder
    holding other files is refused (:func:`check_destination`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from embedspace.catalog import load_space
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> space = Space(["cat", "dog"], np.eye(2, dtype=np.float32))
    >>> save_space(space, folder / "small"), save_space(space, folder / "small.bin")
    ('space-folder', 'word2vec-bin')
    >>> load_space(folder / "small").index_to_key
    ['cat', 'dog']
    """
    dest = Path(dest)
    fmt = save_format(dest)
    check_destination(dest, reading=reading)
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
