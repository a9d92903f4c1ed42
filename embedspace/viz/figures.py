"""Figures and files: a fresh axes off pyplot, saving by extension, the shared sizes and colours.

Every picture in :mod:`embedspace.viz` draws on an ``ax`` its caller gives or on :func:`new_axes`
(a :class:`matplotlib.figure.Figure` never registered with pyplot, so nothing needs a display), and
is saved with :func:`save_figure`; :func:`is_page_path` tells an interactive page's name from a picture's.
matplotlib is imported inside the functions.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from embedspace.errors import InvalidInput
from runtime.files import atomic_file

log = logging.getLogger(__name__)

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
DPI = 150
TITLE_SIZE = 13
LABEL_SIZE = 11
TEXT_SIZE = 9


def new_axes(ax=None, figsize: tuple[float, float] = (7.0, 5.5), projection: str | None = None):
    """``ax`` itself, or the axes of a fresh Figure (not registered with pyplot)."""
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, layout="constrained")
    return figure.add_subplot(projection=projection)


def is_page_path(path: str | os.PathLike) -> bool:
    """Whether ``path`` names an interactive page (``.html`` or ``.htm``) rather than a picture.

    Examples
    --------
    >>> is_page_path("royals.html"), is_page_path("royals.png")
    (True, False)
    """
    return Path(path).suffix.lower() in (".html", ".htm")


def save_figure(ax_or_fig, path: str | os.PathLike) -> Path:
    """Save the figure holding ``ax_or_fig`` to ``path``: PNG, SVG or PDF by extension.

    150 dpi for PNG, the whole figure (a tight bounding box for a figure without a layout engine);
    written atomically (a temporary file renamed into place), creating missing folders.

    Examples
    --------
    >>> import tempfile, os
    >>> ax = new_axes()
    >>> save_figure(ax, os.path.join(tempfile.mkdtemp(), "empty.svg")).suffix
    '.svg'
    """
    from matplotlib.figure import Figure

    path = Path(path)
    file_format = FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise InvalidInput(f"cannot save a figure as {path.name!r}: use a .png, .svg or .pdf file name")
    figure = ax_or_fig
    while not isinstance(figure, Figure):  # axes -> (sub)figure -> root figure
        figure = figure.figure
    # A figure of new_axes lays itself out (constrained layout) and its labels are re-placed at every
    # draw: saved as it is, it is drawn once. A "tight" bounding box would draw it twice (one draw to
    # measure, one to save; 0.46 against 0.37 s for 50 words) and could crop a label re-placed by the
    # second draw; it stays for figures without a layout of their own (a caller's axes).
    tight = "tight" if figure.get_layout_engine() is None else None
    with atomic_file(path, "wb") as out:
        figure.savefig(out, format=file_format, dpi=DPI, bbox_inches=tight, facecolor="white")
    log.info("saved %s", path)
    return path


def group_colours(groups: Sequence[str] | None, n: int) -> tuple[list, list[str | None]]:
    """A colour per point [n] and the distinct groups in order of first appearance."""
    from matplotlib import colormaps

    palette = colormaps["tab10"].colors
    if groups is None:
        return [palette[0]] * n, [None]
    if len(groups) != n:
        raise InvalidInput(f"{len(groups)} groups for {n} points")
    names = list(dict.fromkeys(groups))
    index = {name: i for i, name in enumerate(names)}
    return [palette[index[g] % len(palette)] for g in groups], names


def outline(width: float = 3.0) -> list:
    """Path effects that draw a thin white halo around text, so labels stay legible on points."""
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground="white")]
