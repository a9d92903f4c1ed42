"""Interactive views in one offline HTML file: rotatable 3D (WebGL) scatter views and 2D charts.

A :class:`ScatterView` (points, words, groups, arrows, markers, neighbours, and the projection's
method and parameters) or a chart (:mod:`embedspace.viz.interactive_charts`) becomes HTML with
:func:`view_fragment`; :func:`page_script` gives what every page needs once (the style, regl and
our viewer, all inline); :func:`page_html` / :func:`write_page` make a whole page.

Nothing is fetched from the network: the scripts ship inside this package (``assets/``: regl 2.1.1,
MIT, vendored as published on npm, and ``viewer.js``), and a page's Content-Security-Policy forbids
any request. Points travel as base64 float32 arrays, words as JSON text escaped for a ``<script>``
element (``<``, ``>``, ``&``, U+2028 and U+2029 become ``\\uXXXX``), and the viewer puts words on
screen through ``textContent`` only: a word such as ``</script><b>`` stays a word.

Examples
--------
>>> view = ScatterView(np.array([[0, 0, 0], [1, 1, 0], [1, 0, 1.0]]), ["cat", "dog", "car"],
...                    groups=["animal", "animal", "thing"], title="three words", view_id="demo")
>>> html = page_html([view], title="demo")
>>> html.count("createREGL=") == 1, 'id="demo"' in html, "three words" in html
(True, True, True)
"""
from __future__ import annotations

import base64
import html
import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from embedspace.errors import InvalidInput
from embedspace.viz.figures import is_page_path
from embedspace.viz.interactive_charts import chart_fragment
from embedspace.viz.page_parts import GREY, PALETTE, check_view_id, details_list, group_table, head
from runtime.files import atomic_file

log = logging.getLogger(__name__)

ALL_LABELS = 300  # up to this many points every word is written beside its point, as in the pictures
DEFAULT_HEIGHT = 560  # CSS pixels of a view's drawing area
CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
       "img-src data:")  # regl compiles its draw calls with Function(): hence 'unsafe-eval'
HINT_3D = "drag: rotate · shift-drag: pan · wheel: zoom · click: select · double-click: reset"
HINT_2D = "drag: pan · wheel: zoom · click: select · double-click: reset"


@dataclass(frozen=True)
class Arrow:
    """An arrow from ``start`` to ``end`` (data coordinates [dims]), listed in the legend by ``label``."""

    start: Sequence[float]
    end: Sequence[float]
    colour: str = GREY  # a CSS colour; PALETTE[i] for the i-th group's colour
    dashed: bool = False
    label: str = ""


@dataclass(frozen=True)
class Marker:
    """A star at ``at`` (data coordinates [dims]) with a label: e.g. the point king - man + woman."""

    at: Sequence[float]
    label: str


@dataclass
class NeighbourTable:
    """Each point's nearest words in the original space, as computed by embedspace.

    ``indices`` [N, k] index the view's labels followed by ``extra`` (neighbours that are not points
    of the view); -1 marks an empty slot. ``scores`` [N, k] are their cosines.
    """

    indices: np.ndarray
    scores: np.ndarray
    extra: Sequence[str] = ()


@dataclass
class ScatterView:
    """One interactive scatter view: 2D (pan and zoom) or 3D (rotate, pan and zoom).

    Parameters
    ----------
    coords : ndarray [N, 2] or [N, 3]
    labels : sequence of str [N]
        The words; each is searchable, shown on hover, and written beside its point when
        ``show_labels`` says so.
    groups : sequence of str [N], optional
        One colour per group (matplotlib's tab10, in order of first appearance) and a legend
        whose entries hide and show their group.
    title, caption : str
    axis_labels : sequence of str, optional
        Names of the axes (``"woman - man"``, ``"PC1 (41%)"``), written along them.
    arrows, markers : sequences of :class:`Arrow` and :class:`Marker`
    neighbours : NeighbourTable, optional
        Listed when a point is clicked or searched, with a switch that isolates them.
    details : sequence of (str, str)
        The projection's method and parameters, written in the page.
    show_labels : {"auto", "all", "hover"}
        ``"auto"``: every label up to :data:`ALL_LABELS` points, else on hover and selection.
    camera : dict, optional
        The first view, ``{"azimuth": degrees, "elevation": degrees, "fit": bool}`` (elevation 90
        looks down the third axis; ``fit`` zooms until the data's box fills the first view).
    view_id : str
        The element id; unique within a page.
    """

    coords: np.ndarray
    labels: Sequence[str]
    groups: Sequence[str] | None = None
    title: str = ""
    caption: str = ""
    axis_labels: Sequence[str] | None = None
    arrows: Sequence[Arrow] = ()
    markers: Sequence[Marker] = ()
    neighbours: NeighbourTable | None = None
    details: Sequence[tuple[str, str]] = ()
    show_labels: str = "auto"
    camera: dict | None = None
    view_id: str = "es-view"
    legend: list[tuple[str, str]] = field(init=False, default_factory=list)  # (name, colour), filled by check

    def __post_init__(self) -> None:
        self.coords = check_coords(self.coords, len(self.labels))
        self.labels = [str(label) for label in self.labels]
        if self.groups is not None and len(self.groups) != len(self.labels):
            raise InvalidInput(f"{len(self.groups)} groups for {len(self.labels)} points")
        if self.show_labels not in ("auto", "all", "hover"):
            raise InvalidInput(f"show_labels must be 'auto', 'all' or 'hover', got {self.show_labels!r}")
        check_view_id(self.view_id)
        if self.neighbours is not None:
            check_neighbours(self.neighbours, len(self.labels))

    @property
    def dims(self) -> int:
        """2 or 3."""
        return self.coords.shape[1]


