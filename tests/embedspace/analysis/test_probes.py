"""Direction probes: directions, scores, rankings and reports, checked against independent computations."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from embedspace.analysis.probes import (
    Direction,
    direction_from_expression,
    direction_from_pairs,
    order_report,
    pair_report,
    rank,
    read_pairs,
    score,
    score_all,
)
from embedspace.errors import FormatError, UnknownKeyError
from embedspace.space import Space

WORDLISTS = Path(__file__).resolve().parents[3] / "data" / "wordlists"


@pytest.fixture(scope="module")
def space():
    rng = np.random.default_rng(11)
    keys = ["cat", "cats", "dog", "dogs", "one", "two", "three", "four"] + [f"w{i}" for i in range(300)]
    return Space(keys, rng.standard_normal((len(keys), 20)).astype(np.float32) * rng.uniform(0.2, 3, (len(keys), 1)))


def test_directions_from_an_expression_and_from_pairs(space):
    v = space.vectors.astype(np.float64)
    i = space.key_to_index
    d = direction_from_expression(space, "cats - cat")
    np.testing.assert_allclose(d.vector, v[i["cats"]] - v[i["cat"]], rtol=1e-6)
    assert d.pairs == (("cats", "cat"),) and d.name == "cats - cat"
    weighted = direction_from_expression(space, "0.5*cats - cat + dogs")
    np.testing.assert_allclose(weighted.vector, 0.5 * v[i["cats"]] - v[i["cat"]] + v[i["dogs"]], rtol=1e-5, atol=1e-6)
    mean = direction_from_pairs(space, [("cats", "cat"), ("dogs", "dog")])
    np.testing.assert_allclose(mean.vector, (v[i["cats"]] - v[i["cat"]] + v[i["dogs"]] - v[i["dog"]]) / 2, rtol=1e-5)


def test_pca_direction_equals_scikit_learn_on_pair_centred_points(space):
    from sklearn.decomposition import PCA

    pairs = [("cats", "cat"), ("dogs", "dog"), ("w1", "w2"), ("w3", "w4")]
    d = direction_from_pairs(space, pairs, method="pca")
    # Bolukbasi et al.: each pair centred on its midpoint, then ordinary PCA of all the points
    points = np.concatenate([[space[h] - (space[h] + space[lo]) / 2, space[lo] - (space[h] + space[lo]) / 2]
                             for h, lo in pairs]).astype(np.float64)
    reference = PCA(n_components=1).fit(points)
    assert abs(float(reference.components_[0] @ d.unit)) == pytest.approx(1.0, abs=1e-5)
    assert d.explained == pytest.approx(reference.explained_variance_ratio_[0], abs=1e-5)
    assert d.unit @ direction_from_pairs(space, pairs).vector > 0  # signed like the mean difference


@pytest.mark.parametrize("make", [
    lambda s: direction_from_expression(s, "cat - cat"),
    lambda s: direction_from_pairs(s, [("cat", "cat"), ("dog", "dog")]),
    lambda s: direction_from_pairs(s, [("cat", "cat")], method="pca"),
])
def test_zero_length_direction_is_a_clear_error(space, make):
    with pytest.raises(ValueError, match="zero length"):
        make(space)


def test_bad_direction_input(space):
    with pytest.raises(ValueError, match="at least one"):
        direction_from_pairs(space, [])
    with pytest.raises(ValueError, match="unknown direction method"):
        direction_from_pairs(space, [("cats", "cat")], method="ica")
    with pytest.raises(UnknownKeyError, match="'catz'"):
        direction_from_expression(space, "catz - cat")
    with pytest.raises(ValueError, match="unknown measure"):
        score(space, direction_from_expression(space, "cats - cat"), ["one"], "sine")


def test_measures_against_float64(space):
    d = direction_from_expression(space, "cats - cat")
    keys = ["one", "two", "w7"]
    v, u = space[keys].astype(np.float64), d.vector.astype(np.float64)
    np.testing.assert_allclose(score(space, d, keys, "dot"), v @ u, rtol=1e-5)
    np.testing.assert_allclose(score(space, d, keys, "projection"), v @ u / np.linalg.norm(u), rtol=1e-5)
    np.testing.assert_allclose(score(space, d, keys, "cosine"),
                               v @ u / np.linalg.norm(u) / np.linalg.norm(v, axis=1), rtol=1e-5)
    for measure in ("dot", "projection", "cosine"):
        everything = score_all(space, d, measure)
        np.testing.assert_allclose(everything[[space.key_to_index[k] for k in keys]], score(space, d, keys, measure),
                                   rtol=1e-5, atol=1e-6)


def test_rank_equals_a_full_sort(space):
    d = direction_from_expression(space, "cats - cat")
    for measure in ("dot", "cosine"):
        top, bottom = rank(space, d, k=5, measure=measure)
        scores = score_all(space, d, measure)
        order = np.argsort(-scores, kind="stable")
        assert [k for k, _ in top] == [space.index_to_key[i] for i in order[:5]]
        assert [k for k, _ in bottom] == [space.index_to_key[i] for i in np.argsort(scores, kind="stable")[:5]]
    top, _ = rank(space, d, k=3, restrict_vocab=50)
    assert all(space.key_to_index[k] < 50 for k, _ in top)


def test_pair_report_statistics(space):
    d = direction_from_expression(space, "cats - cat")
    pairs = [("dogs", "dog"), ("two", "one"), ("four", "three"), ("w1", "w2"), ("nope", "cat")]
    report = pair_report(space, d, pairs)
    assert report.missing == [("nope", "cat")]
    high = score(space, d, ["dogs", "two", "four", "w1"]).astype(np.float64)
    low = score(space, d, ["dog", "one", "three", "w2"]).astype(np.float64)
    assert report.wins == int((high > low).sum())
    assert report.mean_gap == pytest.approx((high - low).mean(), rel=1e-6)
    pooled = np.sqrt((np.var(high, ddof=1) + np.var(low, ddof=1)) / 2)
    assert report.effect_size == pytest.approx((high.mean() - low.mean()) / pooled, rel=1e-5)
    with pytest.raises(ValueError, match="none of the 1 pairs"):
        pair_report(space, d, [("nope", "nada")])


def test_order_report(space):
    d = Direction(np.eye(20, dtype=np.float32)[0], "axis 0")
    keys = ["one", "two", "three", "four", "w5"]
    report = order_report(space, d, keys)
    scores = space[keys][:, 0]
    assert report.spearman == pytest.approx(stats.spearmanr(np.arange(5), scores)[0])
    assert report.increasing == bool(np.all(np.diff(scores) > 0))
    ordered = [space.index_to_key[i] for i in np.argsort(space.vectors[:, 0])[:6]]
    rising = order_report(space, d, ordered)
    assert rising.increasing and rising.spearman == pytest.approx(1.0)
    assert order_report(space, d, ordered[::-1]).spearman == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="at least one word"):
        order_report(space, d, [])


def test_read_pairs(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("# comment\ncats\tcat\n\ndogs dog\n")
    assert read_pairs(path) == [("cats", "cat"), ("dogs", "dog")]
    path.write_text("cats\tcat\ncats\n")
    with pytest.raises(FormatError, match="line 2: expected 2 fields"):
        read_pairs(path)
    path.write_text("# nothing\n")
    with pytest.raises(FormatError, match="no pairs"):
        read_pairs(path)


@pytest.mark.parametrize("name", ["plurals.tsv", "gender.tsv", "family.tsv", "capitals.tsv"])
def test_shipped_pair_lists_parse(name):
    pairs = read_pairs(WORDLISTS / name)
    assert len(pairs) >= 10 and len(set(pairs)) == len(pairs)


@pytest.mark.minilm
def test_minilm_plurality_direction(minilm):
    d = direction_from_expression(minilm, "cats - cat")
    numbers = order_report(minilm, d, ["one", "two", "three", "four"])
    assert numbers.increasing and numbers.spearman == pytest.approx(1.0)
    report = pair_report(minilm, d, [p for p in read_pairs(WORDLISTS / "plurals.tsv") if p != ("cats", "cat")])
    assert report.wins > 0.8 * len(report.rows) and report.effect_size > 0.5
