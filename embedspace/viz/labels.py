"""Label placement: each word written beside its point, where it covers no other label, no point and no arrow.

:func:`label_points` writes the labels and adds a :class:`Labeller` to the axes, which places them
again every time the figure is drawn, on the finished layout (so a figure laid out later, saved at
another resolution or cropped still has its labels where they were chosen). For each label, in
order, it tries the spots of :data:`LABEL_SPOTS` beside the point, then rings of spots further out
(joined to the point by a thin leader line), and takes the first that overlaps nothing: not the
labels already placed, not any point's marker, arrow, legend, tick label or axis label, and stays
inside the axes. Only when no spot at all is free does it take the one that overlaps least.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.artist import Artist

from embedspace.viz.figures import TEXT_SIZE, outline

MAX_AVOIDED_LABELS = 300  # beyond this, labels keep their default spot (placement grows with N squared)
MARKER_SIZE = 40.0  # a scatter marker's default area (points squared), as plot_points draws them
# offsets (points) and alignments tried first for a label: right-above, right-below, left-above, ...
LABEL_SPOTS = ((5, 3, "left", "bottom"), (5, -3, "left", "top"), (-5, 3, "right", "bottom"),
               (-5, -3, "right", "top"), (0, 7, "center", "bottom"), (0, -7, "center", "top"),
               (7, -5, "left", "bottom"), (-7, -5, "right", "bottom"))
RINGS = (12, 18, 26, 36, 48, 64, 84, 110)  # radii (points) of the further spots, 16 directions each
MARGIN = 1.0  # points of free space kept around every label
LINE_HALF_WIDTH = 1.5  # points: half the width an arrow blocks


def ring_spots() -> tuple[tuple[float, float, str, str], ...]:
    """Every spot a label may take, nearest first: :data:`LABEL_SPOTS`, then 16 directions per ring."""
    spots = list(LABEL_SPOTS)
    for radius in RINGS:
        for angle in np.linspace(0, 2 * np.pi, 16, endpoint=False):
            dx, dy = radius * np.cos(angle), radius * np.sin(angle)
            ha = "left" if dx > 0.3 * radius else "right" if dx < -0.3 * radius else "center"
            va = "bottom" if dy > 0.3 * radius else "top" if dy < -0.3 * radius else "center"
            spots.append((round(float(dx), 3), round(float(dy), 3), ha, va))
    return tuple(spots)


SPOTS = ring_spots()


class Labeller(Artist):
    """Places the labels of one axes at draw time, and draws their leader lines.

    Parameters
    ----------
    ax : matplotlib Axes (2D or 3D)
    coords : ndarray [N, 2] or [N, 3]
        The labelled points, in data coordinates.
    texts : list of Text [N]
        Their labels (2D: annotations of the points; 3D: ``Text3D``), already on ``ax``.
    sizes : ndarray [N]
        Each point's marker area in points squared (a scatter's ``s``); 0 for an unmarked anchor.
    segments : sequence of (start, end)
        Arrows and lines (data coordinates) that labels must not cover.
    markers : (ndarray [M, dims], ndarray [M])
        Other markers to keep clear (coordinates and areas), e.g. an unlabelled star.
    """

    def __init__(self, ax, coords: np.ndarray, texts: list, sizes: np.ndarray, segments: Sequence = (),
                 markers: tuple | None = None):
        super().__init__()
        self.ax, self.coords, self.texts = ax, np.asarray(coords, dtype=np.float64), texts
        self.sizes = np.asarray(sizes, dtype=np.float64)
        self.segments = [(np.asarray(s, dtype=np.float64), np.asarray(e, dtype=np.float64)) for s, e in segments]
        dims = self.coords.shape[1]
        self.markers = markers or (np.zeros((0, dims)), np.zeros(0))
        self.leaders: list = []
        self.set_zorder(3.9)  # before the texts (zorder 4): they are drawn where it puts them
        self.set_in_layout(False)

    # -- where things are on screen -------------------------------------------------------------------
    def display(self, points: np.ndarray) -> np.ndarray:
        """Display coordinates [N, 2] of data points [N, 2|3] in the current view."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, self.coords.shape[1])
        if points.shape[1] == 3:
            from mpl_toolkits.mplot3d import proj3d

            xs, ys, _ = proj3d.proj_transform(*points.T, self.ax.get_proj())
            points = np.column_stack([xs, ys])
        return self.ax.transData.transform(points)

    def obstacles(self, renderer, per_point: float) -> np.ndarray:
        """Boxes [M, 4] (display x0, y0, x1, y1) labels must not cover: markers, arrows, legend, ticks."""
        centres = np.vstack([self.display(self.coords), self.display(self.markers[0])])  # [N + M, 2]
        radii = (np.sqrt(np.concatenate([self.sizes, self.markers[1]])) / 2 + 0.5) * per_point  # [N + M]
        boxes = [np.column_stack([centres - radii[:, None], centres + radii[:, None]])]
        half = LINE_HALF_WIDTH * per_point
        for start, end in self.segments:
            a, b = self.display(np.vstack([start, end]))
            steps = max(2, int(np.hypot(*(b - a)) / half) + 1)
            along = a + np.linspace(0.0, 1.0, steps)[:, None] * (b - a)  # [S, 2]
            boxes.append(np.column_stack([along - half, along + half]))
        boxes += [np.array([box]) for box in decoration_boxes(self.ax, renderer)]
        return np.vstack(boxes)

    # -- placing --------------------------------------------------------------------------------------
    def place(self, renderer=None) -> None:
        """Choose every label's spot for the current layout and move the labels there."""
        if renderer is None:  # before the first draw: one renderer for every measurement (each makes its own)
            renderer = self.ax.figure._get_renderer()
        per_point = self.ax.figure.dpi / 72.0
        anchors = self.display(self.coords)  # [N, 2]
        sizes = np.array([text_size(t, renderer) for t in self.texts]).reshape(-1, 2)  # [N, 2] pixels
        spots = SPOTS if len(self.texts) <= MAX_AVOIDED_LABELS else LABEL_SPOTS[:1]
        chosen = choose_spots(anchors, sizes, spots, self.obstacles(renderer, per_point),
                              tuple(self.ax.bbox.extents), per_point)
        self.leaders = []
        for i, (text, spot) in enumerate(zip(self.texts, chosen)):
            dx, dy, ha, va = spot
            text.set_horizontalalignment(ha)
            text.set_verticalalignment(va)
            if self.coords.shape[1] == 2:
                text.xyann = (dx, dy)
            else:
                move_3d(self.ax, text, self.coords[i], anchors[i] + np.array([dx, dy]) * per_point)
            if spot not in LABEL_SPOTS:
                box = spot_box(anchors[i], sizes[i], spot, per_point, 0.0)
                self.leaders.append((anchors[i], nearest_on_box(anchors[i], box)))

    def draw(self, renderer) -> None:
        from matplotlib.lines import Line2D
        from matplotlib.transforms import IdentityTransform

        if not self.get_visible():
            return
        self.place(renderer)
        for start, end in self.leaders:
            line = Line2D([start[0], end[0]], [start[1], end[1]], color="0.55", linewidth=0.6,
                          transform=IdentityTransform())
            line.set_figure(self.ax.figure)
            line.draw(renderer)


