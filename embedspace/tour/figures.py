"""The tour's multi-panel figures: the library's plots (:mod:`embedspace.viz.plots`) laid out side by side.

Each function returns a matplotlib figure (never pyplot's) for :meth:`embedspace.tour.inputs.Tour.save`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure as MatplotlibFigure

from embedspace.contextual.attention import HeadChoice
from embedspace.viz.plots import plot_attention, plot_layer_drift, plot_probe


def panels(count: int, width: float = 6.0, height: float = 5.2, projection: str | None = None):
    """A figure with ``count`` panels side by side, and the list of their axes."""
    fig = MatplotlibFigure(figsize=(width * count, height))
    return fig, [fig.add_subplot(1, count, i + 1, projection=projection) for i in range(count)]


def probe_figure(charts: Sequence[tuple[str, list[str], np.ndarray, list[str]]], xlabel: str) -> MatplotlibFigure:
    """One probe bar chart per space, side by side: (title, words, scores [n], groups) each."""
    tallest = max(len(words) for _, words, _, _ in charts)
    fig, axes = panels(len(charts), width=5.2, height=1.2 + 0.28 * tallest)
    for ax, (title, words, scores, groups) in zip(axes, charts):
        plot_probe(words, scores, groups=groups, ax=ax, title=title, xlabel=xlabel)
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
