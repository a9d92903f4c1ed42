"""Space: the vocabulary API, chunked norms and scores (checked in float64), and gensim interop."""
from __future__ import annotations

import numpy as np
import pytest
from gensim.models import KeyedVectors

from embedspace import space as space_module
from embedspace.errors import UnknownKeyError
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
