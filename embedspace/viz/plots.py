"""Pictures of embedding spaces: scatter plots, the analogy parallelogram, probe bars,
attention heatmaps, temperature bars and layer drift.

Every function takes an optional ``ax`` (``fig`` for grids) and returns it. Without one it
draws on a fresh :class:`matplotlib.figure.Figure`, never on pyplot's global state, so nothing
needs a display. Save with :func:`save_figure` (PNG, SVG or PDF, by the file's extension); in a
notebook, show ``ax.figure``.

matplotlib is imported inside the functions: importing this module is cheap.
"""
from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from embedspace.space import Space
from runtime.files import atomic_file
from runtime.ranking import top_k

log = logging.getLogger(__name__)

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
DPI = 150
TITLE_SIZE = 13
LABEL_SIZE = 11
TEXT_SIZE = 9
MAX_AVOIDED_LABELS = 300  # beyond this, labels keep their default offset (placement is quadratic)


# -- figures and files -------------------------------------------------------------------------
def new_axes(ax=None, figsize: tuple[float, float] = (7.0, 5.5), projection: str | None = None):
    """``ax`` itself, or the axes of a fresh Figure (not registered with pyplot)."""
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, layout="constrained")
    return figure.add_subplot(projection=projection)


def save_figure(ax_or_fig, path: str | os.PathLike) -> Path:
    """Save the figure holding ``ax_or_fig`` to ``path``: PNG, SVG or PDF by extension.

    Tight bounding box, 150 dpi for PNG; written atomically (a temporary file renamed into place),
    creating missing folders.

    Examples
    --------
    >>> import tempfile, os
    >>> ax = plot_probe(["a", "b"], [0.5, -0.2])
    >>> save_figure(ax, os.path.join(tempfile.mkdtemp(), "probe.svg")).suffix
    '.svg'
    """
    from matplotlib.figure import Figure

    path = Path(path)
    file_format = FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise ValueError(f"cannot save a figure as {path.name!r}: use a .png, .svg or .pdf file name")
    figure = ax_or_fig
    while not isinstance(figure, Figure):  # axes -> (sub)figure -> root figure
        figure = figure.figure
    with atomic_file(path, "wb") as out:
        figure.savefig(out, format=file_format, dpi=DPI, bbox_inches="tight", facecolor="white")
    log.info("saved %s", path)
    return path


def group_colours(groups: Sequence[str] | None, n: int) -> tuple[list, list[str | None]]:
    """A colour per point [n] and the distinct groups in order of first appearance."""
    from matplotlib import colormaps

    palette = colormaps["tab10"].colors
    if groups is None:
        return [palette[0]] * n, [None]
    if len(groups) != n:
        raise ValueError(f"{len(groups)} groups for {n} points")
    names = list(dict.fromkeys(groups))
    index = {name: i for i, name in enumerate(names)}
    return [palette[index[g] % len(palette)] for g in groups], names


def outline(width: float = 3.0) -> list:
    """Path effects that draw a thin white halo around text, so labels stay legible on points."""
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground="white")]


# -- scatter plots -------------------------------------------------------------------------------
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
        raise ValueError(f"coordinates must be [N, 2] or [N, 3], got shape {coords.shape}")
    if len(labels) != coords.shape[0]:
        raise ValueError(f"{len(labels)} labels for {coords.shape[0]} points")
    dims = coords.shape[1]
    ax = new_axes(ax, figsize=(7.5, 6.5) if dims == 3 else (7.5, 5.5), projection="3d" if dims == 3 else None)
    if (ax.name == "3d") != (dims == 3):
        raise ValueError(f"{dims}-D coordinates need a {'3D' if dims == 3 else '2D'} axes")
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


# offsets (points) and alignments tried in turn for a label: right-above, right-below, left-above, ...
LABEL_SPOTS = ((5, 3, "left", "bottom"), (5, -3, "left", "top"), (-5, 3, "right", "bottom"),
               (-5, -3, "right", "top"), (0, 7, "center", "bottom"), (0, -7, "center", "top"),
               (7, -5, "left", "bottom"), (-7, -5, "right", "bottom"))


