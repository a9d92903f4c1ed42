"""2D charts for interactive pages, in the look of the scatter views: probe bars, pairs and layer-drift lines.

The chart is SVG written here (every number placed by Python, so the page needs no chart
library); the shared viewer script adds a tooltip to every bar and point (``data-tip``).

Examples
--------
>>> chart = BarChart(["cat", "cats"], [-0.4, 0.6], title="plural", view_id="probe")
>>> fragment = chart_fragment(chart, 400)
>>> fragment.count("<rect class=\\"es-bar\\""), 'data-tip="cats: 0.6000"' in fragment
(2, True)
"""
from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from embedspace.errors import InvalidInput
from embedspace.viz.geometry import PairRow, pair_groups
from embedspace.viz.page_parts import PALETTE, check_view_id, details_list, group_table, head

WIDTH = 820  # viewBox width; the SVG scales to its box
ROW = 22  # height of one bar's row
CHAR = 7.2  # width of a character of the 12 px labels, for the left margin


@dataclass
class BarChart:
    """Horizontal bars of words sorted by score, highest at the top (as :func:`~embedspace.viz.plots.plot_probe`).

    ``values`` [N] are the scores; ``groups`` [N] colour the bars and make a legend.
    """

    labels: Sequence[str]
    values: Sequence[float]
    groups: Sequence[str] | None = None
    title: str = ""
    caption: str = ""
    xlabel: str = "projection onto the direction"
    details: Sequence[tuple[str, str]] = ()
    view_id: str = "es-chart"

    def __post_init__(self) -> None:
        self.values = finite_values(self.values, "scores")
        if self.values.shape != (len(self.labels),):
            raise InvalidInput(f"{len(self.labels)} words but scores of shape {self.values.shape}")
        if self.groups is not None and len(self.groups) != len(self.labels):
            raise InvalidInput(f"{len(self.groups)} groups for {len(self.labels)} words")
        check_view_id(self.view_id)


@dataclass
class PairChart:
    """Every pair on its own row, its members' scores joined (as :func:`~embedspace.viz.plots.plot_pairs`).

    ``rows`` come from :func:`embedspace.viz.geometry.pair_rows`; the groups and headings from
    :func:`embedspace.viz.geometry.pair_groups`, as in the picture. ``names`` say what the high and
    low members are; ``extra`` words (word, score) follow as single points.
    """

    rows: Sequence[PairRow]
    names: tuple[str, str] = ("high", "low")
    extra: Sequence[tuple[str, float]] = ()
    extra_name: str = "other words"
    title: str = ""
    caption: str = ""
    xlabel: str = "projection onto the direction"
    details: Sequence[tuple[str, str]] = ()
    view_id: str = "es-chart"

    def __post_init__(self) -> None:
        if not self.rows:
            raise InvalidInput("give at least one pair to draw")
        values = [v for r in self.rows for v in (r.high_score, r.low_score)] + [v for _, v in self.extra]
        finite_values(values, "scores")
        check_view_id(self.view_id)


@dataclass
class LineChart:
    """Lines over layers 0..L, one per series (as :func:`~embedspace.viz.plots.plot_layer_drift`)."""

    series: Mapping[str, Sequence[float]]
    title: str = ""
    caption: str = ""
    xlabel: str = "layer (0 = embeddings entering the first block)"
    ylabel: str = "cosine similarity"
    details: Sequence[tuple[str, str]] = ()
    view_id: str = "es-chart"

    def __post_init__(self) -> None:
        if not self.series:
            raise InvalidInput("give at least one series of per-layer values")
        self.series = {str(k): finite_values(v, f"series {k!r}") for k, v in self.series.items()}
        if any(v.ndim != 1 or v.size == 0 for v in self.series.values()):
            raise InvalidInput("every series must be a non-empty list of per-layer values")
        check_view_id(self.view_id)