def label_points(ax, coords: np.ndarray, labels: Sequence[str], sizes=MARKER_SIZE, segments: Sequence = (),
                 markers: tuple | None = None) -> Labeller:
    """Write each label beside its point and keep it placed (see the module's description).

    ``sizes`` is each point's marker area (points squared, a scatter's ``s``: one number or [N]);
    ``segments`` are ``(start, end)`` pairs in data coordinates (arrows) that labels avoid;
    ``markers`` ``(coords [M, dims], sizes [M])`` are further markers to keep clear.
    Returns the :class:`Labeller`, whose ``texts`` are the labels.

    Examples
    --------
    >>> from embedspace.viz.figures import new_axes
    >>> ax = new_axes()
    >>> _ = ax.scatter([0, 0, 1], [0, 0, 1], s=MARKER_SIZE)
    >>> labeller = label_points(ax, np.array([[0, 0], [0, 0], [1, 1.0]]), ["one", "two", "far"])
    >>> [t.get_text() for t in labeller.texts], labeller.texts[0].xyann != labeller.texts[1].xyann
    (['one', 'two', 'far'], True)
    """
    coords = np.asarray(coords, dtype=np.float64)
    sizes = np.broadcast_to(np.asarray(sizes, dtype=np.float64), (len(labels),))
    if coords.shape[1] == 3:
        texts = [ax.text(*xyz, str(label), fontsize=TEXT_SIZE, path_effects=outline(), zorder=4)
                 for xyz, label in zip(coords, labels)]
    else:
        texts = [ax.annotate(str(label), xy, xytext=LABEL_SPOTS[0][:2], textcoords="offset points",
                             fontsize=TEXT_SIZE, path_effects=outline(), zorder=4) for xy, label in zip(coords, labels)]
    for text in texts:
        text.set_in_layout(False)
    labeller = Labeller(ax, coords, texts, sizes, segments, markers)
    ax.add_artist(labeller)
    finish_layout(ax)
    labeller.place()  # now, so the labels' spots are known before the first draw
    return labeller


def label_points_2d(ax, coords: np.ndarray, labels: Sequence[str], segments: Sequence[tuple] = ()) -> Labeller:
    """:func:`label_points` for a 2D axes (kept for callers of the earlier name)."""
    return label_points(ax, coords, labels, segments=segments)


def label_points_3d(ax, coords: np.ndarray, labels: Sequence[str]) -> Labeller:
    """:func:`label_points` for a 3D axes: a label sits in 3D at its point's depth."""
    return label_points(ax, coords, labels)