def label_points_2d(ax, coords: np.ndarray, labels: Sequence[str], segments: Sequence[tuple] = ()) -> None:
    """Write each label beside its point, at a spot that avoids the other labels and points.

    ``segments`` are ``(start, end)`` pairs of data coordinates (arrows) that labels also avoid.
    Call it once everything else is on the axes: it lays out the figure to measure where points land.
    """
    finish_layout(ax)
    ax.apply_aspect()
    pixels = ax.transData.transform(coords)  # [N, 2] display coordinates
    along = np.linspace(0.0, 1.0, 12)[:, None]  # [12, 1]
    obstacles = [ax.transData.transform(np.asarray(a) + along * (np.asarray(b) - np.asarray(a))) for a, b in segments]
    for xy, label, (dx, dy, ha, va) in zip(coords, labels, choose_spots(ax, pixels, labels, obstacles)):
        ax.annotate(label, xy, xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                    fontsize=TEXT_SIZE, path_effects=outline(), zorder=4)


def label_points_3d(ax, coords: np.ndarray, labels: Sequence[str]) -> None:
    """Write each label beside its point in a 3D axes, at a spot chosen as in :func:`label_points_2d`.

    The spot is chosen for the current view; the label is placed in 3D at that spot's depth, so it
    stays beside its point (if less carefully placed) when the view is rotated.
    """
    from mpl_toolkits.mplot3d import proj3d

    finish_layout(ax)
    projection = ax.get_proj()  # [4, 4] data -> projected coordinates of the current view
    xs, ys, zs = proj3d.proj_transform(*coords.T, projection)
    pixels = ax.transData.transform(np.column_stack([xs, ys]))  # [N, 2]
    per_point = ax.figure.dpi / 72.0
    inverse = np.linalg.inv(projection)
    for i, (label, (dx, dy, ha, va)) in enumerate(zip(labels, choose_spots(ax, pixels, labels))):
        shifted = ax.transData.inverted().transform(pixels[i] + np.array([dx, dy]) * per_point)
        x, y, z = (float(np.ravel(v)[0]) for v in proj3d.inv_transform(shifted[0], shifted[1], zs[i], inverse))
        ax.text(x, y, z, label, ha=ha, va=va, fontsize=TEXT_SIZE, path_effects=outline(), zorder=4)


def finish_layout(ax) -> None:
    """Lay out the figure and settle the data limits, so display positions are those of the picture."""
    engine = ax.figure.get_layout_engine()
    if engine is not None:
        engine.execute(ax.figure)
    ax.autoscale_view()


def choose_spots(ax, pixels: np.ndarray, labels: Sequence[str], obstacles: Sequence[np.ndarray] = ()) -> list[tuple]:
    """For each point [N, 2] (display coordinates), the entry of :data:`LABEL_SPOTS` its label takes.

    Greedy, in order: each label takes the spot that overlaps least with the labels already placed,
    the other points, the ``obstacles`` (arrays [M, 2] of display points) and the outside of the axes.
    """
    per_point = ax.figure.dpi / 72.0
    points = [(x - 4, y - 4, x + 4, y + 4) for x, y in np.vstack([pixels, *obstacles])]
    frame = tuple(ax.bbox.extents)  # the axes' own box: labels should stay inside it
    spots = LABEL_SPOTS if len(labels) <= MAX_AVOIDED_LABELS else LABEL_SPOTS[:1]
    placed, chosen = [], []
    for i, label in enumerate(labels):
        boxes = [label_box(pixels[i], label, spot, per_point) for spot in spots]
        others = points[:i] + points[i + 1:]  # every point but this label's own, and the obstacles
        costs = [sum(overlap(box, other) for other in placed + others) + outside(box, frame) for box in boxes]
        best = int(np.argmin(costs))
        placed.append(boxes[best])
        chosen.append(spots[best])
    return chosen