def finite_values(values, what: str) -> np.ndarray:
    """``values`` as float64, all finite; InvalidInput otherwise."""
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise InvalidInput(f"the {what} contain NaN or infinite values")
    return values


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten.

    Examples
    --------
    >>> nice_ticks(-0.42, 0.61)
    [-0.4, -0.2, 0.0, 0.2, 0.4, 0.6]
    """
    span = max(hi - lo, 1e-12)
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9)
    ticks = [round(k * step, 12) for k in range(first, math.floor(hi / step + 1e-9) + 1)]
    return [0.0 if t == 0 else t for t in ticks]


def padded(lo: float, hi: float, share: float = 0.06) -> tuple[float, float]:
    """``[lo, hi]`` widened by ``share`` of its span on each side (a flat range by 1)."""
    span = hi - lo if hi > lo else 1.0
    return lo - share * span, hi + share * span


def scale(lo: float, hi: float, start: float, end: float):
    """A function mapping [lo, hi] linearly onto [start, end]."""
    return lambda v: start + (v - lo) / (hi - lo) * (end - start)


def text(x: float, y: float, content: str, cls: str = "", anchor: str = "start", extra: str = "") -> str:
    """An SVG ``<text>`` with escaped content."""
    klass = f' class="{cls}"' if cls else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}{extra}>'
            f"{html.escape(content)}</text>")


def bar_svg(chart: BarChart) -> tuple[str, int]:
    """The bars as SVG, and its height in pixels."""
    n = len(chart.labels)
    order = np.argsort(-chart.values, kind="stable")  # highest first, at the top
    left = 14 + CHAR * min(28, max((len(str(w)) for w in chart.labels), default=4))
    height = 40 + ROW * n + 44
    lo, hi = padded(min(0.0, chart.values.min()), max(0.0, chart.values.max()))
    x = scale(lo, hi, left, WIDTH - 20)
    codes, _, colours = group_table(chart.groups, n)
    parts = []
    for tick in nice_ticks(lo, hi):
        parts.append(f'<line class="es-gridline" x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="30" y2="{30 + ROW * n}"/>')
        parts.append(text(x(tick), 30 + ROW * n + 16, f"{tick:g}", anchor="middle"))
    for row, i in enumerate(order):
        top, value = 30 + ROW * row, float(chart.values[i])
        colour = colours[codes[i]] if codes is not None else PALETTE[0]
        group = f" ({chart.groups[i]})" if chart.groups is not None else ""
        tip = html.escape(f"{chart.labels[i]}: {value:.4f}{group}")
        parts.append(f'<rect class="es-bar" x="{min(x(0), x(value)):.1f}" y="{top + 3:.1f}" '
                     f'width="{abs(x(value) - x(0)):.1f}" height="{ROW - 6}" fill="{colour}" data-tip="{tip}"/>')
        parts.append(text(left - 6, top + ROW / 2 + 4, str(chart.labels[i]), anchor="end"))
    parts.append(f'<line class="es-zero" x1="{x(0):.1f}" x2="{x(0):.1f}" y1="28" y2="{32 + ROW * n}"/>')
    parts.append(text((left + WIDTH - 20) / 2, height - 8, chart.xlabel, anchor="middle"))
    return svg(parts, height), height


def pair_svg(chart: PairChart) -> tuple[str, int]:
    """The pairs as SVG (a heading row per group, then a row per pair or extra word), and its height."""
    groups = pair_groups(chart.rows, chart.extra, chart.extra_name)
    slots = sum(1 + len(members) for _, members in groups)
    names = [m if isinstance(m, str) else f"{m.high} / {m.low}" for _, members in groups for m in members]
    left = 14 + CHAR * min(28, max(len(n) for n in names))
    height = 40 + ROW * slots + 44
    values = np.array([v for r in chart.rows for v in (r.high_score, r.low_score)] + [v for _, v in chart.extra])
    lo, hi = padded(min(0.0, values.min()), max(0.0, values.max()))
    x = scale(lo, hi, left, WIDTH - 20)
    parts = []
    for tick in nice_ticks(lo, hi):
        parts.append(f'<line class="es-gridline" x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="30" y2="{30 + ROW * slots}"/>')
        parts.append(text(x(tick), 30 + ROW * slots + 16, f"{tick:g}", anchor="middle"))
    parts.append(f'<line class="es-zero" x1="{x(0):.1f}" x2="{x(0):.1f}" y1="28" y2="{32 + ROW * slots}"/>')
    extra = dict(chart.extra)
    slot = 0
    for heading, members in groups:
        parts.append(text(left, 30 + ROW * slot + ROW / 2 + 4, heading, cls="es-heading",
                          extra=' font-weight="bold" fill="#444"'))
        slot += 1
        for member in members:
            middle = 30 + ROW * slot + ROW / 2
            if isinstance(member, str):
                tip = html.escape(f"{member}: {extra[member]:.4f}")
                parts.append(f'<circle class="es-point" cx="{x(extra[member]):.1f}" cy="{middle:.1f}" r="5" '
                             f'fill="{PALETTE[2]}" data-tip="{tip}"/>')
                parts.append(text(left - 6, middle + 4, member, anchor="end"))
            else:
                parts += pair_marks(member, x, middle, chart.names)
                parts.append(text(left - 6, middle + 4, f"{member.high} / {member.low}", anchor="end"))
            slot += 1
    parts.append(text((left + WIDTH - 20) / 2, height - 8, chart.xlabel, anchor="middle"))
    return svg(parts, height), height


def pair_marks(row: PairRow, x, middle: float, names: tuple[str, str]) -> list[str]:
    """One pair's line (red where it fails) and its two points, each with a tooltip."""
    colour = PALETTE[3] if not row.wins else "#999999"
    summary = html.escape(f"{row.high} / {row.low}: gap {row.gap:+.4f}"
                          + ("" if row.held_out else " (the direction was built from this pair)"))
    marks = [(f'<line class="es-pair" x1="{x(row.low_score):.1f}" x2="{x(row.high_score):.1f}" y1="{middle:.1f}" '
             f'y2="{middle:.1f}" stroke="{colour}" stroke-width="3" data-tip="{summary}"/>')]
    for word, value, colour, name in ((row.high, row.high_score, PALETTE[0], names[0]),
                                      (row.low, row.low_score, PALETTE[1], names[1])):
        tip = html.escape(f"{word} ({name}): {value:.4f}")
        marks.append(f'<circle class="es-point" cx="{x(value):.1f}" cy="{middle:.1f}" r="5" fill="{colour}" '
                     f'data-tip="{tip}"/>')
    return marks


