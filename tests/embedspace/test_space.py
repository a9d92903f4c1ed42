"""Space: the vocabulary API, chunked norms and scores (checked in float64), most_similar and gensim interop."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors

from embedspace import space as space_module
from embedspace.errors import InvalidInput, UnknownKeyError
from embedspace.space import Space
from runtime.ranking import top_k


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 1024 rows, so a 3000-row space is processed in three pieces."""
    monkeypatch.setattr(space_module, "CHUNK_BYTES", 1)


@pytest.fixture
def big():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3000, 8)).astype(np.float32)
    vectors[7] = 0.0  # a zero row: cosine 0 with anything
    return Space([f"w{i}" for i in range(3000)], vectors, origin="test", name="big")


def test_vocabulary_api():
    space = Space(["king", "queen"], np.array([[1, 2], [3, 4]]), origin="here")
    assert (len(space), space.dim, space.name, space.origin) == (2, 2, "here", "here")
    assert "king" in space and "prince" not in space
    assert space.vectors.dtype == np.float32 and not space.vectors.flags.writeable
    assert space["queen"].shape == (2,) and space[["queen", "king"]].tolist() == [[3, 4], [1, 2]]
    assert space.key_to_index == {"king": 0, "queen": 1}


def test_bad_construction_is_refused():
    with pytest.raises(ValueError, match="2 keys but 3 vectors"):
        Space(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="duplicate"):
        Space(["a", "a"], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="2-D"):
        Space(["a"], np.zeros(2))


def test_unknown_key_names_close_keys():
    space = Space(["tower", "towers", "power", "cat"], np.eye(4))
    with pytest.raises(UnknownKeyError) as caught:
        space["towr"]
    assert isinstance(caught.value, KeyError)
    assert str(caught.value).startswith("'towr' is not in the vocabulary")
    assert "tower" in caught.value.suggestions and len(caught.value.suggestions) <= 5


def test_chunked_norms_and_unit_rows_match_float64(big, small_chunks):
    reference = np.linalg.norm(big.vectors.astype(np.float64), axis=1)
    np.testing.assert_allclose(big.norms, reference, rtol=1e-6)
    unit = big.unit_vectors
    expected = big.vectors / np.where(reference > 0, reference, 1)[:, None]
    np.testing.assert_allclose(unit, expected, rtol=1e-5, atol=1e-7)
    assert not unit.flags.writeable and not big.norms.flags.writeable


def test_cosine_scores_match_float64_for_one_and_many_queries(big, small_chunks):
    queries = np.random.default_rng(1).normal(size=(3, 8))
    vectors = big.vectors.astype(np.float64)
    norms = np.linalg.norm(vectors, axis=1)
    expected = (queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ vectors.T
    expected /= np.where(norms > 0, norms, np.inf)
    assert big._norms is None
    np.testing.assert_allclose(big.cosine_scores(queries), expected, atol=1e-5)  # fused with the norms
    np.testing.assert_allclose(big.norms, norms, rtol=1e-6)
    np.testing.assert_allclose(big.cosine_scores(queries[0]), expected[0], atol=1e-5)
    assert big.cosine_scores(queries, restrict_vocab=1500).shape == (3, 1500)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # gensim divides the zero row by 0
def test_similar_by_vector_agrees_with_gensim(big, small_chunks):
    kv = KeyedVectors(8)
    kv.add_vectors(big.index_to_key, np.array(big.vectors))
    query = np.random.default_rng(2).normal(size=8).astype(np.float32)
    ours = big.similar_by_vector(query, topn=10)
    theirs = kv.similar_by_vector(query, topn=10)
    assert [k for k, _ in ours] == [k for k, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    excluded = big.similar_by_vector(query, topn=3, exclude=[ours[0][0]])
    assert [k for k, _ in excluded] == [k for k, _ in ours[1:4]]


def test_keyed_vectors_round_trip():
    space = Space(["a", "b", "c"], np.arange(6).reshape(3, 2))
    kv = space.to_keyed_vectors()
    assert kv.index_to_key == ["a", "b", "c"]
    np.testing.assert_array_equal(kv.vectors, space.vectors)
    back = Space.from_keyed_vectors(kv, name="kv")
    assert back.index_to_key == space.index_to_key and back.name == "kv"


def test_top_k_breaks_ties_by_lower_index():
    scores = np.array([0.5, 0.9, 0.5, 0.9, 0.1, 0.5])
    assert top_k(scores, 4).tolist() == [1, 3, 0, 2]
    assert top_k(scores, 0).tolist() == [] and top_k(scores, 99).tolist() == [1, 3, 0, 2, 5, 4]


def test_memory_mapped_vectors_stay_a_map(tmp_path):
    np.save(tmp_path / "v.npy", np.ones((4, 3), np.float32))
    space = Space(list("abcd"), np.load(tmp_path / "v.npy", mmap_mode="r"))
    assert isinstance(space.vectors, np.memmap)
    np.testing.assert_allclose(space.norms, np.sqrt(3))


def test_unique_keys_defers_the_index_until_a_lookup():
    space = Space(["a", "b", "c"], np.eye(3), unique_keys=True)
    assert space._key_to_index is None
    assert space["c"].tolist() == [0, 0, 1] and space.key_to_index == {"a": 0, "b": 1, "c": 2}
    vouched_wrongly = Space(["a", "b", "a"], np.eye(3), unique_keys=True)
    with pytest.raises(ValueError, match="duplicate keys in index_to_key, e.g. 'a'"):
        vouched_wrongly.get_index("b")


TINY = Path(__file__).resolve().parents[1] / "fixtures" / "vectors" / "tiny.txt"
AXIS = np.eye(6, dtype=np.float32)[2]


@pytest.fixture(scope="module")
def tiny_twins():
    """The tiny fixture and two identical one-hot rows ("twin", "twin2").

    A one-hot row's cosine with anything is one product, the same in any summation order, so the
    twins tie exactly, here and in gensim (identical rows of several non-zero values need not: BLAS
    may round two rows of one product differently).
    """
    kv = KeyedVectors.load_word2vec_format(str(TINY))
    twins = np.zeros((2, kv.vector_size), dtype=np.float32)
    twins[:, 2] = 1.5
    space = Space(kv.index_to_key + ["twin", "twin2"], np.vstack([kv.vectors, twins]))
    return space, space.to_keyed_vectors()


def ties_in_vocabulary_order(space: Space, answers: list) -> list:
    """gensim's answers with each run of equal scores put in vocabulary order.

    gensim ranks with numpy's default argsort, which keeps no order among equal scores (here it
    puts twin2 before twin); we promise the lower index first.
    """
    runs: dict[float, list] = {}
    for key, score in answers:
        runs.setdefault(score, []).append((key, score))
    return [pair for run in runs.values() for pair in sorted(run, key=lambda pair: space.key_to_index[pair[0]])]


QUERIES = [(["dog"], []), (["car", "horse"], ["bus"]), (["tower"], ["café"]), (["café", "naïve"], ["tower"]),
           (["twin"], []), ([AXIS], []), ([AXIS, "horse"], ["bus"]), ("plum", "pear")]


@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")  # gensim's cosmul calls init_sims
@pytest.mark.parametrize("method", ["add", "mul"])
@pytest.mark.parametrize(("positive", "negative"), QUERIES)
def test_most_similar_equals_gensim_on_the_tiny_fixture_with_ties(tiny_twins, positive, negative, method):
    space, kv = tiny_twins
    gensim = kv.most_similar if method == "add" else kv.most_similar_cosmul
    expected = ties_in_vocabulary_order(space, gensim(positive=positive, negative=negative, topn=len(space)))
    for topn in (1, 2, 3, 5, len(space)):
        ours = space.most_similar(positive, negative, topn=topn, method=method)
        assert [key for key, _ in ours] == [key for key, _ in expected[:topn]]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in expected[:topn]], rtol=1e-6, atol=1e-6)