def check_coords(coords, n: int) -> np.ndarray:
    """``coords`` as float32 [n, 2|3] with finite values; InvalidInput otherwise."""
    coords = np.asarray(coords, dtype=np.float32)
    if coords.ndim != 2 or coords.shape[1] not in (2, 3):
        raise InvalidInput(f"coordinates must be [N, 2] or [N, 3], got shape {coords.shape}")
    if coords.shape[0] != n:
        raise InvalidInput(f"{n} labels for {coords.shape[0]} points")
    if not np.all(np.isfinite(coords)):
        raise InvalidInput("the coordinates contain NaN or infinite values")
    return coords


def check_neighbours(table: NeighbourTable, n: int) -> None:
    """Shapes [n, k] and indices within the labels and the extra words."""
    indices, scores = np.asarray(table.indices), np.asarray(table.scores)
    if indices.ndim != 2 or indices.shape[0] != n or scores.shape != indices.shape:
        raise InvalidInput(f"neighbours must be [N, k] indices and scores for N = {n}, "
                           f"got {indices.shape} and {scores.shape}")
    if indices.size and (indices.min() < -1 or indices.max() >= n + len(table.extra)):
        raise InvalidInput("a neighbour index points past the words of the view")


# -- encoding ---------------------------------------------------------------------------------------------
def b64(array: np.ndarray, dtype: str) -> str:
    """The little-endian bytes of ``array`` as ``dtype`` (``"<f4"``, ``"<i4"``, ``"u1"``, ``"<u2"``), in base64.

    Examples
    --------
    >>> b64(np.array([1.0]), "<f4")
    'AACAPw=='
    """
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