def line_svg(chart: LineChart) -> tuple[str, int]:
    """The lines as SVG, and its height in pixels."""
    height, left, bottom = 420, 70, 420 - 50
    layers = max(v.size for v in chart.series.values())
    values = np.concatenate(list(chart.series.values()))
    lo, hi = padded(float(values.min()), float(values.max()))
    x = scale(-0.3, layers - 0.7, left, WIDTH - 20)
    y = scale(lo, hi, bottom, 20)
    parts = []
    for tick in nice_ticks(lo, hi, 5):
        parts.append(f'<line class="es-gridline" x1="{left}" x2="{WIDTH - 20}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        parts.append(text(left - 6, y(tick) + 4, f"{tick:g}", anchor="end"))
    for layer in range(layers):
        parts.append(text(x(layer), bottom + 16, str(layer), anchor="middle"))
    for k, (label, series) in enumerate(chart.series.items()):
        colour = PALETTE[k % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(series))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        tips = [html.escape(f"{label}, layer {i}: {v:.4f}") for i, v in enumerate(series)]
        parts += [f'<circle class="es-point" cx="{x(i):.1f}" cy="{y(v):.1f}" r="4.5" fill="{colour}" '
                  f'data-tip="{tip}"/>' for i, (v, tip) in enumerate(zip(series, tips))]
    parts.append(text((left + WIDTH - 20) / 2, height - 12, chart.xlabel, anchor="middle"))
    parts.append(text(16, (bottom + 20) / 2, chart.ylabel, anchor="middle",
                      extra=f' transform="rotate(-90 16 {(bottom + 20) / 2:.1f})"'))
    return svg(parts, height), height


def svg(parts: list[str], height: int) -> str:
    """The parts inside an ``<svg>`` whose viewBox is WIDTH x height."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
            f'preserveAspectRatio="xMinYMin meet">{"".join(parts)}</svg>')


def chart_legend(chart: BarChart | PairChart | LineChart) -> str:
    """Groups of a bar chart, the members of a pair chart, or the series of a line chart, with their colours."""
    if isinstance(chart, BarChart):
        _, names, colours = group_table(chart.groups, len(chart.labels))
    elif isinstance(chart, PairChart):
        names = [*chart.names, *([chart.extra_name] if chart.extra else [])]
        colours = list(PALETTE[: len(names)])
        if not all(r.wins for r in chart.rows):
            names.append(f"{chart.names[0]} below {chart.names[1]}")
            colours.append(PALETTE[3])
    else:
        names = list(chart.series)
        colours = [PALETTE[k % len(PALETTE)] for k in range(len(names))]
    items = "".join(f'<li class="es-static"><span class="es-swatch" style="background:{c}"></span>'
                    f"{html.escape(name)}</li>" for name, c in zip(names, colours))
    return f'<h4>legend</h4><ul class="es-legend">{items}</ul>' if items else ""


def chart_fragment(chart: BarChart | PairChart | LineChart, height: int | None = None) -> str:
    """A chart as an HTML fragment in the look of the scatter views (tooltips come from the shared script).

    ``height`` is ignored: a chart is as tall as its content needs.
    """
    draw = bar_svg if isinstance(chart, BarChart) else pair_svg if isinstance(chart, PairChart) else line_svg
    drawing, own_height = draw(chart)
    panel = f'<aside class="es-panel">{chart_legend(chart)}{details_list(chart.details, "about")}</aside>'
    stage = f'<div class="es-stage es-chart">{drawing}<div class="es-tip" hidden></div></div>'
    return (f'<div class="es-view" id="{chart.view_id}" data-kind="chart" style="--es-height:{own_height}px">'
            f'{head(chart.title, chart.caption)}<div class="es-body">{stage}{panel}</div></div>')
