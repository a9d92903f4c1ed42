"""Pictures of words in a space: labelled scatter plots, the analogy in its plane, probe bars, pair charts.

Every function takes an optional ``ax`` and returns it; without one it draws on a fresh
:class:`matplotlib.figure.Figure` (:func:`embedspace.viz.figures.new_axes`), never on pyplot's global
state, so nothing needs a display. Save with :func:`embedspace.viz.figures.save_figure` (PNG, SVG or
PDF, by the file's extension); in a notebook, show ``ax.figure``.

The charts of the transformer (attention, temperatures, layer drift) live in
:mod:`embedspace.viz.charts`, label placement in :mod:`embedspace.viz.labels`, the geometry a picture
shares with its interactive page in :mod:`embedspace.viz.geometry`; their public functions
and :func:`save_figure` are importable from here too. matplotlib is imported inside the functions.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from embedspace.errors import InvalidInput
from embedspace.space import Space
from embedspace.viz.charts import plot_attention, plot_attention_grid, plot_layer_drift, plot_temperatures
from embedspace.viz.figures import LABEL_SIZE, TEXT_SIZE, TITLE_SIZE, group_colours, new_axes, save_figure

__all__ = ["draw_analogy", "new_axes", "plot_analogy", "plot_analogy_plane", "plot_attention", "plot_attention_grid", "plot_layer_drift",
           "plot_pairs", "plot_points", "plot_probe", "plot_temperatures", "save_figure"]

POINT_MARKER = 40  # marker areas (points squared) of the scatter plots, the analogy's words and its star
ANALOGY_MARKER = 60
STAR_MARKER = 180
ARROW_GREY = "0.55"


def plot_points(coords: np.ndarray, labels: Sequence[str], groups: Sequence[str] | None = None, ax=None,
                title: str | None = None, axis_labels: Sequence[str] | None = None, arrows: Sequence = (),
                equal_scales: bool = False):
    """A labelled 2D or 3D scatter plot of projected words, coloured by group, with optional grey arrows.

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
    arrows : sequence of (start, end), optional
        Grey arrows between points (coordinates [2] or [3] each), e.g. from each male word to its
        female partner; labels keep clear of them.
    equal_scales : bool
        Draw one unit as long on every axis, so directions and angles are drawn true.

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
    from embedspace.viz.labels import label_points

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
        ax.scatter(*coords[members].T, color=[colours[i] for i in members], s=POINT_MARKER, label=name,
                   edgecolors="white", linewidths=0.7, zorder=3, **extra)
    segments = [(np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)) for start, end in arrows]
    draw_arrows(ax, segments)
    names_of_axes = axis_labels or [f"dimension {i + 1}" for i in range(dims)]
    ax.set_xlabel(names_of_axes[0], fontsize=LABEL_SIZE)
    ax.set_ylabel(names_of_axes[1], fontsize=LABEL_SIZE)
    ax.set_title(title or f"{len(labels)} words", fontsize=TITLE_SIZE)
    if groups is not None:
        ax.legend(fontsize=TEXT_SIZE, framealpha=0.85, loc="best")
    if dims == 3:
        ax.set_zlabel(names_of_axes[2], fontsize=LABEL_SIZE)
    else:
        ax.margins(0.12)
        ax.grid(True, alpha=0.25)
    if equal_scales:
        ax.set_aspect("equal", adjustable="datalim" if dims == 2 else "box")
    label_points(ax, coords, labels, POINT_MARKER, segments)  # last: it measures the finished layout
    return ax


def draw_arrows(ax, segments: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
    """Grey arrows from each start to its end (2D or 3D data coordinates) on ``ax``."""
    if not segments:
        return
    if ax.name == "3d":
        starts = np.array([s for s, _ in segments])  # [A, 3]
        ends = np.array([e for _, e in segments])
        ax.quiver(*starts.T, *(ends - starts).T, color=ARROW_GREY, linewidth=1.2, arrow_length_ratio=0.12)
        return
    from matplotlib.patches import FancyArrowPatch

    for start, end in segments:
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=ARROW_GREY, lw=1.2,
                                     shrinkA=4, shrinkB=4, zorder=2))


