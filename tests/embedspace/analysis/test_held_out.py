"""Held-out pair reports: each pair that built a direction is scored along a direction built without it."""
from __future__ import annotations

import numpy as np
import pytest

from embedspace.analysis.probes import direction_from_pairs, held_out_report, pair_report, read_pairs
from embedspace.errors import InvalidInput
from embedspace.paths import wordlists_dir
from embedspace.space import Space


@pytest.fixture(scope="module")
def space() -> Space:
    rng = np.random.default_rng(4)
    keys = [f"w{i}" for i in range(40)]
    vectors = rng.normal(size=(40, 6)).astype(np.float32)
    vectors[1::2] += vectors[0::2] * 0.2 + np.array([1.0, 0.5, 0, 0, 0, 0], dtype=np.float32)  # a shared direction
    return Space(keys, vectors, name="random")


def pairs_of(n: int) -> list[tuple[str, str]]:
    return [(f"w{2 * i + 1}", f"w{2 * i}") for i in range(n)]


def leave_one_out_by_hand(space: Space, pairs, measure_norm: bool = False) -> list[tuple[float, float]]:
    """(high, low) dot products along the mean difference of the other pairs, in plain numpy."""
    vectors = {k: space.vectors[space.key_to_index[k]].astype(np.float64) for pair in pairs for k in pair}
    scores = []
    for i, (high, low) in enumerate(pairs):
        others = [vectors[h] - vectors[lo] for j, (h, lo) in enumerate(pairs) if j != i]
        direction = np.mean(others, axis=0)
        scores.append((vectors[high] @ direction, vectors[low] @ direction))
    return scores


def test_leave_one_out_equals_a_direct_computation(space):
    pairs = pairs_of(12)
    report = held_out_report(space, pairs)
    assert report.scheme == "leave-one-out" and report.held_out == 12 and report.folds == 12
    expected = leave_one_out_by_hand(space, pairs)
    assert [(h, lo) for h, lo, _, _ in report.rows] == pairs
    np.testing.assert_allclose([(a, b) for _, _, a, b in report.rows], expected, rtol=1e-5, atol=1e-5)
    gaps = np.array([a - b for a, b in expected])
    assert report.wins == int((gaps > 0).sum()) and report.mean_gap == pytest.approx(gaps.mean(), rel=1e-5)


def test_k_fold_leaves_out_a_whole_fold(space):
    pairs = pairs_of(15)
    report = held_out_report(space, pairs, max_folds=4)  # folds: pair i in fold i % 4
    assert report.scheme == "4-fold" and report.held_out == 15
    for i, (high, low, a, b) in enumerate(report.rows):
        kept = [p for j, p in enumerate(pairs) if j % 4 != i % 4]
        d = direction_from_pairs(space, kept)
        assert (a, b) == pytest.approx((float(space[high] @ d.vector), float(space[low] @ d.vector)), rel=1e-5)


def test_pca_directions_are_held_out_too(space):
    pairs = pairs_of(8)
    report = held_out_report(space, pairs, method="pca", measure="cosine")
    high, low, a, b = report.rows[3]
    d = direction_from_pairs(space, pairs[:3] + pairs[4:], method="pca")
    cosines = [float(v @ d.vector / np.linalg.norm(v) / np.linalg.norm(d.vector)) for v in (space[high], space[low])]
    assert (a, b) == pytest.approx(cosines, abs=1e-5)


def test_report_pairs_not_among_the_built_ones_use_the_whole_direction(space):
    built, other = pairs_of(6), [("w39", "w38"), ("w37", "nope")]
    report = held_out_report(space, built, report=[built[0], *other])
    assert report.held_out == 1 and report.missing == [("w37", "nope")]
    whole = pair_report(space, direction_from_pairs(space, built), other[:1])
    assert report.rows[1] == pytest.approx(whole.rows[0])
    assert report.rows[0][2:] == pytest.approx(leave_one_out_by_hand(space, built)[0], rel=1e-5)


def test_one_pair_cannot_be_held_out(space):
    with pytest.raises(InvalidInput, match="at least two distinct pairs"):
        held_out_report(space, pairs_of(1) * 3)


def test_the_in_sample_figures_flatter_the_shipped_gender_pairs(minilm):
    pairs = read_pairs(wordlists_dir() / "gender.tsv")
    in_sample = pair_report(minilm, direction_from_pairs(minilm, pairs), pairs)
    held_out = held_out_report(minilm, pairs)
    assert held_out.scheme == "leave-one-out" and len(held_out.rows) == len(pairs) == 20
    assert held_out.effect_size < in_sample.effect_size and held_out.mean_gap < in_sample.mean_gap
