"""Files for the TensorFlow Embedding Projector, and projected coordinates as CSV.

The Projector (https://projector.tensorflow.org, "Load") reads two tab-separated files:

- ``vectors.tsv``: one vector per line, values separated by tabs, **no header**;
- ``metadata.tsv``: one line per vector, in the same order; a single column has **no header**,
  several columns have **one header line** naming them.

A cell may hold neither a tab nor a line break (either would shift every later row), so such
characters are written as the two-character escapes ``\\t``, ``\\n`` and ``\\r``, and a backslash as
``\\\\`` (so that a key holding a tab and one holding a backslash and a ``t`` stay apart). The Projector
skips blank lines, which would shift every later label: a key that is empty or only whitespace
(spaces, NBSP, U+3000, ...) is written with each character as a ``\\uXXXX`` escape, and an empty
one as ``\\empty``.

The Projector shows PCA, t-SNE and UMAP but cannot save the coordinates it computes;
:func:`write_coordinates_csv` writes ours (``key,x,y[,z],group``).

Every file is written atomically: to a temporary file beside it, then renamed into place.
"""
from __future__ import annotations

import csv
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from embedspace.space import Space
from runtime.files import atomic_file

log = logging.getLogger(__name__)

ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}  # the backslash first
EMPTY = "\\empty"  # an empty cell: a blank line would be skipped
VECTOR_FORMAT = "%.7g"  # float32 keeps about 7 significant digits
BLOCK_ROWS = 4096  # rows formatted at a time (memory stays small; progress is reported per block)

Progress = Callable[[int], None]  # progress(rows just written)


def escape_key(key: str) -> str:
    """``key`` as one TSV cell the Projector reads back one-to-one (see the module docstring).

    Examples
    --------
    >>> print(escape_key("new\\tyork"), escape_key("C:\\\\tmp"), escape_key("\\u3000"), escape_key(""))
    new\\tyork C:\\\\tmp \\u3000 \\empty
    """
    if not key.strip():
        return "".join(f"\\u{ord(char):04x}" for char in key) or EMPTY
    return escape_cell(key)


def escape_cell(text: str) -> str:
    """``text`` with backslashes, tabs and line breaks escaped (any column but the keys' own).

    Examples
    --------
    >>> print(escape_cell("a\\tb"), repr(escape_cell("")))
    a\\tb ''
    """
    for char, escape in ESCAPES.items():
        text = text.replace(char, escape)
    return text


def write_vectors_tsv(path: str | os.PathLike, vectors: np.ndarray, progress: Progress | None = None) -> Path:
    """``vectors`` [N, D] as tab-separated floats, one row per line, no header.

    ``progress(rows)`` is called after each block of rows with the number just written.
    """
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] == 0:
        raise ValueError(f"expected a non-empty [N, D] array of vectors, got shape {vectors.shape}")
    with atomic_file(path, "w") as out:
        for start in range(0, vectors.shape[0], BLOCK_ROWS):
            block = vectors[start:start + BLOCK_ROWS]  # [B, D]
            if not np.all(np.isfinite(block)):
                raise ValueError("the vectors contain NaN or infinite values, which the Projector cannot read")
            np.savetxt(out, block, fmt=VECTOR_FORMAT, delimiter="\t")
            if progress is not None:
                progress(block.shape[0])
    return Path(path)


def write_metadata_tsv(path: str | os.PathLike, columns: dict[str, Sequence[str]]) -> Path:
    """Metadata lines for the Projector: ``columns`` maps a column name to one value per vector.

    A single column is written without a header (the Projector's rule); several get a header line.
    The first column holds the keys (:func:`escape_key`); the others are escaped by :func:`escape_cell`.
    """
    if not columns:
        raise ValueError("metadata needs at least one column")
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"metadata columns differ in length: {lengths}")
    rows = zip(*columns.values())
    with atomic_file(path, "w") as out:
        if len(columns) > 1:
            out.write("\t".join(escape_cell(name) for name in columns) + "\n")
        for key, *rest in rows:  # the first column holds the keys
            out.write("\t".join([escape_key(str(key)), *(escape_cell(str(value)) for value in rest)]) + "\n")
    return Path(path)


def export_projector(space: Space, directory: str | os.PathLike, limit: int | None = None,
                     words: Sequence[str] | None = None, groups: Sequence[str] | None = None,
                     progress: Progress | None = None) -> tuple[Path, Path]:
    """Write ``vectors.tsv`` and ``metadata.tsv`` of ``space`` into ``directory``.

    Parameters
    ----------
    space : Space
    directory : path
        Created if missing.
    limit : int, optional
        Only the first ``limit`` keys (the most frequent, in frequency-ordered spaces);
        applied after ``words``.
    words : sequence of str, optional
        Export these keys, in this order, instead of the whole vocabulary (an unknown one raises).
    groups : sequence of str, optional
        One label per exported key; adds a second metadata column (and so a header line).
    progress : callable, optional
        ``progress(rows)`` after each block of vectors written.

    Returns
    -------
    (vectors_path, metadata_path)

    Examples
    --------
    >>> import tempfile
    >>> space = Space(["cat", "dog"], np.array([[1, 0.5], [0.25, 2]], dtype=np.float32))
    >>> vectors, metadata = export_projector(space, tempfile.mkdtemp())
    >>> vectors.read_text(), metadata.read_text()
    ('1\\t0.5\\n0.25\\t2\\n', 'cat\\ndog\\n')
    """
    keys = list(space.index_to_key) if words is None else list(words)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        keys = keys[:limit]
    if not keys:
        raise ValueError("nothing to export: no words given")
    if groups is not None and len(groups) < len(keys):
        raise ValueError(f"{len(groups)} groups for {len(keys)} words")
    rows = space.vectors[:len(keys)] if words is None else space[keys]  # [N, D]
    directory = Path(directory)
    vectors_path = write_vectors_tsv(directory / "vectors.tsv", rows, progress)
    columns = {"word": keys} if groups is None else {"word": keys, "group": list(groups)[:len(keys)]}
    metadata_path = write_metadata_tsv(directory / "metadata.tsv", columns)
    log.info("wrote %d vectors of %d dimensions to %s", len(keys), rows.shape[1], directory)
    return vectors_path, metadata_path


def write_coordinates_csv(path: str | os.PathLike, keys: Sequence[str], coords: np.ndarray,
                          groups: Sequence[str] | None = None) -> Path:
    """Projected coordinates as CSV with the header ``key,x,y[,z],group``.

    ``coords`` is [N, 2] or [N, 3]; ``group`` is empty when no groups are given.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "xy.csv")
    >>> print(write_coordinates_csv(path, ["king", "queen"], np.array([[1.0, 2.0], [0.5, -1.0]])).read_text())
    key,x,y,group
    king,1,2,
    queen,0.5,-1,
    <BLANKLINE>
    """
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] not in (2, 3):
        raise ValueError(f"coordinates must be [N, 2] or [N, 3], got shape {coords.shape}")
    if len(keys) != coords.shape[0]:
        raise ValueError(f"{len(keys)} keys but {coords.shape[0]} rows of coordinates")
    if groups is not None and len(groups) != len(keys):
        raise ValueError(f"{len(groups)} groups for {len(keys)} keys")
    header = ["key", *"xyz"[: coords.shape[1]], "group"]
    with atomic_file(path, "w") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for i, key in enumerate(keys):
            writer.writerow([key, *(f"{v:.7g}" for v in coords[i]), "" if groups is None else groups[i]])
    return Path(path)
