"""A whole space in one interactive page: every point, its word, and its nearest neighbours.

:func:`explore_view` projects the chosen rows of a space (all of them by default: no cap, no
sampling), or takes coordinates computed elsewhere as they are (:func:`read_coordinates`), and
stores with every point its ``topn`` nearest words in the original space
(:func:`embedspace.analysis.neighbours.nearest_neighbours`, the answers of ``embedspace neighbors``).

Examples
--------
>>> rng = np.random.default_rng(0)
>>> space = Space([f"w{i}" for i in range(50)], rng.normal(size=(50, 8)).astype(np.float32), name="demo")
>>> view = explore_view(space, topn=3)
>>> view.coords.shape, view.neighbours.indices.shape, view.neighbours.extra
((50, 3), (50, 3), [])
"""
from __future__ import annotations

import csv
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from embedspace.analysis.neighbours import nearest_neighbours
from embedspace.errors import FormatError, InvalidInput
from embedspace.io.text_format import is_number
from embedspace.space import Space
from embedspace.viz.interactive import NeighbourTable, ScatterView
from embedspace.viz.interactive_views import projection_details

log = logging.getLogger(__name__)

METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP", "axes": "named axes"}


@dataclass
class Coordinates:
    """Coordinates read from a file: ``keys`` [N], ``coords`` [N, 2|3], ``groups`` [N] or None."""

    keys: list[str]
    coords: np.ndarray
    groups: list[str] | None


def read_coordinates(path: str | os.PathLike) -> Coordinates:
    """Read ``key,x,y[,z][,group]`` rows (comma- or tab-separated, a header line optional).

    This is what ``embedspace plot --coords-csv`` writes, and what any tool's projection can be
    saved as. Bad rows raise :class:`~embedspace.errors.FormatError` naming the line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "xy.csv"
    >>> _ = path.write_text("key,x,y,group\\nking,1,2,royal\\nqueen,0.5,-1,royal\\n")
    >>> found = read_coordinates(path)
    >>> found.keys, found.coords.tolist(), found.groups
    (['king', 'queen'], [[1.0, 2.0], [0.5, -1.0]], ['royal', 'royal'])
    """
    with open(path, encoding="utf-8", newline="") as handle:
        lines = handle.read().splitlines()
    delimiter = "\t" if lines and "\t" in lines[0] else ","
    rows = [(number, row) for number, row in enumerate(csv.reader(lines, delimiter=delimiter), start=1) if row]
    if rows and not is_number(rows[0][1][1] if len(rows[0][1]) > 1 else ""):
        rows = rows[1:]  # a header line
    if not rows:
        raise FormatError(path, "no coordinates in the file")
    width = numeric_width(rows[0][1])
    if width not in (2, 3):
        raise FormatError(path, "expected key,x,y[,z][,group]: 2 or 3 numbers after each key", line=rows[0][0])
    keys, coords, groups = [], np.empty((len(rows), width), dtype=np.float32), []
    for i, (number, row) in enumerate(rows):
        if numeric_width(row) != width or len(row) > width + 2:
            raise FormatError(path, f"expected a key, {width} numbers and an optional group", line=number)
        keys.append(row[0])
        coords[i] = [float(v) for v in row[1 : 1 + width]]
        groups.append(row[1 + width].strip() if len(row) > 1 + width else "")
    if not np.all(np.isfinite(coords)):
        raise FormatError(path, "a coordinate is NaN or infinite")
    return Coordinates(keys, coords, groups if any(groups) else None)


def numeric_width(row: Sequence[str]) -> int:
    """How many fields after the key read as numbers, up to the first that does not."""
    count = 0
    for field in row[1:]:
        if not is_number(field):
            break
        count += 1
    return count


