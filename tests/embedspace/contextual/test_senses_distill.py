"""Sense clusters and distilled static spaces, against independent computations on the tiny corpus."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedspace.contextual.compare import pool_positions
from embedspace.contextual.corpus_plots import plot_senses
from embedspace.contextual.distill import (
    distill_space,
    distill_spaces,
    evaluate_space,
    evaluation_table,
    isolated_spaces,
    restrict,
    single_words,
)
from embedspace.contextual.encoders import load_encoder
from embedspace.contextual.engines import extract_occurrences
from embedspace.contextual.occurrences import specials_of, word_spans
from embedspace.contextual.senses import FUNCTION_WORDS, choose_clusters, contexts_neighbours, word_senses
from embedspace.errors import InvalidInput
from embedspace.space import Space, unit_rows

TINY = Path(__file__).parents[2] / "fixtures" / "corpus" / "tiny.txt"
WORDS = ["bank", "river", "king", "light", "money", "water"]


@pytest.fixture(scope="module")
def encoder():
    return load_encoder("mini")


@pytest.fixture(scope="module")
def run(encoder, tmp_path_factory):
    return extract_occurrences(TINY, WORDS, "mini", encoder=encoder, per_word=20, max_tokens=32, group_size=6,
                               folder=tmp_path_factory.mktemp("run") / "r")


def occurrences(encoder, word):
    """[n, L+1, C] the word's vectors in every usable line, each line run alone."""
    specials, found = specials_of(encoder), []
    for line in TINY.read_text().splitlines():
        if word in line.split() and len(line.split()) < 30:
            hidden = encoder.run([line])[0].hidden_states
            found += [pool_positions(hidden, range(s, e)) for w, s, e in word_spans(encoder.tokenize(line), specials)
                      if w == word]
    return np.stack(found)


def test_choose_clusters_finds_planted_groups_and_scores_every_k():
    rng = np.random.default_rng(0)
    centres = np.eye(4)[:3] * 5
    points = np.concatenate([c + rng.normal(scale=0.3, size=(10, 4)) for c in centres])
    labels, scores = choose_clusters(unit_rows(points), max_clusters=5)
    assert sorted(scores) == [2, 3, 4, 5] and max(scores, key=scores.get) == 3
    assert [len(set(labels[i:i + 10])) for i in (0, 10, 20)] == [1, 1, 1] and len(set(labels)) == 3
    with pytest.raises(InvalidInput, match="at least 3"):
        choose_clusters(unit_rows(points[:2]))


def test_word_senses_cluster_every_occurrence_and_show_its_sentences(run, encoder):
    from embedspace.catalog import load_space

    report = word_senses(run, "bank", layer=2, max_clusters=3, examples=2, topn=3,
                         centroid_spaces={"mini W_E": load_space("mini")},
                         context_spaces={"word2vec": load_space("word2vec")})
    assert report.occurrences == 10 and sum(c.size for c in report.clusters) == 10
    assert [c.size for c in report.clusters] == sorted((c.size for c in report.clusters), reverse=True)
    assert np.bincount(report.labels).tolist() == [c.size for c in report.clusters]
    for number, cluster in enumerate(report.clusters):
        mine = {s for s, label in zip(report.sentences, report.labels) if label == number}
        assert set(cluster.examples) <= mine and all("bank" in s.split() for s in cluster.examples)
        assert len(cluster.neighbours["mini W_E"]) == 3 and "bank" not in dict(cluster.neighbours["mini W_E"])
        assert "bank" not in dict(cluster.neighbours["word2vec"])
    assert np.array(report.coords).shape == (10, 2) and report.layer == 2
    ax = plot_senses(report)
    assert len(ax.collections) == report.k
    assert sum(len(c.get_offsets()) for c in ax.collections) == 10


def test_contexts_neighbours_point_at_what_sets_a_cluster_apart():
    keys = ["the"] + [f"w{i}" for i in range(FUNCTION_WORDS)] + ["river", "water", "money", "gold"]
    vectors = np.eye(len(keys), dtype=np.float32)
    space = Space(keys, vectors)
    sentences = ["the river water", "water river", "money gold", "gold the money"]
    found = contexts_neighbours(space, "bank", sentences, np.array([0, 0, 1, 1]), 2, topn=2)
    assert {w for w, _ in found[0]} == {"river", "water"} and {w for w, _ in found[1]} == {"money", "gold"}


def test_word_senses_refuses_a_word_outside_the_run(run):
    with pytest.raises(InvalidInput, match="not a target"):
        word_senses(run, "queen")


def test_distilled_means_equal_the_mean_of_the_occurrences(run, encoder):
    spaces = distill_spaces(run)
    assert sorted(spaces) == list(range(encoder.n_layer + 1))
    for word in ("bank", "king"):
        expected = occurrences(encoder, word).mean(axis=0)                              # [L+1, C]
        for layer, space in spaces.items():
            np.testing.assert_allclose(space[word], expected[layer], rtol=1e-4, atol=1e-5)
    assert spaces[0].index_to_key[0] == "bank"  # the most frequent target first


def test_pc1_is_the_top_eigenvector_signed_like_the_mean(run, encoder):
    space = distill_space(run, layer=3, pool="pc1")
    x = occurrences(encoder, "river")[:, 3].astype(np.float64)
    top = np.linalg.eigh(x.T @ x)[1][:, -1]
    top = top if top @ x.mean(axis=0) > 0 else -top
    np.testing.assert_allclose(space["river"], top, atol=1e-4)
    with pytest.raises(InvalidInput, match="pooling"):
        distill_space(run, 1, pool="max")


def test_isolated_vectors_are_each_word_run_alone(encoder):
    spaces = isolated_spaces(encoder, ["bank", "river"], layers=[0, -1])
    assert sorted(spaces) == [0, encoder.n_layer]
    hidden = encoder.run(["bank"])[0].hidden_states
    position = encoder.word_positions("bank", "bank")
    np.testing.assert_allclose(spaces[encoder.n_layer]["bank"], pool_positions(hidden, position)[-1], atol=1e-5)


def test_single_words_keeps_what_the_model_reads_as_one_known_word():
    minilm = load_encoder("minilm")
    assert single_words(minilm, ["bank", "New York", "don't", "tokenization"]) == ["bank", "tokenization"]


def test_the_evaluation_table_uses_the_common_vocabulary(minilm):
    from embedspace.catalog import load_space

    word2vec = load_space("word2vec")
    small = restrict(word2vec, set(word2vec.index_to_key[:3000]))
    rows, shared = evaluation_table({"word2vec": word2vec, "minilm": minilm, "small": small})
    assert shared == len(set(small.index_to_key) & set(minilm.index_to_key))
    assert len({(r.analogy_questions, r.simlex_pairs, r.wordsim_pairs) for r in rows}) == 1
    alone = evaluate_space(restrict(word2vec, set(small.index_to_key) & set(minilm.index_to_key)))
    assert (alone.analogy, alone.simlex) == (rows[0].analogy, rows[0].simlex)
