"""WEAT: effect size and permutation p-value against a plain re-implementation, and the shipped lists."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from embedspace.analysis import weat as weat_module
from embedspace.analysis.weat import WeatLists, permutation_p_value, read_weat, shipped_tests, weat
from embedspace.errors import FormatError
from embedspace.space import Space


def toy(n_targets: int = 5, seed: int = 0) -> tuple[Space, WeatLists]:
    rng = np.random.default_rng(seed)
    names = {role: [f"{role.lower()}{i}" for i in range(n_targets)] for role in "XYAB"}
    keys = [w for role in "XYAB" for w in names[role]]
    vectors = rng.standard_normal((len(keys), 12))
    vectors[: n_targets] += 0.4 * vectors[2 * n_targets: 3 * n_targets].mean(axis=0)  # X leans towards A
    return Space(keys, vectors.astype(np.float32)), WeatLists("toy", names, {r: r for r in "XYAB"})


def reference(space: Space, lists: WeatLists) -> tuple[float, float]:
    """Caliskan et al.'s definitions written out plainly in float64: (effect size, exact p-value)."""
    def cos(u, v):
        return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))

    vec = {k: space[k].astype(np.float64) for k in space.index_to_key}
    def s(w):
        return (np.mean([cos(vec[w], vec[a]) for a in lists.words["A"]])
                - np.mean([cos(vec[w], vec[b]) for b in lists.words["B"]]))

    x, y = lists.words["X"], lists.words["Y"]
    sx, sy = [s(w) for w in x], [s(w) for w in y]
    effect = (np.mean(sx) - np.mean(sy)) / np.std(sx + sy, ddof=1)
    observed = sum(sx) - sum(sy)
    union = x + y
    beats = total = 0
    for chosen in itertools.combinations(union, len(x)):
        rest = [w for w in union if w not in chosen]
        beats += (sum(s(w) for w in chosen) - sum(s(w) for w in rest)) > observed + 1e-9
        total += 1
    return effect, beats / total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_effect_size_and_exact_p_value_equal_the_definitions(seed):
    space, lists = toy(seed=seed)
    result = weat(space, lists)
    effect, p_value = reference(space, lists)
    assert result.exact and result.partitions == 252
    assert result.effect_size == pytest.approx(effect, rel=1e-5)
    assert result.p_value == pytest.approx(p_value)


def test_sampled_p_value_is_seeded_and_close_to_the_exact_one(monkeypatch):
    space, lists = toy(n_targets=8, seed=3)
    exact = weat(space, lists)
    monkeypatch.setattr(weat_module, "EXACT_LIMIT", 100)
    sampled = weat(space, lists, samples=20_000, seed=5)
    assert not sampled.exact and sampled.partitions == 20_000
    assert sampled.p_value == pytest.approx(exact.p_value, abs=0.015)
    assert weat(space, lists, samples=20_000, seed=5).p_value == sampled.p_value
    assert sampled.effect_size == exact.effect_size


def test_permutation_p_value_counts_only_larger_sums():
    assert permutation_p_value(np.array([3.0, 2.0, 1.0, 0.0]), 2) == (0.0, True, 6)
    # observed X = {0, 1}: sums of the 6 pairs are 1, 2, 3, 3, 4, 5 -> 5 of 6 exceed 1
    assert permutation_p_value(np.array([0.0, 1.0, 2.0, 3.0]), 2) == (5 / 6, True, 6)


def test_missing_words_are_dropped_and_cased_words_fall_back_to_lower_case():
    space, lists = toy()
    words = dict(lists.words, X=[w.upper() for w in lists.words["X"]] + ["zzz"])
    result = weat(space, WeatLists("cased", words, lists.labels))
    assert result.missing == ["zzz"] and result.used["X"] == lists.words["X"]
    assert result.effect_size == pytest.approx(weat(space, lists).effect_size)
    with pytest.raises(ValueError, match="no word of empty list A"):
        weat(space, WeatLists("empty", dict(lists.words, A=["nope"]), {}))


def test_read_weat_errors(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("X\tflowers\trose\nY\tinsects\tant\nA\tgood\tlove\n")
    with pytest.raises(FormatError, match="missing role"):
        read_weat(path)
    path.write_text("X\tflowers\trose\nQ\tinsects\tant\n")
    with pytest.raises(FormatError, match="line 2"):
        read_weat(path)


def test_shipped_lists():
    tests = shipped_tests()
    assert {"weat1_flowers_insects", "weat2_instruments_weapons", "weat7_math_arts"} <= set(tests)
    for path in tests.values():
        lists = read_weat(path)
        assert all(len(lists.words[r]) >= 6 for r in "XYAB") and len(lists.labels) == 4
    flowers = read_weat(tests["weat1_flowers_insects"])
    assert [len(flowers.words[r]) for r in "XYAB"] == [25, 25, 25, 25]


@pytest.mark.minilm
def test_flowers_are_more_pleasant_than_insects_in_minilm(minilm):
    result = weat(minilm, read_weat(shipped_tests()["weat1_flowers_insects"]), samples=5_000)
    assert result.effect_size > 0.5 and result.p_value < 0.01