def page_neighbours(found, rows: np.ndarray, space: Space) -> NeighbourTable:
    """Neighbour rows of the space -> indices into the page's words (its points, then the extra words)."""
    position = np.full(len(space), -1, dtype=np.int64)
    position[rows] = np.arange(rows.size)
    valid = found.indices >= 0
    outside = np.unique(found.indices[valid & (position[np.maximum(found.indices, 0)] < 0)])  # [E] rows not shown
    position[outside] = rows.size + np.arange(outside.size)
    indices = np.where(valid, position[np.maximum(found.indices, 0)], -1)
    return NeighbourTable(indices, found.scores, [space.index_to_key[i] for i in outside])


def layout(space: Space, rows: np.ndarray, method: str, dims: int, axes: Sequence[str], seed: int,
           options: dict) -> tuple[np.ndarray, list[str], list[tuple[str, str]]]:
    """Coordinates [n, dims] of ``rows`` by ``method``, the axis names, and the method's details."""
    from embedspace.viz.projections import make_projection

    projection = make_projection(method, dims, axes=axes, space=space, random_state=seed, **options)
    coords = projection.fit_transform(space.vectors[rows])  # [n, D] -> [n, dims]
    return coords, projection.axis_labels(), projection_details(projection)


def explore_view(space: Space, words: Sequence[str] | None = None, groups: Sequence[str] | None = None,
                 method: str = "pca", dims: int = 3, axes: Sequence[str] = (), coords: Coordinates | None = None,
                 topn: int = 10, seed: int = 0, options: dict | None = None,
                 progress: Callable[[int, int], None] | None = None, view_id: str = "explore") -> ScatterView:
    """A whole space (or the given words) as one interactive view, with every point's neighbours.

    Parameters
    ----------
    space : Space
    words : sequence of str [N], optional
        The points (default: every key of the space, in its order).
    groups : sequence of str [N], optional
        A group per word: colours and a legend.
    method : {"pca", "tsne", "umap", "axes"}
        How to place the points (ignored when ``coords`` are given).
    dims : int
        2 or 3.
    axes : sequence of str
        With ``method="axes"``: one direction per coordinate (``"woman - man"``).
    coords : Coordinates, optional
        Precomputed coordinates, shown as they are; their keys are the points.
    topn : int
        Neighbours stored per point (0: none).
    seed : int
        For t-SNE and UMAP.
    options : dict, optional
        More parameters for the projection (``perplexity``, ``normalize``, ...).
    progress : callable(done, total), optional
        Called as the neighbour search goes.

    Returns
    -------
    ScatterView
        Every label written up to ``ALL_LABELS`` points, else on hover and selection; neighbours
        and the method's details in the page.
    """
    if coords is not None:
        words, groups = coords.keys, groups if groups is not None else coords.groups
    rows = np.arange(len(space)) if words is None else space.indices(words)  # an unknown word raises, naming it
    if len(np.unique(rows)) != rows.size:
        raise InvalidInput("a word is listed twice: every point must be a different word")
    if coords is not None:
        points, axis_labels = coords.coords, [f"given {c}" for c in "xyz"[: coords.coords.shape[1]]]
        details = [("method", "coordinates given as they are (--coords)")]
    else:
        points, axis_labels, details = layout(space, rows, method, dims, axes, seed, options or {})
    table = None
    if topn > 0:
        found = nearest_neighbours(space, rows, topn, progress=progress)
        table = page_neighbours(found, rows, space)
        among = f"by cosine among all {len(space):,} words of the space ({space.dim} dimensions)"
        details.append(("neighbours", f"{topn} per word, {among}"))
    every = "every word of the space, no sampling" if rows.size == len(space) else "the words given"
    details += [("points", f"{rows.size:,} ({every})"), ("space", f"{space.name}: {len(space):,} × {space.dim}")]
    name = "given coordinates" if coords is not None else METHOD_NAMES.get(method, method)
    title = f"{space.name}: {rows.size:,} words, {name}"
    return ScatterView(points, [space.index_to_key[i] for i in rows], groups=groups, title=title,
                       axis_labels=axis_labels, neighbours=table, details=details,
                       view_id=view_id)
