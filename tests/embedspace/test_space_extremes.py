"""Space with rows near float32's limits: norms, unit rows and cosines against float64, and no warnings.

A row whose float32 sum of squares overflows (values beyond ~1.8e19) or underflows (below ~1e-19)
must still get its true norm and cosines; zero rows keep cosine 0. Every test turns warnings into
errors, so an overflow that is merely hidden would fail too.
"""
from __future__ import annotations

import numpy as np
import pytest

from embedspace import space as space_module
from embedspace.norms import row_norms
from embedspace.space import Space, unit_rows

pytestmark = pytest.mark.filterwarnings("error")

BIG = np.float32(3e38)
TINY = np.float32(1e-40)  # subnormal in float32


def reference_unit(vectors: np.ndarray) -> np.ndarray:
    """Unit rows computed in float64 after scaling by each row's largest value (zero rows stay 0)."""
    rows = vectors.astype(np.float64)
    scale = np.abs(rows).max(axis=1, keepdims=True)
    scaled = rows / np.where(scale > 0, scale, 1.0)
    norms = np.linalg.norm(scaled, axis=1, keepdims=True)
    return scaled / np.where(norms > 0, norms, 1.0)


def reference_norms(vectors: np.ndarray) -> np.ndarray:
    rows = vectors.astype(np.float64)
    scale = np.abs(rows).max(axis=1)
    return scale * np.linalg.norm(rows / np.where(scale > 0, scale, 1.0)[:, None], axis=1)


@pytest.fixture
def twins():
    """The issue's file: ``cat 1e38 1e38`` and ``dog 1e38 1e38``, plus two ordinary rows."""
    vectors = np.array([[1e38, 1e38], [1e38, 1e38], [1.0, 0.0], [0.0, -2.0]], dtype=np.float32)
    return Space(["cat", "dog", "x", "y"], vectors, name="huge")


def test_the_issue_file_gives_cosine_one(twins):
    assert twins.cosine_scores(twins["cat"])[1] == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(twins.cosine_scores(twins["cat"]), [1, 1, np.sqrt(0.5), -np.sqrt(0.5)], atol=1e-6)


def test_the_issue_file_through_every_query(twins):
    best = twins.similar_by_vector(twins["cat"], topn=2)
    assert [key for key, _ in best] == ["cat", "dog"]
    np.testing.assert_allclose([score for _, score in best], [1.0, 1.0], atol=1e-6)
    (key, score), = twins.most_similar("cat", topn=1)
    assert key == "dog" and score == pytest.approx(1.0, abs=1e-6)
    (key, score), = twins.most_similar(["cat"], topn=1, method="mul")
    assert key == "dog" and score == pytest.approx(1.0, abs=1e-5)
    (key, score), = twins.most_similar([np.array([3e38, 3e38], dtype=np.float32)], topn=1)
    assert key == "cat" and score == pytest.approx(1.0, abs=1e-6)


def test_the_issue_file_has_true_norms_and_unit_vectors(twins):
    np.testing.assert_allclose(twins.norms, [np.sqrt(2) * 1e38, np.sqrt(2) * 1e38, 1, 2], rtol=1e-6)
    np.testing.assert_allclose(twins.unit_vectors, reference_unit(twins.vectors), atol=1e-7)
    np.testing.assert_allclose(twins.unit("cat"), [np.sqrt(0.5)] * 2, atol=1e-7)
    np.testing.assert_allclose(twins.unit(["dog", "y"]), [[np.sqrt(0.5)] * 2, [0, -1]], atol=1e-7)


def extreme_vectors() -> np.ndarray:
    """Random rows with, among them, 3e38 mixed with subnormals, all-tiny rows, a zero row and a huge row."""
    vectors = np.random.default_rng(3).normal(size=(3000, 6)).astype(np.float32)
    vectors[5] = [BIG, -BIG, TINY, BIG, 0, TINY]  # its norm, 5.2e38, is beyond float32's range
    vectors[1023] = [1e-30, -2e-30, 0, 3e-30, 1e-30, 0]  # squares underflow to 0 in float32
    vectors[1024] = [TINY, 0, 0, 0, 0, 0]  # one subnormal value
    vectors[2047] = 0.0  # a zero row: cosine 0 with anything, as before
    vectors[2900] = np.float32(np.finfo(np.float32).max)  # every value at float32's maximum
    return vectors