def label_box(anchor: np.ndarray, label: str, spot: tuple, per_point: float) -> tuple[float, float, float, float]:
    """Display box (x0, y0, x1, y1) of ``label`` written at ``spot`` from ``anchor``, with a 2-point margin."""
    dx, dy, ha, va = spot
    width, height = (text_width(label) + 4) * per_point, (1.2 * TEXT_SIZE + 2) * per_point
    x = anchor[0] + dx * per_point - {"left": 0.0, "center": width / 2, "right": width}[ha]
    y = anchor[1] + dy * per_point - {"bottom": 0.0, "top": height}[va]
    return x, y, x + width, y + height


def text_width(label: str) -> float:
    """Width in points of ``label`` at the label font size (measured on the glyphs, no renderer needed)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    width, _, _ = text_to_path.get_text_width_height_descent(label, FontProperties(size=TEXT_SIZE), ismath=False)
    return width


def outside(box: tuple, frame: tuple) -> float:
    """Area of ``box`` that lies outside ``frame`` (both x0, y0, x1, y1)."""
    area = (box[2] - box[0]) * (box[3] - box[1])
    return area - overlap(box, frame)


def overlap(a: tuple, b: tuple) -> float:
    """Area shared by two boxes (x0, y0, x1, y1)."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


# -- the analogy parallelogram -----------------------------------------------------------------
def plot_analogy(space: Space | Mapping[str, np.ndarray], a: str, b: str, c: str, expected: str | None = None,
                 ax=None, title: str | None = None):
    """The analogy ``a - b + c`` as a parallelogram in 2D (e.g. king - man + woman).

    Draws b -> c (man -> woman) beside a -> expected (king -> queen), the point a - b + c
    (of unit vectors, as gensim's ``most_similar`` combines them) with a dashed arrow from a,
    and annotates the word nearest to that point (a, b and c excluded; found by
    :func:`embedspace.analysis.arithmetic.most_similar`). The plane is the PCA of the involved unit vectors.

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
    from embedspace.analysis.arithmetic import most_similar
    from embedspace.viz.projections import PCA

    space = space if isinstance(space, Space) else Space(list(space), np.array(list(space.values())))
    nearest, score = most_similar(space, [a, c], [b], topn=1)[0]
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
        raise ValueError(f"{len(words)} words but scores of shape {scores.shape}")
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


# -- attention -----------------------------------------------------------------------------------
def check_attention(weights: np.ndarray, tokens: Sequence[str], ndim: int) -> np.ndarray:
    """``weights`` as a float array of ``ndim`` dims whose last two are [T, T], T = len(tokens)."""
    weights = np.asarray(weights, dtype=np.float64)
    t = len(tokens)
    if weights.ndim != ndim or weights.shape[-2:] != (t, t):
        want = "[T, T]" if ndim == 2 else "[H, T, T]"
        raise ValueError(f"attention weights must be {want} with T = {t} tokens, got shape {weights.shape}")
    return weights


def draw_heatmap(ax, weights: np.ndarray, tokens: Sequence[str], numbers: bool, fontsize: float):
    """One [T, T] attention pattern on ``ax`` (queries down, keys across); returns the image."""
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest")
    ticks = np.arange(len(tokens))
    ax.set_xticks(ticks, tokens, rotation=45, ha="right", rotation_mode="anchor", fontsize=fontsize)
    ax.set_yticks(ticks, tokens, fontsize=fontsize)
    if numbers:
        for (i, j), value in np.ndenumerate(weights):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=fontsize - 1,
                    color="black" if value > 0.6 else "white")
    return image


def plot_attention(weights: np.ndarray, tokens: Sequence[str], ax=None, title: str | None = None):
    """A heatmap of one attention pattern: row = the token attending, column = the token attended to.

    Parameters
    ----------
    weights : ndarray [T, T]
        Rows sum to 1 (softmax over keys).
    tokens : sequence of str [T]
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    The axes (a colour bar is added beside it). Cells show their weight when T <= 12.

    Examples
    --------
    >>> ax = plot_attention(np.eye(3), ["the", "car", "is"])
    >>> [t.get_text() for t in ax.get_xticklabels()], len(ax.images)
    (['the', 'car', 'is'], 1)
    """
    weights = check_attention(weights, tokens, ndim=2)
    size = max(4.5, 0.5 * len(tokens) + 2.5)
    ax = new_axes(ax, figsize=(size + 1.2, size))
    image = draw_heatmap(ax, weights, tokens, numbers=len(tokens) <= 12, fontsize=TEXT_SIZE + 1)
    ax.figure.colorbar(image, ax=ax, label="attention weight", shrink=0.8)
    ax.set_xlabel("attended to (key)", fontsize=LABEL_SIZE)
    ax.set_ylabel("attending (query)", fontsize=LABEL_SIZE)
    ax.set_title(title or "Attention pattern", fontsize=TITLE_SIZE)
    return ax


def plot_attention_grid(weights: np.ndarray, tokens: Sequence[str], fig=None, title: str | None = None):
    """Every head's attention pattern [H, T, T] in a grid sharing one colour bar.

    Returns
    -------
    The figure; its first H axes hold the heads in order (titled ``head 0``, ``head 1``, ...).

    Examples
    --------
    >>> fig = plot_attention_grid(np.full((3, 2, 2), 0.5), ["a", "b"])
    >>> [ax.get_title() for ax in fig.axes[:3]]
    ['head 0', 'head 1', 'head 2']
    """
    weights = check_attention(weights, tokens, ndim=3)
    heads = weights.shape[0]
    columns = math.ceil(math.sqrt(heads))
    rows = math.ceil(heads / columns)
    if fig is None:
        from matplotlib.figure import Figure

        cell = min(3.4, max(2.4, 0.2 * len(tokens) + 1.2))
        fig = Figure(figsize=(cell * columns + 1.4, cell * rows + 0.8), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    fontsize = TEXT_SIZE - 1 if len(tokens) <= 10 else TEXT_SIZE - 2
    for head, ax in enumerate(axes[:heads]):
        image = draw_heatmap(ax, weights[head], tokens, numbers=False, fontsize=fontsize)
        ax.set_title(f"head {head}", fontsize=LABEL_SIZE)
        if head % columns:  # token names on the left column and the bottom row only
            ax.tick_params(labelleft=False)
        if head + columns < heads:
            ax.tick_params(labelbottom=False)
    for ax in axes[heads:]:
        ax.set_axis_off()
    fig.colorbar(image, ax=list(axes[:heads]), label="attention weight", shrink=0.7)
    fig.suptitle(title or f"Attention patterns of {heads} heads (row attends to column)", fontsize=TITLE_SIZE)
    return fig


# -- temperature -------------------------------------------------------------------------------
def softmax_at(logits: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / T) [V], computed stably.

    Examples
    --------
    >>> np.round(softmax_at(np.log(np.array([0.5, 0.25, 0.25])), 1.0), 3).tolist()
    [0.5, 0.25, 0.25]
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    scaled = logits / temperature
    scaled = np.exp(scaled - scaled.max())
    return scaled / scaled.sum()


def plot_temperatures(logits: np.ndarray, tokens: Sequence[str], temperatures: Sequence[float] = (0.5, 1, 2),
                      top_k: int = 10, ax=None, probabilities: bool = False, title: str | None = None):
    """One next-token distribution at several temperatures, as grouped bars.

    The ``top_k`` tokens most likely at T = 1 are shown at every temperature; each bar is
    softmax(logits / T) over the whole vocabulary, and the legend gives each T's entropy.

    Parameters
    ----------
    logits : ndarray [V]
        Scores over the vocabulary (or probabilities, with ``probabilities=True``).
    tokens : sequence of str [V]
    temperatures : sequence of float
    top_k : int
    ax : matplotlib Axes, optional
    probabilities : bool
        ``logits`` holds probabilities (their logarithm is used as logits).
    title : str, optional

    Returns
    -------
    The axes; one bar container per temperature.

    Examples
    --------
    >>> ax = plot_temperatures(np.array([2.0, 1.0, 0.0, -1.0]), ["a", "b", "c", "d"], top_k=3)
    >>> len(ax.containers), [t.get_text() for t in ax.get_xticklabels()]
    (3, ['a', 'b', 'c'])
    """
    values = np.asarray(logits, dtype=np.float64)
    if values.ndim != 1 or values.shape[0] != len(tokens):
        raise ValueError(f"expected logits [V] for {len(tokens)} tokens, got shape {values.shape}")
    if probabilities:
        if np.any(values < 0):
            raise ValueError("probabilities cannot be negative")
        with np.errstate(divide="ignore"):
            values = np.log(values)
    if not temperatures:
        raise ValueError("give at least one temperature")
    shown = top_k_indices(values, top_k)
    ax = new_axes(ax, figsize=(max(6.5, 0.22 * len(shown) * len(temperatures) + 2.0), 4.8))
    width = 0.8 / len(temperatures)
    x = np.arange(len(shown))
    for i, temperature in enumerate(temperatures):
        probs = softmax_at(values, temperature)  # [V]
        entropy = -np.sum(probs[probs > 0] * np.log2(probs[probs > 0]))
        ax.bar(x + (i - (len(temperatures) - 1) / 2) * width, probs[shown], width=width, zorder=2,
               label=f"T = {temperature:g} (entropy {entropy:.2f} bits)")
    ax.set_xticks(x, [tokens[i] for i in shown], rotation=30, ha="right", rotation_mode="anchor",
                  fontsize=TEXT_SIZE + 1)
    ax.set_xlabel("next token", fontsize=LABEL_SIZE)
    ax.set_ylabel("probability", fontsize=LABEL_SIZE)
    ax.grid(True, axis="y", alpha=0.3, zorder=0)
    ax.legend(fontsize=TEXT_SIZE, framealpha=0.85)
    names = ", ".join(f"{t:g}" for t in temperatures)
    ax.set_title(title or f"Next-token probabilities at T = {names}", fontsize=TITLE_SIZE)
    return ax


def top_k_indices(logits: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` highest-scoring entries [k] (ties by lower index); ``k`` must be at least 1."""
    if k < 1:
        raise ValueError(f"top_k must be at least 1, got {k}")
    return top_k(np.where(np.isfinite(logits), logits, -np.inf), k)