# -- the analogy parallelogram -----------------------------------------------------------------
def plot_analogy(space: Space | Mapping[str, np.ndarray], a: str, b: str, c: str, expected: str | None = None,
                 ax=None, title: str | None = None):
    """The analogy ``a - b + c`` (e.g. king - man + woman) drawn in the plane that contains it.

    The plane is the one through b, c and a (:func:`embedspace.viz.geometry.analogy_plane`): x runs
    along ``c - b``, y along the part of ``a - b`` orthogonal to it, both in the space's own units
    (unit vectors, equal scales). So b -> c and a -> ``a + (c - b)`` are drawn exactly parallel
    and equal, and the star ``a - b + c`` (of unit vectors, as gensim's ``most_similar`` combines
    them) lands exactly at the end of the dashed arrow. The expected word (default: the word nearest
    the star, a, b and c excluded) is drawn where it projects onto the plane; a dotted line joins it
    to the star, and the legend states their distance in the space and how much of it lies off the
    plane. The legend gives the star's nearest word and their cosine.

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
    >>> ax.get_title(), ax.get_xlabel()
    ('king − man + woman ≈ queen', 'woman − man')
    """
    from embedspace.viz.geometry import analogy_plane

    space = space if isinstance(space, Space) else Space(list(space), np.array(list(space.values())))
    return plot_analogy_plane(analogy_plane(space, a, b, c, expected), ax=ax, title=title)


def plot_analogy_plane(plane, ax=None, title: str | None = None):
    """:func:`plot_analogy` of an :class:`~embedspace.viz.geometry.AnalogyPlane` already computed; the axes.

    Examples
    --------
    >>> from embedspace.viz.geometry import analogy_plane
    >>> vectors = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 0], [0, 1, 1]], dtype=np.float32)
    >>> plane = analogy_plane(Space(["king", "man", "woman", "queen"], vectors), "king", "man", "woman")
    >>> ax = plot_analogy_plane(plane, title="toy")
    >>> np.allclose(ax.collections[-1].get_offsets()[0], plane.star[:2]), ax.get_legend().get_texts()[3].get_text()
    (True, 'star to queen: 1.26 in the space\\n(1.04 in this plane, 0.71 off it)')
    """
    ax = new_axes(ax, figsize=(7.5, 6.0))
    ax.set_xlabel(plane.axis_labels[0], fontsize=LABEL_SIZE)
    ax.set_ylabel(plane.axis_labels[1], fontsize=LABEL_SIZE)
    ax.set_title(title or f"{plane.a} − {plane.b} + {plane.c} ≈ {plane.nearest}", fontsize=TITLE_SIZE)
    draw_analogy(ax, plane)
    return ax


def draw_analogy(ax, plane) -> None:
    """The points, arrows and notes of :func:`plot_analogy` on ``ax``, from an :class:`~embedspace.viz.geometry.AnalogyPlane`."""
    from matplotlib import colormaps
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    from embedspace.viz.labels import label_points

    a, b, c, expected = plane.a, plane.b, plane.c, plane.expected
    xy = {word: at[:2] for word, at in plane.at.items()}
    point = plane.star[:2]
    first, second, grey = colormaps["tab10"].colors[0], colormaps["tab10"].colors[1], "0.45"
    arrows = [(xy[b], xy[c], first, "-", f"{b} → {c} (length {plane.scale:.2f})"),
              (xy[a], xy[expected], second, "-", f"{a} → {expected}"),
              (xy[a], point, grey, "--", f"{a} + ({c} − {b})")]
    handles = []
    for start, end, colour, style, label in arrows:
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=16, color=colour, lw=2,
                                     linestyle=style, shrinkA=6, shrinkB=6, zorder=2))
        handles.append(Line2D([], [], color=colour, lw=2, linestyle=style, label=label))
    ax.plot(*np.column_stack([point, xy[expected]]), color="0.25", linestyle=":", linewidth=1.4, zorder=2)
    handles.append(Line2D([], [], color="0.25", linestyle=":", lw=1.4,
                          label=f"star to {expected}: {plane.distance:.2f} in the space\n"
                                f"({plane.in_plane:.2f} in this plane, {plane.off_plane:.2f} off it)"))
    colours = {b: first, c: first, a: second, expected: second}
    for word, (x, y) in xy.items():
        ax.scatter([x], [y], s=ANALOGY_MARKER, color=colours.get(word, grey), edgecolors="white", zorder=3)
    ax.scatter([point[0]], [point[1]], s=STAR_MARKER, marker="*", color="0.2", zorder=3)
    handles.append(Line2D([], [], marker="*", markersize=12, color="0.2", linestyle="",
                          label=f"{a} − {b} + {c}: nearest {plane.nearest} (cosine {plane.score:.2f})"))
    ax.margins(0.15)
    ax.set_aspect("equal", adjustable="datalim")  # equal scales: the plane's true shape
    ax.grid(True, alpha=0.25)
    ax.legend(handles=handles, fontsize=TEXT_SIZE, framealpha=0.85, loc="best")
    segments = [(start, end) for start, end, *_ in arrows] + [(point, xy[expected])]
    # the star's nearest word is in the legend, not a label: beside the star (a corner the legend often
    # shares) a long label had no free spot in some spaces
    label_points(ax, np.array(list(xy.values())), list(xy), [ANALOGY_MARKER] * len(xy), segments,
                 markers=(point[None, :], np.array([STAR_MARKER])))


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


