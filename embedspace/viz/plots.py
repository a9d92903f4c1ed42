"""Pictures of words in a space: labelled scatter plots, the analogy parallelogram, probe bars.

Every function takes an optional ``ax`` and returns it; without one it draws on a fresh
:class:`matplotlib.figure.Figure` (:func:`embedspace.viz.figures.new_axes`), never on pyplot's global
state, so nothing needs a display. Save with :func:`embedspace.viz.figures.save_figure` (PNG, SVG or
PDF, by the file's extension); in a notebook, show ``ax.figure``.

The charts of the transformer (attention, temperatures, layer drift) live in
:mod:`embedspace.viz.charts`, label placement in :mod:`embedspace.viz.labels`; their public functions
and :func:`save_figure` are importable from here too. matplotlib is imported inside the functions.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from embedspace.errors import InvalidInput
from embedspace.space import Space
from embedspace.viz.charts import plot_attention, plot_attention_grid, plot_layer_drift, plot_temperatures
from embedspace.viz.figures import LABEL_SIZE, TEXT_SIZE, TITLE_SIZE, group_colours, new_axes, save_figure
from embedspace.viz.labels import label_points_2d, label_points_3d

__all__ = ["draw_analogy", "new_axes", "plot_analogy", "plot_attention", "plot_attention_grid", "plot_layer_drift",
           "plot_points", "plot_probe", "plot_temperatures", "save_figure"]


def plot_points(coords: np.ndarray, labels: Sequence[str], groups: Sequence[str] | None = None, ax=None,
                title: str | None = None, axis_labels: Sequence[str] | None = None):
    """A labelled 2D or 3D scatter plot of projected words, coloured by group.

    Parameters
    ----------
    coords : ndarray [N, 2] or [N, 3]
        Projected coordinates (e.g. from :func:`embedspace.viz.projections.project`).
    labels : sequence of str [N]
        The words, written beside their points (white-outlined, nudged apart when they collide).
    groups : sequence of str [N], optional
        A group per point: one colour each, and a legend.
    ax : matplotlib Axes, optional
        Must be a 3D axes for [N, 3] coordinates; a fresh one is made when omitted.
    title : str, optional
    axis_labels : sequence of str, optional
        Names of the axes (``["PC1 (31%)", "PC2 (18%)"]``, ``["italy - germany", ...]``).

    Returns
    -------
    The axes.

    Examples
    --------
    >>> ax = plot_points(np.array([[0, 0], [1, 1], [1, 0]]), ["cat", "dog", "car"],
    ...                  groups=["animal", "animal", "thing"])
    >>> ax.get_title(), len(ax.texts), [t.get_text() for t in ax.get_legend().get_texts()]
    ('3 words', 3, ['animal', 'thing'])
    """
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] not in (2, 3):
        raise InvalidInput(f"coordinates must be [N, 2] or [N, 3], got shape {coords.shape}")
    if len(labels) != coords.shape[0]:
        raise InvalidInput(f"{len(labels)} labels for {coords.shape[0]} points")
    dims = coords.shape[1]
    ax = new_axes(ax, figsize=(7.5, 6.5) if dims == 3 else (7.5, 5.5), projection="3d" if dims == 3 else None)
    if (ax.name == "3d") != (dims == 3):
        raise InvalidInput(f"{dims}-D coordinates need a {'3D' if dims == 3 else '2D'} axes")
    colours, names = group_colours(groups, len(labels))
    extra = {"depthshade": False} if dims == 3 else {}
    for name in names:
        members = np.flatnonzero([name is None or g == name for g in (groups or labels)])  # [n]
        ax.scatter(*coords[members].T, color=[colours[i] for i in members], s=40, label=name,
                   edgecolors="white", linewidths=0.7, zorder=3, **extra)
    names_of_axes = axis_labels or [f"dimension {i + 1}" for i in range(dims)]
    ax.set_xlabel(names_of_axes[0], fontsize=LABEL_SIZE)
    ax.set_ylabel(names_of_axes[1], fontsize=LABEL_SIZE)
    ax.set_title(title or f"{len(labels)} words", fontsize=TITLE_SIZE)
    if groups is not None:
        ax.legend(fontsize=TEXT_SIZE, framealpha=0.85, loc="best")
    if dims == 3:
        ax.set_zlabel(names_of_axes[2], fontsize=LABEL_SIZE)
        label_points_3d(ax, coords, labels)
    else:
        ax.margins(0.12)
        ax.grid(True, alpha=0.25)
        label_points_2d(ax, coords, labels)  # last: it measures the finished layout
    return ax


# -- the analogy parallelogram -----------------------------------------------------------------
def plot_analogy(space: Space | Mapping[str, np.ndarray], a: str, b: str, c: str, expected: str | None = None,
                 ax=None, title: str | None = None):
    """The analogy ``a - b + c`` as a parallelogram in 2D (e.g. king - man + woman).

    Draws b -> c (man -> woman) beside a -> expected (king -> queen), the point a - b + c
    (of unit vectors, as gensim's ``most_similar`` combines them) with a dashed arrow from a,
    and annotates the word nearest to that point (a, b and c excluded; found by
    :meth:`embedspace.space.Space.most_similar`). The plane is the PCA of the involved unit vectors.

    Parameters
    ----------
    space : Space or mapping of word -> vector [D]
    a, b, c : str
        ``a - b + c``: king, man, woman.
    expected : str, optional
        The word the analogy should reach (queen); defaults to the nearest word.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    The axes.

    Examples
    --------
    >>> vectors = {"king": [1, 1, 0.1], "man": [1, 0, 0.1], "woman": [0, 1, 0.1], "queen": [0, 2, 0.2]}
    >>> ax = plot_analogy(vectors, "king", "man", "woman")
    >>> ax.get_title()
    'king − man + woman ≈ queen'
    """
    from embedspace.viz.layouts import PCA

    space = space if isinstance(space, Space) else Space(list(space), np.array(list(space.values())))
    nearest, score = space.most_similar([a, c], [b], topn=1)[0]
    expected = expected or nearest
    shown = list(dict.fromkeys([a, b, c, expected, nearest]))
    unit = space.unit(shown)  # [W, D]
    target = unit[0] - unit[1] + unit[2]  # [D], the parallelogram's fourth corner: a + (c - b)
    pca = PCA(n_components=2, random_state=0).fit(np.vstack([unit, target[None, :]]))
    xy = dict(zip(shown, pca.transform(unit)))
    point = pca.transform(target[None, :])[0]
    ax = new_axes(ax, figsize=(7.5, 6.0))
    ax.set_xlabel(pca.axis_labels()[0], fontsize=LABEL_SIZE)
    ax.set_ylabel(pca.axis_labels()[1], fontsize=LABEL_SIZE)
    ax.set_title(title or f"{a} − {b} + {c} ≈ {nearest}", fontsize=TITLE_SIZE)
    draw_analogy(ax, xy, point, (a, b, c, expected, nearest, score))
    return ax


def draw_analogy(ax, xy: dict[str, np.ndarray], point: np.ndarray, words: tuple) -> None:
    """The points, arrows and notes of :func:`plot_analogy` on ``ax``."""
    from matplotlib import colormaps
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    a, b, c, expected, nearest, score = words
    first, second, grey = colormaps["tab10"].colors[0], colormaps["tab10"].colors[1], "0.45"
    arrows = [(xy[b], xy[c], first, "-", f"{b} → {c}"), (xy[a], xy[expected], second, "-", f"{a} → {expected}"),
              (xy[a], point, grey, "--", f"{a} + ({c} − {b})")]
    handles = []
    for start, end, colour, style, label in arrows:
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=16, color=colour, lw=2,
                                     linestyle=style, shrinkA=6, shrinkB=6, zorder=2))
        handles.append(Line2D([], [], color=colour, lw=2, linestyle=style, label=label))
    colours = {b: first, c: first, a: second, expected: second}
    for word, (x, y) in xy.items():
        ax.scatter([x], [y], s=60, color=colours.get(word, grey), edgecolors="white", zorder=3)
    ax.scatter([point[0]], [point[1]], s=180, marker="*", color="0.2", zorder=3)
    handles.append(Line2D([], [], marker="*", markersize=12, color="0.2", linestyle="", label=f"{a} − {b} + {c}"))
    ax.margins(0.15)
    ax.set_aspect("equal", adjustable="datalim")  # equal scales keep parallel arrows parallel
    ax.grid(True, alpha=0.25)
    ax.legend(handles=handles, fontsize=TEXT_SIZE, framealpha=0.85, loc="best")
    labels = [*xy, f"nearest: {nearest} (cosine {score:.2f})"]
    segments = [(start, end) for start, end, *_ in arrows]
    label_points_2d(ax, np.vstack([np.array(list(xy.values())), point[None, :]]), labels, segments)


# -- probes --------------------------------------------------------------------------------------
def plot_probe(words: Sequence[str], scores: Sequence[float], groups: Sequence[str] | None = None, ax=None,
               title: str | None = None, xlabel: str = "projection onto the direction"):
    """Horizontal bars of words sorted along a direction (highest at the top), coloured by group.

    Parameters
    ----------
    words : sequence of str [N]
    scores : sequence of float [N]
        Each word's score along the direction (e.g. a projection or a cosine).
    groups : sequence of str [N], optional
        A group per word (singular / plural): one colour each, and a legend.
    ax : matplotlib Axes, optional
    title : str, optional
    xlabel : str

    Returns
    -------
    The axes.

    Examples
    --------
    >>> ax = plot_probe(["cat", "cats", "dogs"], [-0.4, 0.6, 0.5], groups=["one", "many", "many"])
    >>> [t.get_text() for t in ax.get_yticklabels()], len(ax.patches)
    (['cat', 'dogs', 'cats'], 3)
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (len(words),):
        raise InvalidInput(f"{len(words)} words but scores of shape {scores.shape}")
    order = np.argsort(scores, kind="stable")  # ascending: barh draws the first bar at the bottom
    colours, names = group_colours(groups, len(words))
    ax = new_axes(ax, figsize=(7.0, 1.2 + 0.32 * len(words)))
    ax.barh(np.arange(len(words)), scores[order], color=[colours[i] for i in order], height=0.7, zorder=2)
    ax.set_yticks(np.arange(len(words)), [words[i] for i in order], fontsize=TEXT_SIZE + 1)
    ax.axvline(0.0, color="0.3", linewidth=0.8, zorder=3)
    ax.grid(True, axis="x", alpha=0.3, zorder=0)
    ax.set_ylim(-0.6, len(words) - 0.4)
    ax.set_xlabel(xlabel, fontsize=LABEL_SIZE)
    ax.set_title(title or "Words along a direction", fontsize=TITLE_SIZE)
    if groups is not None:
        from matplotlib.patches import Patch

        colour_of = dict(zip(groups, colours))
        ax.legend(handles=[Patch(color=colour_of[name], label=name) for name in names],
                  fontsize=TEXT_SIZE, framealpha=0.85, loc="best")
    return ax
