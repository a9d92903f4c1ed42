"""The geometry figures share with their pages: each number a figure states, against an independent computation."""
import matplotlib

matplotlib.use("Agg")

import re

import numpy as np
import pytest
from matplotlib.collections import LineCollection

from embedspace.errors import InvalidInput
from embedspace.space import Space
from embedspace.viz import plots
from embedspace.viz.geometry import analogy_plane, pair_axes, pair_groups, pair_rows
from embedspace.viz.interactive_views import analogy_view, pair_axes_view, pairs_view

WORDS = ["king", "man", "woman", "queen", "apple", "car", "prince"]


@pytest.fixture
def space():
    rng = np.random.default_rng(5)
    return Space(WORDS, rng.normal(size=(len(WORDS), 12)).astype(np.float32))


def unit(space, word) -> np.ndarray:
    vector = space[word].astype(np.float64)
    return vector / np.linalg.norm(vector)


def plane_basis(space) -> np.ndarray:
    """An orthonormal basis [D, 2] of span(woman - man, king - man) by QR, signed like Gram-Schmidt."""
    m, w, k = (unit(space, x) for x in ("man", "woman", "king"))
    q, r = np.linalg.qr(np.column_stack([w - m, k - m]))
    return q * np.sign(np.diag(r))


def test_the_picture_draws_the_star_exactly_at_king_plus_woman_minus_man(space):
    ax = plots.plot_analogy(space, "king", "man", "woman", expected="queen")
    king, man, woman, queen, *rest = (c.get_offsets()[0] for c in ax.collections)
    star = rest[-1]
    np.testing.assert_allclose(star, king + (woman - man), atol=1e-9)
    basis = plane_basis(space)  # the coordinates are those of the plane, independently computed
    m = unit(space, "man")
    for word, drawn in (("king", king), ("man", man), ("woman", woman), ("queen", queen)):
        np.testing.assert_allclose(drawn, (unit(space, word) - m) @ basis, atol=1e-6)  # float32 rows
    np.testing.assert_allclose(star, (unit(space, "king") - 2 * m + unit(space, "woman")) @ basis, atol=1e-6)


def test_the_stated_distance_is_the_true_one_and_its_part_off_the_plane(space):
    ax = plots.plot_analogy(space, "king", "man", "woman", expected="queen")
    legend = next(t.get_text() for t in ax.get_legend().get_texts() if t.get_text().startswith("star to queen"))
    stated = [float(x) for x in re.findall(r"\d+\.\d+", legend)]  # in the space, in this plane, off it
    k, m, w, q = (unit(space, x) for x in ("king", "man", "woman", "queen"))
    distance = np.linalg.norm(q - (k - m + w))
    coefficients, *_ = np.linalg.lstsq(np.column_stack([w - m, k - m]), q - m, rcond=None)
    off = np.linalg.norm(q - m - np.column_stack([w - m, k - m]) @ coefficients)  # queen's residual from the plane
    np.testing.assert_allclose(stated, [distance, np.sqrt(distance**2 - off**2), off], atol=0.005)
    plane = analogy_plane(space, "king", "man", "woman", "queen")
    np.testing.assert_allclose([plane.distance, plane.off_plane], [distance, off], rtol=1e-6)  # float32 rows
    np.testing.assert_allclose(plane.in_plane**2 + plane.off_plane**2, plane.distance**2, rtol=1e-9)
    assert off > 0.3  # random vectors: queen is well off the plane, so the split is tested for real


def test_the_page_shares_the_picture_s_plane_and_lifts_queen_by_its_distance_off_it(space):
    view = analogy_view(space, "king", "man", "woman", expected="queen")
    plane = analogy_plane(space, "king", "man", "woman", "queen")
    at = dict(zip(view.labels, view.coords))
    for word in ("king", "man", "woman", "queen"):
        np.testing.assert_allclose(at[word], plane.at[word], atol=1e-6)
    np.testing.assert_allclose(at["queen"][2], plane.off_plane, rtol=1e-6)  # z: queen's distance off the plane
    np.testing.assert_allclose([at[w][2] for w in ("king", "man", "woman")], 0, atol=1e-6)
    np.testing.assert_allclose(view.markers[0].at, plane.star, atol=1e-6)
    assert dict(view.details)["distance"] == plane.statement and plane.statement[1:] in view.caption


def test_an_analogy_with_no_plane_is_a_user_error():
    space = Space(["king", "man", "woman", "queen"], np.array([[0, 2], [1, 0], [0, 1], [1, 1]], dtype=np.float32))
    with pytest.raises(InvalidInput, match="lies along the earlier axes"):
        analogy_plane(space, "king", "man", "woman")


# -- pairs along a named axis -------------------------------------------------------------------------