def test_most_similar_weights_and_raw_vectors_equal_gensim(tiny_twins):
    space, kv = tiny_twins
    for positive, negative in [([("pear", 2.0), "plum"], []), ([space["cat"] * 3, "dog"], ["bus"]),
                               ([("tower", 0.5), ("café", 1.5)], ["twin"])]:
        ours = space.most_similar(positive=positive, negative=negative, topn=len(space))
        theirs = kv.most_similar(positive=positive, negative=negative, topn=len(space))
        assert [key for key, _ in ours] == [key for key, _ in ties_in_vocabulary_order(space, theirs)]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-6, atol=1e-6)


def test_most_similar_ties_inputs_and_errors(tiny_twins):
    space, _ = tiny_twins
    assert space.most_similar([AXIS], topn=2) == [("twin", 1.0), ("twin2", 1.0)]  # a vector is no input key
    assert [key for key, _ in space.most_similar("twin", topn=1)] == ["twin2"]  # an input key is left out
    assert space.most_similar("dog", topn=0) == []
    with pytest.raises(UnknownKeyError, match="'dgo' is not in the vocabulary"):
        space.most_similar(["dgo"])
    with pytest.raises(InvalidInput, match="unknown analogy method 'sub'"):
        space.most_similar(["dog"], method="sub")
    with pytest.raises(InvalidInput, match="not weights"):
        space.most_similar([("dog", 2.0)], method="mul")
    with pytest.raises(InvalidInput, match=r"shape \(6,\)"):
        space.most_similar([np.ones(5, dtype=np.float32)])
    with pytest.raises(InvalidInput, match="cancels out"):
        space.most_similar(["dog"], ["dog"])


def test_the_most_similar_example_of_the_docs_runs_as_shown():
    import doctest

    docs = Path(__file__).resolve().parents[2] / "docs" / "analysis.md"
    failed, attempted = doctest.testfile(str(docs), module_relative=False, verbose=False)
    assert attempted >= 5 and failed == 0


def test_most_similar_takes_rows_of_vectors_as_gensim_does(tiny_twins):
    space, kv = tiny_twins
    rows = space[["car", "bus"]]  # [2, D]: a list of two vector terms
    ours = space.most_similar(positive=rows, negative=space["cat"], topn=5)
    theirs = kv.most_similar(positive=rows, negative=space["cat"], topn=5)
    assert [key for key, _ in ours] == [key for key, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-6, atol=1e-6)
