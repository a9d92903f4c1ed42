"""Figures of corpus-scale contextuality: a measure's curves over layers, and a word's sense clusters.

Both take an optional ``ax`` and return it (a fresh figure, not registered with pyplot, when none is
given); save them with :func:`embedspace.viz.plots.save_figure`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from embedspace.contextual.measures import ContextualityReport
from embedspace.contextual.senses import SenseReport
from embedspace.errors import InvalidInput

TITLES = {
    "self_similarity": "Self-similarity: mean cosine between a word's occurrences",
    "intra_similarity": "Intra-sentence similarity: words vs their sentence's mean",
    "mev": "Maximum explainable variance (first principal direction)",
    "static_cosine": "Cosine with the word's static W_E row",
    "static_share": "Variance share along the word's W_E row",
}
BASELINE_LABEL = "random words (anisotropy)"


def plot_contextuality(report: ContextualityReport, measure: str = "self_similarity", adjusted: bool = False,
                       words: Sequence[str] | None = None, ax=None):
    """One line per word over layers 0..L, with the random-word baseline dashed.

    Parameters
    ----------
    report : ContextualityReport
    measure : str
        ``self_similarity``, ``intra_similarity``, ``mev``, ``static_cosine`` or ``static_share``.
    adjusted : bool
        Plot the anisotropy-adjusted figure (the baseline is then the zero line); not for the static ones.
    words : sequence of str, optional
        The words to draw (default: all in the report).
    ax : matplotlib Axes, optional

    Returns
    -------
    The axes: one line per word, then the baseline when there is one (labelled :data:`BASELINE_LABEL`).

    Examples
    --------
    >>> from embedspace.contextual.measures import WordMeasures
    >>> w = WordMeasures("bank", 4, 4, 9, [0.9, 0.7], [0.6, 0.3], [0.4, 0.5], [0.1, 0.1], [0.9, 0.8], [0.3, 0.2],
    ...                  None, None)
    >>> report = ContextualityReport("mini", 1, "c.txt", [0.3, 0.4], None, 50, [w], {})
    >>> ax = plot_contextuality(report)
    >>> [line.get_label() for line in ax.lines]
    ['bank', 'random words (anisotropy)']
    """
    from embedspace.viz.plots import new_axes

    if measure not in TITLES:
        raise InvalidInput(f"unknown measure {measure!r}: use one of {', '.join(TITLES)}")
    if adjusted and measure.startswith("static"):
        raise InvalidInput(f"{measure} has no anisotropy-adjusted form")
    chosen = [w for w in report.words if words is None or w.word in words]
    field = f"{measure}_adjusted" if adjusted else measure
    series = {w.word: getattr(w, field) for w in chosen if getattr(w, field) is not None}
    if not series:
        raise InvalidInput(f"the report has no {measure} figures for those words")
    ax = new_axes(ax, figsize=(9.5 if len(series) > 8 else 7.5, 4.8))
    if len(series) > 10:  # the default cycle repeats after 10 colours
        from matplotlib import colormaps

        ax.set_prop_cycle(color=colormaps["tab20"].colors)
    layers = np.arange(report.layers + 1)
    for word, values in series.items():
        ax.plot(layers, values, marker="o", linewidth=1.8, markersize=4, label=word)
    baseline = baseline_curve(report, measure, adjusted)
    if baseline is not None:
        ax.plot(layers, baseline, color="black", linestyle="--", linewidth=2, label=BASELINE_LABEL)
    ax.set_xticks(layers)
    ax.set_xlabel("layer (0 = embeddings entering the first block)")
    ax.set_ylabel(("adjusted " if adjusted else "") + measure.replace("_", " "))
    ax.grid(True, alpha=0.3)
    if len(series) > 8:  # many words: the legend goes beside the axes, not over the lines
        ax.legend(fontsize=8, ncol=2, loc="center left", bbox_to_anchor=(1.01, 0.5))
    else:
        ax.legend(fontsize=8, loc="best")
    ax.set_title(f"{report.model}: {TITLES[measure]}" + (" (minus baseline)" if adjusted else ""), fontsize=11)
    return ax


def baseline_curve(report: ContextualityReport, measure: str, adjusted: bool) -> list[float] | None:
    """The dashed line: the anisotropy for the similarities, zero once adjusted, none for MEV and the static ones."""
    if adjusted:
        return [0.0] * (report.layers + 1)
    return report.anisotropy if measure in ("self_similarity", "intra_similarity") else None


def plot_senses(report: SenseReport, ax=None, neighbours: int = 4):
    """The occurrences projected on their two first principal axes, coloured by cluster.

    Each cluster's legend entry gives its size and its first neighbours in the last space that has any
    (the context-word space, when there is one).

    Examples
    --------
    >>> from embedspace.contextual.senses import SenseCluster
    >>> report = SenseReport("bank", "mini", 4, 3, {2: 0.5}, [SenseCluster(2, ["a"], {"word2vec": [("river", 0.5)]}),
    ...                      SenseCluster(1, ["b"])], [0, 0, 1], [[0, 0], [0, 1], [1, 0]], ["a", "a", "b"])
    >>> ax = plot_senses(report)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['sense 1 (2): river', 'sense 2 (1)']
    """
    from embedspace.viz.plots import new_axes

    ax = new_axes(ax, figsize=(7.0, 5.5))
    coords = np.asarray(report.coords, dtype=np.float64).reshape(-1, 2)
    labels = np.asarray(report.labels)
    for number, cluster in enumerate(report.clusters):
        rows = labels == number
        ax.scatter(coords[rows, 0], coords[rows, 1], s=22, alpha=0.8, label=cluster_label(number, cluster, neighbours))
    ax.set_xlabel("first principal axis")
    ax.set_ylabel("second principal axis")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(f"{report.model}: {report.word!r} in {report.occurrences} sentences, layer {report.layer}, "
                 f"k = {report.k}", fontsize=11)
    return ax


def cluster_label(number: int, cluster, neighbours: int) -> str:
    """``sense 1 (23): river, shore, ...``: number, size and the first neighbours found."""
    words = next((found for found in reversed(cluster.neighbours.values()) if found), [])[:neighbours]
    shown = ", ".join(w for w, _ in words)
    return f"sense {number + 1} ({cluster.size})" + (f": {shown}" if shown else "")