def finish_layout(ax) -> None:
    """Settle the data limits and lay out the figure, so display positions are those of the picture."""
    ax.autoscale_view()
    engine = ax.figure.get_layout_engine()
    if engine is not None:
        engine.execute(ax.figure)
    ax.apply_aspect()


def move_3d(ax, text, point: np.ndarray, target: np.ndarray) -> None:
    """Put a 3D ``text`` where ``target`` (display) is, at the depth of its ``point`` [3]."""
    from mpl_toolkits.mplot3d import proj3d

    projection = ax.get_proj()  # [4, 4]
    _, _, depth = proj3d.proj_transform(*point, projection)
    shifted = ax.transData.inverted().transform(target)
    x, y, z = (float(np.ravel(v)[0]) for v in proj3d.inv_transform(shifted[0], shifted[1], depth,
                                                                     np.linalg.inv(projection)))
    text.set_position_3d((x, y, z))


def text_size(text, renderer=None) -> tuple[float, float]:
    """Width and height in display pixels of a text's own box (an annotation's arrow left out)."""
    from matplotlib.text import Text

    box = Text.get_window_extent(text, renderer)
    return box.width, box.height


def decoration_boxes(ax, renderer) -> list[tuple[float, float, float, float]]:
    """Display boxes of the legend, tick labels and axis labels drawn over the data area (3D axes)."""
    artists = []
    legend = ax.get_legend()
    if legend is not None and legend.get_visible():
        artists.append(legend)
    if ax.name == "3d":  # 2D tick and axis labels lie outside the frame, which labels never leave
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
            artists += [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            artists.append(axis.label)
    boxes = []
    for artist in artists:
        box = artist.get_window_extent(renderer)
        if box.width > 0 and box.height > 0 and np.all(np.isfinite(box.extents)):
            boxes.append(tuple(box.extents))
    return boxes


def choose_spots(anchors: np.ndarray, sizes: np.ndarray, spots: Sequence[tuple], obstacles: np.ndarray,
                 frame: tuple, per_point: float) -> list[tuple]:
    """For each anchor [N, 2] (display), the spot its label [N, 2] (width, height) takes.

    Greedy, in order: the first spot (nearest first) whose box overlaps no obstacle [M, 4], no label
    already placed and stays inside ``frame``; failing that, the spot that overlaps least.

    Examples
    --------
    >>> anchors = np.array([[50.0, 50.0], [50.0, 50.0]])  # two labels of one point
    >>> choose_spots(anchors, np.array([[20.0, 8.0], [20.0, 8.0]]), SPOTS, np.zeros((0, 4)), (0, 0, 100, 100), 1.0)
    [(5, 3, 'left', 'bottom'), (5, -3, 'left', 'top')]
    """
    placed, chosen = np.zeros((0, 4)), []
    for anchor, size in zip(anchors, sizes):
        boxes = np.array([spot_box(anchor, size, spot, per_point, MARGIN) for spot in spots])  # [C, 4]
        cost = overlaps(boxes, np.vstack([obstacles, placed])).sum(axis=1) + outside(boxes, frame)  # [C]
        free = np.flatnonzero(cost <= 0)
        best = int(free[0]) if free.size else int(np.argmin(cost))
        chosen.append(spots[best])
        placed = np.vstack([placed, spot_box(anchor, size, spots[best], per_point, MARGIN)])
    return chosen


def spot_box(anchor: np.ndarray, size: Sequence[float], spot: tuple, per_point: float,
             margin: float) -> np.ndarray:
    """Display box [4] (x0, y0, x1, y1) of a label of ``size`` (pixels) written at ``spot`` from ``anchor``."""
    dx, dy, ha, va = spot
    width, height = size
    x = anchor[0] + dx * per_point - {"left": 0.0, "center": width / 2, "right": width}[ha]
    y = anchor[1] + dy * per_point - {"bottom": 0.0, "center": height / 2, "top": height}[va]
    pad = margin * per_point
    return np.array([x - pad, y - pad, x + width + pad, y + height + pad])


def overlaps(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Area shared by each of ``boxes`` [C, 4] with each of ``others`` [M, 4]: [C, M]."""
    if others.size == 0:
        return np.zeros((len(boxes), 0))
    wide = np.minimum(boxes[:, None, 2], others[None, :, 2]) - np.maximum(boxes[:, None, 0], others[None, :, 0])
    tall = np.minimum(boxes[:, None, 3], others[None, :, 3]) - np.maximum(boxes[:, None, 1], others[None, :, 1])
    return np.clip(wide, 0, None) * np.clip(tall, 0, None)


def outside(boxes: np.ndarray, frame: tuple) -> np.ndarray:
    """Area of each box [C, 4] that lies outside ``frame`` (x0, y0, x1, y1): [C]."""
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return area - overlaps(boxes, np.array([frame], dtype=np.float64))[:, 0]


def nearest_on_box(point: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The point of ``box`` [4] nearest to ``point`` [2] (where a leader line meets its label)."""
    return np.clip(point, box[:2], box[2:])