@pytest.mark.parametrize("chunked", [False, True])
def test_extreme_rows_match_float64(monkeypatch, chunked):
    if chunked:  # chunks of 1024 rows, so the extreme rows sit at chunk edges
        monkeypatch.setattr(space_module, "CHUNK_BYTES", 1)
    vectors = extreme_vectors()
    space = Space([f"w{i}" for i in range(len(vectors))], vectors)
    unit = reference_unit(vectors)  # [V, D]
    queries = np.vstack([vectors[[5, 1023, 1024, 2900]], np.random.default_rng(4).normal(size=(2, 6))])  # [Q, D]
    expected = reference_unit(queries) @ unit.T  # [Q, V]
    np.testing.assert_allclose(space.cosine_scores(queries), expected, atol=1e-6)  # first query: fused with norms
    np.testing.assert_allclose(space.cosine_scores(queries), expected, atol=1e-6)  # later queries
    np.testing.assert_allclose(space.cosine_scores(queries, restrict_vocab=2000), expected[:, :2000], atol=1e-6)
    np.testing.assert_allclose(space.norms, reference_norms(vectors), rtol=1e-6)
    np.testing.assert_allclose(space.unit_vectors, unit, atol=1e-6)
    assert space.norms[2047] == 0 and space.inverse_norms[2047] == 0 and not space.unit_vectors[2047].any()
    assert np.all(np.isfinite(space.inverse_norms))


def test_unit_rows_and_row_norms_at_the_limits():
    rows = np.array([[BIG, BIG, -BIG], [1e-30, 1e-30, 0], [TINY, 0, 0], [0, 0, 0], [3, 4, 0]], dtype=np.float32)
    np.testing.assert_allclose(row_norms(rows), reference_norms(rows), rtol=1e-6)
    unit = unit_rows(rows)
    assert unit.dtype == np.float32
    np.testing.assert_allclose(unit, reference_unit(rows), atol=1e-7)
    np.testing.assert_allclose(unit_rows(rows[0]), reference_unit(rows[:1])[0], atol=1e-7)  # one row [D]
    wide = np.array([[1e300, 1e300], [1e-300, 0.0]])
    assert unit_rows(wide).dtype == np.float64
    np.testing.assert_allclose(unit_rows(wide), [[np.sqrt(0.5)] * 2, [1, 0]], atol=1e-15)
    assert unit_rows(np.array([[3, 4]])).tolist() == [[0.6, 0.8]]  # integers give float64, as before


def test_batched_analogies_and_similarity_scores_ignore_the_rows_scale(tmp_path):
    from embedspace.analysis.analogy import analogies, unit_at
    from embedspace.analysis.evaluate import evaluate_similarity

    keys = ["king", "man", "woman", "queen", "apple"]
    base = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1], [0.3, 0.2, 0.1]], dtype=np.float32)
    scales = np.array([3e37, 1.0, 1e-39, 2e38, 1.0], dtype=np.float32)[:, None]  # overflow, normal, subnormal
    scaled = Space(keys, base * scales, name="scaled")
    plain = Space(keys, base, name="plain")
    np.testing.assert_allclose(unit_at(scaled, np.arange(5)), reference_unit(base), rtol=1e-6, atol=1e-7)
    questions = [("man", "king", "woman"), ("king", "queen", "man")]
    for method in ("add", "mul"):
        ours, expected = analogies(scaled, questions, method, topn=2), analogies(plain, questions, method, topn=2)
        assert [[k for k, _ in a] for a in ours] == [[k for k, _ in a] for a in expected]
        np.testing.assert_allclose([s for a in ours for _, s in a], [s for a in expected for _, s in a], rtol=1e-5)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("king\tqueen\t9\nman\twoman\t5\nking\tapple\t1\nqueen\tapple\t2\n")
    assert evaluate_similarity(scaled, pairs).spearman == pytest.approx(evaluate_similarity(plain, pairs).spearman)
