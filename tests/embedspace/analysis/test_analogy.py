"""Analogies: 3CosAdd and 3CosMul equal gensim's most_similar / most_similar_cosmul, one query or many."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from embedspace.analysis.analogy import analogies, analogy, most_similar_cosmul, scores_at, search
from embedspace.errors import UnknownKeyError
from embedspace.space import Space

# gensim's most_similar_cosmul calls its own deprecated init_sims
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")


def random_space(n_keys: int = 2000, dim: int = 40, seed: int = 0) -> Space:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n_keys, dim)).astype(np.float32) * rng.uniform(0.5, 2, (n_keys, 1))
    return Space([f"w{i}" for i in range(n_keys)], vectors.astype(np.float32))


def random_questions(space: Space, n: int, seed: int = 1) -> list[tuple[str, str, str]]:
    rng = np.random.default_rng(seed)
    return [tuple(space.index_to_key[j] for j in rng.choice(len(space), 3, replace=False)) for _ in range(n)]


@pytest.fixture(scope="module")
def space():
    return random_space()


@pytest.fixture(scope="module")
def kv(space):
    return space.to_keyed_vectors()


def assert_same_answers(ours, theirs, atol):
    assert [k for k, _ in ours] == [k for k, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=atol)


@pytest.mark.parametrize("restrict_vocab", [None, 500])
def test_3cosadd_equals_gensim_most_similar(space, kv, restrict_vocab):
    for a, b, c in random_questions(space, 30):
        ours = analogy(space, a, b, c, topn=7, restrict_vocab=restrict_vocab)
        theirs = kv.most_similar(positive=[b, c], negative=[a], topn=7, restrict_vocab=restrict_vocab)
        assert_same_answers(ours, theirs, atol=1e-6)


def test_3cosmul_equals_gensim_most_similar_cosmul(space, kv):
    for a, b, c in random_questions(space, 30):
        ours = analogy(space, a, b, c, method="mul", topn=7)
        theirs = kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=7)
        assert_same_answers(ours, theirs, atol=1e-5)


def test_cosmul_with_several_terms_equals_gensim(space, kv):
    positive, negative = ["w1", "w2", "w3"], ["w4", "w5"]
    assert_same_answers(most_similar_cosmul(space, positive, negative, topn=5),
                        kv.most_similar_cosmul(positive=positive, negative=negative, topn=5), atol=1e-5)
    assert_same_answers(most_similar_cosmul(space, ["w7"], topn=5),
                        kv.most_similar_cosmul(positive=["w7"], topn=5), atol=1e-5)


def test_cosmul_honours_restrict_vocab(space):
    answers = most_similar_cosmul(space, ["w1", "w2"], ["w3"], topn=20, restrict_vocab=100)
    assert all(space.key_to_index[k] < 100 for k, _ in answers)
    full = dict(most_similar_cosmul(space, ["w1", "w2"], ["w3"], topn=len(space)))
    assert all(full[k] == pytest.approx(s, abs=1e-6) for k, s in answers)


@pytest.mark.parametrize(("method", "strategy"), [("add", "auto"), ("add", "table"), ("add", "direct"),
                                                  ("mul", "auto"), ("mul", "table")])  # direct is 3CosAdd only
@pytest.mark.parametrize("topn", [1, 4])
def test_batched_search_equals_one_query_at_a_time(space, method, strategy, topn):
    questions = random_questions(space, 60, seed=3) + [("w1", "w2", "w3")] * 3  # repeated words too
    rows = np.array([space.indices(q) for q in questions])
    found, scores = search(space, rows[:, 1:], rows[:, :1], method, topn, exclude=rows, strategy=strategy)
    for q, (a, b, c) in enumerate(questions):
        single = analogy(space, a, b, c, method=method, topn=topn)
        assert [space.index_to_key[i] for i in found[q]] == [k for k, _ in single]
        np.testing.assert_allclose(scores[q], [s for _, s in single], rtol=1e-5, atol=1e-6)


def test_batched_search_over_many_vocabulary_chunks(space, monkeypatch):
    from embedspace.analysis import analogy as module

    questions = random_questions(space, 40, seed=5)
    monkeypatch.setattr(module, "TABLE_BYTES", 1)  # forces 256-column chunks
    monkeypatch.setattr(module, "BLOCK_BYTES", 1)  # and 8-question blocks
    for method in ("add", "mul"):
        ours = analogies(space, questions, method=method, topn=3)
        single = [analogy(space, *q, method=method, topn=3) for q in questions]
        assert [[k for k, _ in r] for r in ours] == [[k for k, _ in r] for r in single]
        np.testing.assert_allclose([[s for _, s in r] for r in ours], [[s for _, s in r] for r in single], rtol=1e-5)


def test_batch_keeps_inputs_when_asked():
    space = Space(["king", "man", "woman", "queen"],
                  np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32))
    kept = analogies(space, [("man", "king", "woman")], topn=4, exclude_inputs=False)[0]
    assert [k for k, _ in kept] == [k for k, _ in analogy(space, "man", "king", "woman", topn=4, exclude_inputs=False)]
    assert len(kept) == 4 and {"king", "woman"} <= {k for k, _ in kept}
    assert [k for k, _ in analogies(space, [("man", "king", "woman")], topn=4)[0]] == ["queen"]


def test_ties_go_to_the_lower_index():
    vectors = np.array([[1, 0], [1, 0], [1, 0], [0, 1]], dtype=np.float32)
    space = Space(["x", "y", "z", "q"], vectors)
    found, _ = search(space, np.array([[3]]), np.empty((1, 0), dtype=np.int64), "add", 2,
                      exclude=np.array([[3]]), strategy="table")
    assert found.tolist() == [[0, 1]]
    found, _ = search(space, np.array([[3]]), np.empty((1, 0), dtype=np.int64), "add", 1,
                      exclude=np.array([[3, 0]]), strategy="direct")
    assert found.tolist() == [[1]]


def test_scores_at_agrees_with_the_search(space):
    rows = np.array([space.indices(q) for q in random_questions(space, 10, seed=9)])
    for method in ("add", "mul"):
        found, scores = search(space, rows[:, 1:], rows[:, :1], method, 3, exclude=rows)
        direct = scores_at(space, rows[:, 1:], rows[:, :1], method, found)
        np.testing.assert_allclose(direct, scores, rtol=1e-5, atol=1e-6)


def test_bad_input_is_named(space):
    with pytest.raises(UnknownKeyError, match="'w1x' is not in the vocabulary"):
        analogy(space, "w1x", "w2", "w3")
    with pytest.raises(ValueError, match="unknown analogy method 'sub'"):
        analogy(space, "w1", "w2", "w3", method="sub")
    with pytest.raises(ValueError, match="at least one positive"):
        most_similar_cosmul(space, [], ["w1"])
    with pytest.raises(ValueError, match="not weights"):
        most_similar_cosmul(space, [("w1", 0.5)])
    with pytest.raises(UnknownKeyError):
        analogies(space, [("w1", "w2", "nope")])
    assert analogies(space, []) == []


@pytest.mark.minilm
def test_minilm_king_man_woman_is_queen_and_equals_gensim(minilm):
    kv = minilm.to_keyed_vectors()
    assert analogy(minilm, "man", "king", "woman", topn=1)[0][0] == "queen"
    questions = [("man", "king", "woman"), ("man", "uncle", "woman"), ("germany", "berlin", "france"),
                 ("cat", "cats", "dog"), ("good", "better", "bad")]
    batched = {m: analogies(minilm, questions, method=m, topn=5) for m in ("add", "mul")}
    for q, (a, b, c) in enumerate(questions):
        assert_same_answers(batched["add"][q], kv.most_similar(positive=[b, c], negative=[a], topn=5), atol=1e-5)
        assert_same_answers(batched["mul"][q], kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=5),
                            atol=1e-5)


@pytest.mark.parametrize("k", [2, 3, 7])
def test_running_top_k_equals_top_k_over_the_whole_row(k):
    """The chunk-by-chunk merge gives what runtime.ranking.top_k gives on each whole row, ties and -inf included."""
    from embedspace.analysis.analogy import RunningTopK
    from runtime.ranking import top_k

    rng = np.random.default_rng(k)
    scores = rng.integers(0, 6, size=(20, 300)).astype(np.float32)  # few values: ties everywhere
    scores[rng.random(scores.shape) < 0.1] = -np.inf  # excluded rows
    scores[3, :] = -np.inf  # a question with fewer than k allowed answers
    scores[3, [5, 250]] = 1.0
    best = RunningTopK(len(scores), k)
    bounds = [0, 1, 40, 41, 170, 300]  # uneven chunks, one of a single column
    for start, stop in itertools.pairwise(bounds):
        best.update(scores[:, start:stop], np.arange(len(scores)), start)
    for row, values in enumerate(scores):
        expected = [i for i in top_k(values, k) if np.isfinite(values[i])]
        assert best.indices[row].tolist() == expected + [-1] * (k - len(expected))
        np.testing.assert_array_equal(best.scores[row][: len(expected)], values[expected])
