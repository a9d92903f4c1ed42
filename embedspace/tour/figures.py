"""The tour's multi-panel figures: the library's plots (:mod:`embedspace.viz.plots`) laid out side by side.

Each function returns a matplotlib figure (never pyplot's) for :meth:`embedspace.tour.inputs.Tour.save`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure as MatplotlibFigure

from embedspace.contextual.attention import HeadChoice
from embedspace.viz.geometry import AnalogyPlane, PairAxes, PairRow, pair_groups
from embedspace.viz.plots import plot_analogy_plane, plot_attention, plot_layer_drift, plot_pairs, plot_points


def panels(count: int, width: float = 6.0, height: float = 5.2, projection: str | None = None):
    """A figure with ``count`` panels side by side, and the list of their axes."""
    fig = MatplotlibFigure(figsize=(width * count, height))
    return fig, [fig.add_subplot(1, count, i + 1, projection=projection) for i in range(count)]


def analogy_figure(planes: Mapping[str, AnalogyPlane]) -> MatplotlibFigure:
    """One analogy panel per space, each in the plane of its analogy: ``planes[space name]``."""
    fig, axes = panels(len(planes))
    for ax, (name, plane) in zip(axes, planes.items()):
        plot_analogy_plane(plane, ax=ax, title=f"{name}: {plane.a} − {plane.b} + {plane.c}")
    fig.tight_layout()
    return fig


def pair_axes_figure(placed: Mapping[str, PairAxes], names: tuple[str, str], what: str) -> MatplotlibFigure:
    """One 3D panel per space: the pairs along their mean difference, an arrow from each low word to its partner."""
    fig, axes = panels(len(placed), width=6.4, height=6.0, projection="3d")
    for ax, (name, pairs) in zip(axes, placed.items()):
        plot_points(pairs.coords, pairs.words, groups=[*names] * len(pairs.pairs), ax=ax, title=f"{name}: {what}",
                    axis_labels=pairs.axis_labels, arrows=pairs.arrows, equal_scales=True)
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):  # equal scales: the grid shows lengths, numbers only clutter
            axis.set_ticklabels([])
            axis.labelpad = -6
    fig.tight_layout()
    return fig


def pairs_figure(charts: Sequence[tuple[str, list[PairRow], list[tuple[str, float]]]], names: tuple[str, str],
                 xlabel: str, extra_name: str = "other words") -> MatplotlibFigure:
    """One pair chart per space, side by side: (title, rows, extra words and scores) each."""
    tallest = max(sum(1 + len(m) for _, m in pair_groups(rows, extra, extra_name)) for _, rows, extra in charts)
    fig, axes = panels(len(charts), width=5.4, height=1.2 + 0.2 * tallest)
    for ax, (title, rows, extra) in zip(axes, charts):
        plot_pairs(rows, ax=ax, title=title, xlabel=xlabel, names=names, extra=extra, extra_name=extra_name)
    fig.tight_layout()
    return fig


def drift_figure(curves: Mapping[str, Mapping[str, Sequence[float]]], word: str) -> MatplotlibFigure:
    """One layer-drift panel per encoder: ``curves[encoder]`` maps a label to a cosine per layer [L+1]."""
    fig = MatplotlibFigure(figsize=(6.5 * len(curves), 4.8))
    axes = fig.subplots(1, len(curves), squeeze=False)
    for ax, (name, named) in zip(axes[0], curves.items()):
        plot_layer_drift(named, ax=ax, title=f"'{word}' in context: {name}")
    fig.tight_layout()
    return fig


def separation_figure(win_rates: Mapping[str, Sequence[float]], title: str):
    """Share of triplets won at each layer [L+1], one line per label, with chance (0.5) marked; the axes."""
    ax = plot_layer_drift(win_rates, title=title, ylabel="share of triplets won")
    ax.axhline(0.5, color="0.5", linestyle="--", linewidth=1)
    last = max(len(rates) for rates in win_rates.values()) - 1
    ax.annotate("chance", (last, 0.5), xytext=(0, -4), textcoords="offset points", ha="right", va="top",
                color="0.4", fontsize=9)
    ax.set_ylim(0, 1.02)
    return ax


def attention_figure(attentions: np.ndarray, tokens: Sequence[str], choices: Sequence[HeadChoice],
                     columns: int = 3) -> MatplotlibFigure:
    """The chosen head of each block as a heatmap, ``columns`` to a row: attentions [L, H, T, T]."""
    n_rows = -(-len(choices) // columns)
    fig = MatplotlibFigure(figsize=(4.2 * columns, 3.9 * n_rows))
    axes = fig.subplots(n_rows, columns, squeeze=False)
    for choice, ax in zip(choices, axes.flat):
        plot_attention(attentions[choice.block - 1, choice.head], tokens, ax=ax,
                       title=f"block {choice.block}, head {choice.head}")
    for ax in list(axes.flat)[len(choices):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig
