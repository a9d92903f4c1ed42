"""The tour's figures carry the numbers that check them, and every number equals an independent computation.

The picture sections run on the shipped spaces; a Tour that keeps each saved figure lets the test
read what was drawn (every pair, the arrows) besides the report's tables and captions.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import LineCollection

from embedspace.analysis.probes import read_pairs
from embedspace.paths import wordlists_dir
from embedspace.session import Session
from embedspace.tour import picture_sections
from embedspace.tour.inputs import Tour, Unavailable
from embedspace.tour.report import Figure, Section, Table


class Keeping(Tour):
    """A Tour that keeps every matplotlib figure it saves, by file name."""

    def __init__(self, out_dir: Path, session: Session):
        super().__init__(out_dir, session)
        self.kept = {}

    def save(self, figure, name, caption, views=()):
        self.kept[name] = figure
        return super().save(figure, name, caption, views)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(tour, {section function name: Section}) for the picture sections, and the session's spaces."""
    sections = {}
    with Session() as session:
        tour = Keeping(tmp_path_factory.mktemp("pictures"), session)
        for name in ("section_analogy_figure", "section_plurality", "section_gender", "section_pca"):
            sections[name] = Section(name, "")
            getattr(picture_sections, name)(tour, sections[name])
        spaces = {name: tour.space(name) for name in ("word2vec", "minilm", "mini") if available(tour, name)}
        yield tour, sections, spaces


def available(tour: Tour, name: str) -> bool:
    try:
        tour.space(name)
        return True
    except Unavailable:
        return False


def block(section: Section, kind):
    return next(b for b in section.blocks if isinstance(b, kind))


def unit(space, word: str) -> np.ndarray:
    vector = space[word].astype(np.float64)
    return vector / np.linalg.norm(vector)


def test_the_analogy_table_states_the_true_distance_and_its_part_off_the_plane(built):
    _, sections, spaces = built
    table = block(sections["section_analogy_figure"], Table)
    assert table.headers[2:5] == ["star to queen", "in the plane", "off the plane"]
    for row in table.rows:
        k, m, w, q = (unit(spaces[row[0]], x) for x in ("king", "man", "woman", "queen"))
        distance = np.linalg.norm(q - (k - m + w))
        plane = np.column_stack([w - m, k - m])
        off = np.linalg.norm((q - m) - plane @ np.linalg.lstsq(plane, q - m, rcond=None)[0])
        np.testing.assert_allclose(row[2:5], [distance, np.sqrt(distance**2 - off**2), off], rtol=1e-5)
    assert len(table.rows) == len(spaces) >= 1


def test_the_family_figure_states_the_mean_cosine_of_each_pair_with_the_axis(built):
    _, sections, spaces = built
    figure = block(sections["section_pca"], Figure)
    stated = dict(re.findall(r"(\w+) (\d\.\d\d) in the space", figure.caption))
    assert sorted(stated) == sorted(spaces)
    for name, value in stated.items():
        space = spaces[name]
        pairs = [(m, f) for m, f in picture_sections.FAMILY if m in space and f in space]
        differences = np.stack([space[f].astype(np.float64) - space[m] for m, f in pairs])  # [P, D]
        mean = differences.mean(axis=0)
        cosines = differences @ mean / (np.linalg.norm(differences, axis=1) * np.linalg.norm(mean))
        assert value == f"{cosines.mean():.2f}", name
    table = block(sections["section_pca"], Table)
    assert [row[0] for row in table.rows] == list(stated)
    assert [view.view_id for view in figure.views] == [f"family-{name}" for name in stated]


def drawn_pairs(figure) -> list[int]:
    """How many pairs each panel of a pair figure joins with a line."""
    return [len(next(c for c in ax.collections if isinstance(c, LineCollection)).get_segments())
            for ax in figure.axes if ax.collections]


def test_the_plurality_figure_draws_every_pair_and_says_so(built):
    tour, sections, spaces = built
    pairs = [p for p in read_pairs(wordlists_dir() / "plurals.tsv") if p != ("cats", "cat")]
    present = {name: sum(a in s and b in s for a, b in pairs) for name, s in spaces.items() if "cats" in s}
    assert drawn_pairs(tour.kept["probe_plurality.png"]) == [n + 1 for n in present.values()]  # and cats/cat itself
    caption = block(sections["section_plurality"], Figure).caption
    for name, n in present.items():
        assert (f"{name}: all {n} pairs shown" if n == len(pairs) else f"{name}: {n} of {len(pairs)} pairs shown") \
            in caption


def test_the_gender_figure_draws_every_defining_and_held_out_pair(built):
    tour, _, spaces = built
    family = read_pairs(wordlists_dir() / "family.tsv")
    defining = [p for p in read_pairs(wordlists_dir() / "gender.tsv") if p not in family]
    counts = [sum(a in s and b in s for a, b in defining) + sum(a in s and b in s for a, b in family)
              for s in spaces.values()]
    assert drawn_pairs(tour.kept["probe_gender.png"]) == counts
    headings = [t.get_text() for ax in tour.kept["probe_gender.png"].axes for t in ax.texts]
    assert sum(h.startswith("held out") for h in headings) == len(spaces)
    assert sum(h.startswith("built from") for h in headings) == len(spaces)


def test_the_3d_sections_give_one_view_per_space_with_distinct_ids(built):
    _, sections, spaces = built
    ids = [v.view_id for name in ("section_analogy_figure", "section_pca")
           for v in block(sections[name], Figure).views]
    assert len(ids) == len(set(ids)) == 2 * len(spaces)