LONE_SURROGATE = re.compile("[\ud800-\udfff]")
SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(payload) -> str:
    """``payload`` as JSON that is safe inside a ``<script>`` element, and valid UTF-8.

    ``<``, ``>``, ``&``, U+2028 and U+2029 (found only inside JSON strings) and lone surrogates
    become ``\\uXXXX`` escapes, so no word can end the element or break the file's encoding.

    Examples
    --------
    >>> script_json({"w": "</script>"})
    '{"w":"\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = re.sub("[<>&\u2028\u2029]", lambda m: SCRIPT_UNSAFE[m.group()], text)
    return LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def scatter_payload(view: ScatterView) -> dict:
    """What the viewer reads: arrays in base64, words and names as text."""
    n = len(view.labels)
    codes, names, colours = group_table(view.groups, n)
    shown = "all" if view.show_labels == "all" or (view.show_labels == "auto" and n <= ALL_LABELS) else "hover"
    payload = {"dims": view.dims, "n": n, "coords": b64(view.coords, "<f4"), "words": list(view.labels),
               "colour": PALETTE[0], "axes": list(view.axis_labels or default_axes(view.dims)), "labels": shown,
               "arrows": [{"start": point(a.start, view.dims), "end": point(a.end, view.dims), "colour": a.colour,
                           "dashed": a.dashed} for a in view.arrows],
               "markers": [{"at": point(m.at, view.dims), "label": m.label} for m in view.markers],
               "view": view.camera or {}}
    if codes is not None:
        payload["groups"] = {"names": names, "colours": colours,
                             "index": b64(codes, "u1" if len(names) <= 255 else "<u2")}
    if view.neighbours is not None:
        table = view.neighbours
        payload["words"] += [str(w) for w in table.extra]
        payload["neighbours"] = {"k": int(np.asarray(table.indices).shape[1]), "index": b64(table.indices, "<i4"),
                                 "score": b64(table.scores, "<f4")}
    return payload


def default_axes(dims: int) -> list[str]:
    """``["dimension 1", ...]``, as the pictures name unnamed axes."""
    return [f"dimension {i + 1}" for i in range(dims)]


def point(values: Sequence[float], dims: int) -> list[float]:
    """A data point as a list of ``dims`` finite floats; InvalidInput otherwise."""
    values = [float(v) for v in values]
    if len(values) != dims or not all(np.isfinite(values)):
        raise InvalidInput(f"a point of a {dims}-D view needs {dims} finite coordinates, got {values}")
    return values


# -- HTML ---------------------------------------------------------------------------------------------------
def asset(name: str) -> str:
    """The text of ``assets/NAME`` (package data, so a built wheel carries it)."""
    return resources.files("embedspace.viz").joinpath("assets", name).read_text(encoding="utf-8")


def page_script() -> str:
    """What every page with views needs once: the style, regl (vendored, MIT) and the viewer, inline.

    Put it once in a page (in ``<head>`` or after the views); every :func:`view_fragment` on the
    page then comes alive. A report with many figures includes it once, not once per figure.

    Examples
    --------
    >>> shared = page_script()
    >>> shared.startswith("<style>"), shared.count("<script>"), "http" in shared.split("createREGL")[0]
    (True, 2, False)
    """
    return (f"<style>{asset('viewer.css')}</style>\n<script>{asset('regl.min.js')}</script>\n"
            f"<script>{asset('viewer.js')}</script>")


def view_fragment(view, height: int = DEFAULT_HEIGHT) -> str:
    """One view (a :class:`ScatterView` or a chart) as an HTML fragment, without the shared script.

    The fragment is a ``<div class="es-view">`` with the view's data inside it; it draws itself once
    :func:`page_script` is on the page.

    Examples
    --------
    >>> view = ScatterView(np.eye(3), ["a", "b", "c"], title="<b>three</b>", view_id="v1")
    >>> fragment = view_fragment(view)
    >>> fragment.startswith('<div class="es-view" id="v1"'), "&lt;b&gt;three" in fragment
    (True, True)
    """
    if isinstance(view, ScatterView):
        return scatter_fragment(view, height)
    return chart_fragment(view, height)


def legend_list(view: ScatterView) -> str:
    """Groups (click to hide or show), then the arrows and markers."""
    _, names, colours = group_table(view.groups, len(view.labels))
    items = [f'<li data-group="{i}"><span class="es-swatch" style="background:{colour}"></span>'
             f"{html.escape(name)}</li>" for i, (name, colour) in enumerate(zip(names, colours))]
    items += [f'<li class="es-static"><span class="es-swatch" style="background:{html.escape(a.colour)};'
              f'border-radius:0;height:3px"></span>{html.escape(a.label)}</li>' for a in view.arrows if a.label]
    items += [f'<li class="es-static">\u2605 {html.escape(m.label)}</li>' for m in view.markers if m.label]
    return f'<h4>legend</h4><ul class="es-legend">{"".join(items)}</ul>' if items else ""


def scatter_fragment(view: ScatterView, height: int) -> str:
    """The HTML of a scatter view: stage (canvas, overlay, tooltip), side panel, data."""
    hint = HINT_3D if view.dims == 3 else HINT_2D
    isolate = ('<label><input type="checkbox" class="es-isolate"> show only these</label>'
               if view.neighbours is not None else "")
    nearest = "<h4>nearest in the original space (cosine)</h4>" if view.neighbours is not None else ""
    panel = ('<aside class="es-panel"><input class="es-search" type="search" placeholder="search a word" '
             'aria-label="search a word" autocomplete="off"><ul class="es-matches"></ul>'
             '<div class="es-selection" hidden><p class="es-word"></p><p class="es-group"></p>'
             f'{nearest}{isolate}<ol class="es-neighbours"></ol></div>'
             f"{legend_list(view)}{details_list(view.details)}</aside>")
    label = f"{'3D' if view.dims == 3 else '2D'} scatter plot of {len(view.labels):,} words; search them beside it"
    stage = (f'<div class="es-stage"><canvas role="img" aria-label="{label}"></canvas>'
             '<svg class="es-overlay" xmlns="http://www.w3.org/2000/svg">'
             f'</svg><div class="es-tip" hidden></div><div class="es-hint">{hint}</div></div>')
    return (f'<div class="es-view" id="{view.view_id}" data-kind="scatter" style="--es-height:{int(height)}px">'
            f'{head(view.title, view.caption)}<div class="es-body">{stage}{panel}</div>'
            f'<script type="application/json" class="es-data">{script_json(scatter_payload(view))}</script></div>')


def page_html(views: Sequence, title: str, intro: str = "", height: int = DEFAULT_HEIGHT) -> str:
    """A whole page: the shared script once, then every view; works offline, requests nothing."""
    ids = [view.view_id for view in views]
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"views on one page need distinct ids, got {ids}")
    body = "\n".join(view_fragment(view, height) for view in views)
    paragraph = f"<p>{html.escape(intro)}</p>" if intro else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title>\n{page_script()}\n"
            "<style>body{margin:1em auto;max-width:1400px;padding:0 1em;font-family:system-ui,sans-serif}</style>"
            f"</head><body>\n{paragraph}\n{body}\n</body></html>\n")


def write_page(path: str | os.PathLike, views: Sequence, title: str, intro: str = "",
               height: int = DEFAULT_HEIGHT) -> Path:
    """Write :func:`page_html` to ``path`` (``.html``), atomically; returns the path.

    Examples
    --------
    >>> import tempfile
    >>> view = ScatterView(np.eye(3), ["a", "b", "c"], view_id="v")
    >>> path = write_page(Path(tempfile.mkdtemp()) / "page.html", [view], title="a page")
    >>> path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    True
    """
    path = Path(path)
    if not is_page_path(path):
        raise InvalidInput(f"an interactive page is written to a .html file, not {path.name!r}")
    with atomic_file(path, "w") as out:
        out.write(page_html(views, title, intro, height))
    log.info("wrote %s", path)
    return path
