"""Label placement: each word written beside its point, at the spot that collides least.

:func:`label_points_2d` and :func:`label_points_3d` lay out the finished figure, measure where the
points land on screen, and give each label the first of :data:`LABEL_SPOTS` that overlaps least with
the labels already placed, the other points, any arrows and the outside of the axes.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from embedspace.viz.figures import TEXT_SIZE, outline

MAX_AVOIDED_LABELS = 300  # beyond this, labels keep their default offset (placement is quadratic)
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