# -- pairs along a direction ------------------------------------------------------------------------
def plot_pairs(rows: Sequence, ax=None, title: str | None = None, xlabel: str = "projection onto the direction",
               names: tuple[str, str] = ("high", "low"), extra: Sequence[tuple[str, float]] = (),
               extra_name: str = "other words"):
    """Every pair on its own row: its two members' scores joined by a line (red where the pair fails).

    The pairs the direction was built from come first, then the held-out ones, each group under a
    heading that says which it is and how many of its pairs the high member wins; within a group the
    pairs are sorted by gap, so the failures sit at its bottom. ``extra`` words (e.g. one, two, three,
    four) follow as single points, in the order given.

    Parameters
    ----------
    rows : sequence of :class:`embedspace.viz.geometry.PairRow`
        From :func:`embedspace.viz.geometry.pair_rows` (which orders them; drawn top to bottom).
    ax : matplotlib Axes, optional
    title : str, optional
    xlabel : str
    names : (str, str)
        What the high and low members are (``("plural", "singular")``): the legend's entries.
    extra : sequence of (word, score)
    extra_name : str
        The heading of the extra words.

    Returns
    -------
    The axes.

    Examples
    --------
    >>> from embedspace.viz.geometry import pair_rows
    >>> rows = pair_rows([("cats", "cat", 0.5, 0.0), ("dogs", "dog", 0.1, 0.3)], built_from=[("cats", "cat")])
    >>> ax = plot_pairs(rows, names=("plural", "singular"))
    >>> [t.get_text() for t in ax.get_yticklabels()], len(ax.collections[0].get_segments())
    (['cats / cat', 'dogs / dog'], 2)
    """
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    from embedspace.viz.geometry import pair_groups

    if not rows:
        raise InvalidInput("give at least one pair to draw")
    groups = pair_groups(rows, extra, extra_name)
    n_slots = sum(1 + len(members) for _, members in groups)
    ax = new_axes(ax, figsize=(7.0, 1.0 + 0.22 * n_slots))
    slot, ticks, tick_labels, headings = 0, [], [], []
    for heading, members in groups:
        headings.append((heading, -slot))
        slot += 1
        for member in members:
            ticks.append(-slot)
            tick_labels.append(member if isinstance(member, str) else f"{member.high} / {member.low}")
            slot += 1
    y = dict(zip(range(len(ticks)), ticks))
    pairs = [m for _, members in groups for m in members if not isinstance(m, str)]
    lines = [[(r.low_score, y[i]), (r.high_score, y[i])] for i, r in enumerate(pairs)]
    palette = colormaps["tab10"].colors
    fails = [palette[3] if not r.wins else "0.6" for r in pairs]
    ax.add_collection(LineCollection(lines, colors=fails, linewidths=2.0, zorder=2))
    ax.scatter([r.high_score for r in pairs], [y[i] for i in range(len(pairs))], s=30, color=palette[0], zorder=3)
    ax.scatter([r.low_score for r in pairs], [y[i] for i in range(len(pairs))], s=30, color=palette[1], zorder=3)
    handles = [Line2D([], [], marker="o", linestyle="", color=palette[0], label=names[0]),
               Line2D([], [], marker="o", linestyle="", color=palette[1], label=names[1])]
    if extra:
        ax.scatter([score for _, score in extra], ticks[len(pairs):], s=30, color=palette[2], marker="D", zorder=3)
        handles.append(Line2D([], [], marker="D", linestyle="", color=palette[2], label=extra_name))
    if not all(r.wins for r in pairs):
        handles.append(Line2D([], [], color=palette[3], lw=2, label=f"{names[0]} below {names[1]}"))
    for heading, at in headings:
        ax.text(0.01, at, heading, transform=ax.get_yaxis_transform(), ha="left", va="center",
                fontsize=TEXT_SIZE, fontweight="bold", color="0.25")
    ax.set_yticks(ticks, tick_labels, fontsize=TEXT_SIZE)
    for label, row in zip(ax.get_yticklabels(), pairs):
        label.set_color("black" if row.wins else palette[3])  # a failing pair is named in red too
    ax.set_ylim(-n_slots + 0.4, 0.6)
    ax.axvline(0.0, color="0.3", linewidth=0.8, zorder=1)
    ax.grid(True, axis="x", alpha=0.3, zorder=0)
    ax.autoscale_view(scaley=False)
    ax.set_xlabel(xlabel, fontsize=LABEL_SIZE)
    ax.set_title(title or "Pairs along a direction", fontsize=TITLE_SIZE, pad=40)
    ax.legend(handles=handles, fontsize=TEXT_SIZE, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2,
              frameon=False)  # above the rows, under the title: it hides no pair
    return ax

