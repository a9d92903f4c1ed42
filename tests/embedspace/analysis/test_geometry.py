"""The typical cosine of a space: the mean over random distinct pairs, checked against gensim and closed forms."""
from __future__ import annotations

import numpy as np
import pytest

from embedspace.analysis.geometry import typical_cosine
from embedspace.errors import InvalidInput
from embedspace.space import Space


def keys(n: int) -> list[str]:
    return [f"w{i}" for i in range(n)]


def test_typical_cosine_is_the_mean_over_random_distinct_pairs():
    orthogonal = Space(keys(50), np.eye(50, dtype=np.float32))
    assert typical_cosine(orthogonal) == 0.0
    shared = np.eye(50, dtype=np.float32) + 3.0  # one common component dominates every row
    value = typical_cosine(Space(keys(50), shared))
    expected = (48 * 9 + 2 * 12) / (49 * 9 + 16)  # rows e_i + 3: (row_i . row_j) / |row|^2
    assert value == pytest.approx(expected, rel=1e-6)


def test_the_same_pairs_scored_by_gensim_give_the_same_mean():
    rng = np.random.default_rng(3)
    vectors = (rng.standard_normal((300, 16)) + 1.5).astype(np.float32)  # a common offset: cosines well above 0
    space = Space(keys(300), vectors)
    kv = space.to_keyed_vectors()
    first, second = np.random.default_rng(5).integers(0, 120, (2, 250))  # the documented draw
    pairs = [(a, b) for a, b in zip(first, second) if a != b]
    reference = np.mean([kv.similarity(f"w{a}", f"w{b}") for a, b in pairs])
    assert typical_cosine(space, n=250, among=120, seed=5) == pytest.approx(float(reference), rel=1e-5)


def test_only_the_first_among_rows_are_drawn():
    vectors = np.vstack([np.eye(10, 12), np.ones((40, 12))]).astype(np.float32)  # 10 orthogonal, then 40 alike
    space = Space(keys(50), vectors)
    assert typical_cosine(space, among=10) == 0.0
    everything = typical_cosine(space, n=2000, among=50)
    # exact mean over all distinct ordered pairs, against which 2000 draws land within a few hundredths
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosines = unit @ unit.T
    exact = (cosines.sum() - np.trace(cosines)) / (50 * 49)
    assert everything == pytest.approx(exact, abs=0.05) and everything > 0.5


def test_a_zero_row_has_cosine_zero():
    space = Space(["a", "b"], np.array([[1.0, 0.0], [0.0, 0.0]], dtype=np.float32))
    assert typical_cosine(space) == 0.0


@pytest.mark.parametrize("size, options", [(1, {}), (5, {"n": 0}), (5, {"among": 0})])
def test_too_few_words_or_pairs_is_a_clear_error(size, options):
    space = Space(keys(size), np.ones((size, 3), dtype=np.float32))
    with pytest.raises(InvalidInput):
        typical_cosine(space, **options)
