"""Labels never overlap each other or cover a point's marker: measured on the rendered figure.

The check is independent of the placement code: it renders the figure with Agg, takes each label's
box as matplotlib drew it, and each scatter marker as the circle it drew (centre and size read back
from the collection), for a dense case and for the tour's own figures.
"""
import matplotlib

matplotlib.use("Agg")

from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.text import Text

from embedspace.viz import plots
from embedspace.viz.labels import Labeller

DENSE = 40


def root_figure(ax):
    return ax.get_figure(root=True)


def collisions(figure, dpi: float | None = None) -> tuple[list, list, int]:
    """Render ``figure``; (label pairs that overlap, (label, marker) pairs that touch, labels checked)."""
    if dpi is not None:
        figure.set_dpi(dpi)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    overlapping, covering, count = [], [], 0
    for ax in figure.axes:
        texts = [t for a in ax.artists if isinstance(a, Labeller) for t in a.texts]
        boxes = [Text.get_window_extent(t, renderer) for t in texts]  # the text as drawn, without arrows
        count += len(texts)
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if boxes[i].overlaps(boxes[j]):
                    overlapping.append((texts[i].get_text(), texts[j].get_text()))
        for collection in (c for c in ax.collections if isinstance(c, PathCollection)):
            centres = collection.get_offset_transform().transform(collection.get_offsets())  # [M, 2] pixels
            sizes = np.broadcast_to(collection.get_sizes(), (len(centres),))
            radii = np.sqrt(sizes) / 2 * figure.dpi / 72  # the marker's radius in pixels
            for text, box in zip(texts, boxes):
                nearest = np.clip(centres, [box.x0, box.y0], [box.x1, box.y1])  # nearest point of the box
                touching = np.hypot(*(nearest - centres).T) < radii
                covering += [(text.get_text(), tuple(np.round(c))) for c in centres[touching]]
    return overlapping, covering, count


def dense(dims: int) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(11)
    words = [f"{w}{i}" for i, w in enumerate(["cat", "river", "mountain", "a", "philosophy", "tree", "ox",
                                               "dog"] * 5)][:DENSE]
    return rng.normal(size=(DENSE, dims)), words


@pytest.mark.parametrize("dims", [2, 3])
def test_forty_dense_labels_overlap_nothing(dims):
    coords, words = dense(dims)
    ax = plots.plot_points(coords, words, groups=["a", "b"] * (DENSE // 2))
    overlapping, covering, count = collisions(root_figure(ax))
    assert count == DENSE and overlapping == [] and covering == []


def test_labels_are_placed_again_when_the_figure_is_saved_at_another_resolution(tmp_path):
    coords, words = dense(2)
    ax = plots.plot_points(coords, words)
    figure = root_figure(ax)
    plots.save_figure(ax, tmp_path / "dense.png")  # 150 dpi, cropped
    overlapping, covering, _ = collisions(figure, dpi=150)
    assert overlapping == [] and covering == []


def test_a_label_that_cannot_sit_beside_its_point_gets_a_leader_line():
    coords = np.zeros((12, 2))  # twelve words on one point
    ax = plots.plot_points(coords, [f"word{i}" for i in range(12)])
    overlapping, covering, _ = collisions(root_figure(ax))
    labeller = next(a for a in ax.artists if isinstance(a, Labeller))
    assert overlapping == [] and covering == [] and len(labeller.leaders) >= 4


def test_the_analogy_labels_keep_clear_of_the_star_and_arrows():
    rng = np.random.default_rng(0)
    vectors = {w: rng.normal(size=8) for w in ["king", "man", "woman", "queen", "apple"]}
    ax = plots.plot_analogy(vectors, "king", "man", "woman", expected="queen")
    overlapping, covering, count = collisions(root_figure(ax))
    assert count >= 5 and overlapping == [] and covering == []  # the words and the star's note


# -- the tour's figures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tour_figures(tmp_path_factory):
    """The figures of the tour's picture sections on the shipped spaces, as drawn and saved."""
    from embedspace.session import Session
    from embedspace.tour import picture_sections
    from embedspace.tour.inputs import Tour
    from embedspace.tour.report import Section

    class Keeping(Tour):
        def __init__(self, out_dir: Path, session):
            super().__init__(out_dir, session)
            self.kept = {}

        def save(self, figure, name, caption, views=()):
            self.kept[name] = figure
            return super().save(figure, name, caption, views)

    out = tmp_path_factory.mktemp("tour-figures")
    with Session() as session:
        tour = Keeping(out, session)
        for build in (picture_sections.section_analogy_figure, picture_sections.section_pca,
                      picture_sections.section_named_axes):
            build(tour, Section("figure", ""))
    return tour.kept


@pytest.mark.parametrize("name", ["analogy_king_queen.png", "pca_family_3d.png", "named_axes_italy_hitler.png"])
def test_the_tour_s_labels_overlap_nothing(tour_figures, name):
    overlapping, covering, count = collisions(tour_figures[name], dpi=150)  # as saved
    assert count > 10 and overlapping == [] and covering == []
