"""nearest_neighbours against similar_by_vector (what `embedspace neighbors` prints) and against gensim."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedspace.analysis.neighbours import block_rows, nearest_neighbours, top_k_rows
from embedspace.errors import InvalidInput
from embedspace.space import Space
from runtime.ranking import top_k


def random_space(n: int = 300, dim: int = 16, seed: int = 0) -> Space:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors[10] = vectors[20] * 3  # same direction: a tie in every other word's list
    vectors[30] = 0  # a zero row: cosine 0 with everything
    return Space([f"w{i}" for i in range(n)], vectors, name="random")


def in_tie_order(pairs: list[tuple[str, float]], tolerance: float = 1e-6) -> list:
    """The keys, each run of scores closer than ``tolerance`` (float32 rounding) as a set.

    The block product [b, D] @ [D, V] and the single query [1, D] @ [D, V] may round two equal
    cosines differently (here: w10 = 3 * w20), so such ties may come in either order.
    """
    runs, last = [], None
    for key, score in pairs:
        if last is not None and abs(score - last) < tolerance:
            runs[-1].add(key)
        else:
            runs.append({key})
        last = score
    return runs


@pytest.mark.parametrize("block_bytes", [4 * 300 * 7, 64 * 2**20])  # 7 queries a block, or all at once
def test_every_row_matches_similar_by_vector(block_bytes):
    space = random_space()
    found = nearest_neighbours(space, topn=8, block_bytes=block_bytes)
    exact = 0
    for i, key in enumerate(space.index_to_key):
        expected = space.similar_by_vector(space[key], topn=8, exclude=[key])
        ours = found.of(space, i)
        exact += [k for k, _ in ours] == [k for k, _ in expected]
        assert in_tie_order(ours) == in_tie_order(expected), key
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in expected], atol=1e-6)
    assert exact >= len(space) - 60  # only lists holding the planted tie (w10, w20) may differ in order


def test_matches_gensim_most_similar():
    space = Space([f"w{i}" for i in range(300)], np.random.default_rng(1).normal(size=(300, 16)).astype(np.float32))
    kv = space.to_keyed_vectors()  # no zero row here: gensim divides by the norms
    rows = [0, 5, 99, 250]
    found = nearest_neighbours(space, rows, topn=5)
    for i, row in enumerate(rows):
        expected = kv.most_similar(space.index_to_key[row], topn=5)
        assert [k for k, _ in found.of(space, i)] == [k for k, _ in expected]
        np.testing.assert_allclose(found.scores[i], [s for _, s in expected], atol=1e-5)


def test_a_tiny_space_leaves_empty_slots_and_progress_reaches_the_end():
    space = Space(["a", "b", "c"], np.array([[1, 0], [1, 1], [0, 1]], dtype=np.float32))
    calls = []
    found = nearest_neighbours(space, topn=4, block_bytes=8, progress=lambda done, total: calls.append((done, total)))
    assert found.indices[:, 2:].tolist() == [[-1, -1]] * 3
    assert found.of(space, 0)[0][0] == "b"
    assert calls[-1] == (3, 3) and len(calls) == 3


def test_bad_arguments_raise_user_errors():
    space = random_space(40)
    with pytest.raises(InvalidInput):
        nearest_neighbours(space, topn=0)
    with pytest.raises(InvalidInput):
        nearest_neighbours(space, rows=[45])


def test_block_rows_bounds_the_block_memory():
    assert block_rows(30_000) * 30_000 * 4 <= 64 * 2**20 < (block_rows(30_000) + 1) * 30_000 * 4
    assert block_rows(10**9) == 1


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 30), st.integers(1, 12), st.integers(0, 2**31 - 1))
def test_top_k_rows_equals_top_k_row_by_row(rows, width, k, seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 4, size=(rows, width)).astype(np.float32)  # few values: many ties
    expected = np.stack([top_k(row, k) for row in scores])
    np.testing.assert_array_equal(top_k_rows(scores, k), expected)