# -- layer drift ---------------------------------------------------------------------------------
def plot_layer_drift(cosines: Mapping[str, Sequence[float]], ax=None, title: str | None = None,
                     ylabel: str = "cosine similarity"):
    """Lines over layers: x = layer 0..L (0 = the embeddings entering the first block), y = cosine.

    Parameters
    ----------
    cosines : mapping of label -> sequence of float [L + 1]
        One line per label (e.g. ``"same sense"``, ``"to its static row"``).
    ax : matplotlib Axes, optional
    title : str, optional
    ylabel : str

    Returns
    -------
    The axes; one line per label, in order.

    Examples
    --------
    >>> ax = plot_layer_drift({"ML vs ML": [1.0, 0.9, 0.8], "ML vs fashion": [1.0, 0.7, 0.4]})
    >>> len(ax.lines), ax.get_xlabel()
    (2, 'layer (0 = embeddings entering the first block)')
    """
    if not cosines:
        raise ValueError("give at least one series of per-layer values")
    ax = new_axes(ax, figsize=(7.0, 4.5))
    most_layers = 0
    for label, values in cosines.items():
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"series {label!r} must be a non-empty list of per-layer values")
        ax.plot(np.arange(values.size), values, marker="o", linewidth=2, markersize=5, label=label)
        most_layers = max(most_layers, values.size)
    ax.set_xticks(np.arange(most_layers))
    ax.set_xlabel("layer (0 = embeddings entering the first block)", fontsize=LABEL_SIZE)
    ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=TEXT_SIZE, framealpha=0.85, loc="best")
    ax.set_title(title or "How the vector changes from layer to layer", fontsize=TITLE_SIZE)
    return ax