def test_pair_axes_cosines_equal_an_independent_computation():
    rng = np.random.default_rng(3)
    words = [f"{kind}{i}" for i in range(5) for kind in ("m", "f")]
    space = Space(words, rng.normal(size=(10, 16)).astype(np.float32))
    pairs = [(f"m{i}", f"f{i}") for i in range(5)]
    placed = pair_axes(space, pairs)
    vectors = space[words].astype(np.float64)
    differences = vectors[1::2] - vectors[0::2]  # [5, D]
    axis = differences.mean(axis=0) / np.linalg.norm(differences.mean(axis=0))
    expected = differences @ axis / np.linalg.norm(differences, axis=1)
    np.testing.assert_allclose(placed.cosines, expected, rtol=1e-9)
    rest = vectors - np.outer(vectors @ axis, axis)
    _, _, right = np.linalg.svd(rest - rest.mean(axis=0), full_matrices=False)
    drawn = np.column_stack([differences @ axis, (rest[1::2] - rest[0::2]) @ right[:2].T])  # signs do not matter
    np.testing.assert_allclose(placed.drawn_cosines, drawn[:, 0] / np.linalg.norm(drawn, axis=1), rtol=1e-6)
    np.testing.assert_allclose(placed.coords[:, 0], vectors @ axis, rtol=1e-9)
    assert placed.statement == (f"mean cos(pair, axis): {expected.mean():.2f} in the space, "
                                f"{placed.drawn_cosines.mean():.2f} as drawn")


def test_pairs_that_share_one_offset_are_drawn_parallel_to_the_axis():
    rng = np.random.default_rng(4)
    base = rng.normal(size=(4, 8))
    offset = rng.normal(size=8)
    words = [w for i in range(4) for w in (f"m{i}", f"f{i}")]
    space = Space(words, np.vstack([[b, b + offset] for b in base]).reshape(8, 8).astype(np.float32))
    placed = pair_axes(space, [(f"m{i}", f"f{i}") for i in range(4)], axis_name="gender")
    np.testing.assert_allclose(placed.cosines, 1.0, atol=1e-6)
    for start, end in placed.arrows:
        np.testing.assert_allclose((end - start)[1:], 0.0, atol=1e-6)  # along x only
    view = pair_axes_view(placed, ("male", "female"), view_id="family")
    assert [(tuple(a.start), tuple(a.end)) for a in view.arrows] == [(tuple(s), tuple(e)) for s, e in placed.arrows]
    assert view.axis_labels[0] == "gender" and view.groups == ["male", "female"] * 4


# -- pair charts: every pair drawn and joined ------------------------------------------------------------

def pair_report_rows(n: int, seed: int = 0) -> list[tuple[str, str, float, float]]:
    rng = np.random.default_rng(seed)
    return [(f"w{i}s", f"w{i}", float(rng.normal() + 0.5), float(rng.normal())) for i in range(n)]


def test_every_pair_is_drawn_on_its_own_row_joined_and_held_out_ones_marked():
    report = pair_report_rows(44)
    rows = pair_rows(report, built_from=[("w3", "w3s")])  # either order names the pair
    extra = [("one", 0.1), ("two", 0.3), ("three", -0.2)]
    ax = plots.plot_pairs(rows, names=("plural", "singular"), extra=extra, extra_name="one..three")
    ticks = dict(zip((t.get_text() for t in ax.get_yticklabels()), ax.get_yticks()))
    segments = ax.collections[0].get_segments()
    assert isinstance(ax.collections[0], LineCollection) and len(segments) == 44
    highs, lows = (set(map(tuple, c.get_offsets())) for c in ax.collections[1:3])
    for high, low, high_score, low_score in report:  # every pair, joined from its low to its high member
        y = ticks[f"{high} / {low}"]
        assert any(np.allclose(s, [[low_score, y], [high_score, y]]) for s in segments), high
        assert (high_score, y) in highs and (low_score, y) in lows
    headings = {t.get_text().split(" (")[0]: t.get_position()[1] for t in ax.texts}
    assert headings["built from"] > ticks["w3s / w3"] > headings["held out"]
    held = [ticks[f"{h} / {lo}"] for h, lo, _, _ in report if h != "w3s"]
    assert max(held) < headings["held out"] and min(held) > headings["one..three"]
    assert [t.get_text() for t in ax.get_yticklabels()][-3:] == ["one", "two", "three"]  # in the order given
    held_wins = sum(hs > ls for high, _, hs, ls in report if high != "w3s")
    assert f"held out ({held_wins} of 43 win)" in [t.get_text() for t in ax.texts]
    failing = {f"{h} / {lo}" for h, lo, hs, ls in report if hs <= ls}
    assert failing and {t.get_text() for t in ax.get_yticklabels() if t.get_color() != "black"} == failing


def test_the_page_draws_the_same_rows_and_groups_as_the_picture():
    rows = pair_rows(pair_report_rows(6, seed=1), built_from=[("w0s", "w0")])
    chart = pairs_view(rows, names=("female", "male"), view_id="gender")
    from embedspace.viz.interactive import view_fragment

    fragment = view_fragment(chart)
    assert fragment.count('class="es-pair"') == 6 and fragment.count('class="es-point"') == 12
    headings = re.findall(r'class="es-heading"[^>]*>([^<]+)<', fragment)
    assert headings == [heading for heading, _ in pair_groups(rows)]
    order = re.findall(r'text-anchor="end">([^<]+ / [^<]+)<', fragment)
    assert order == [f"{r.high} / {r.low}" for r in rows]
