"""Ethayarajh's measures against brute-force loops and linear-algebra identities, and on a real run."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from embedspace.contextual.compare import pool_positions, row_cosines
from embedspace.contextual.corpus_plots import BASELINE_LABEL, plot_contextuality
from embedspace.contextual.encoders import load_encoder
from embedspace.contextual.engines import extract_occurrences
from embedspace.contextual.measures import (
    baseline_mev,
    max_explainable_variance,
    measure_words,
    self_similarity,
    static_figures,
)
from embedspace.contextual.occurrences import specials_of, word_spans
from embedspace.errors import InvalidInput

TINY = Path(__file__).parents[2] / "fixtures" / "corpus" / "tiny.txt"


def cosine(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_self_similarity_is_the_mean_over_pairs_in_different_sentences():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(6, 3, 5))
    lines = np.array([0, 0, 1, 2, 2, 3])
    expected = [np.mean([cosine(vectors[i, layer], vectors[j, layer])
                         for i, j in itertools.permutations(range(6), 2) if lines[i] != lines[j]])
                for layer in range(3)]
    np.testing.assert_allclose(self_similarity(vectors, lines), expected, rtol=1e-12)
    assert np.isnan(self_similarity(vectors[:2], lines[:2])).all()


def test_mev_is_the_top_eigenvalue_share_of_the_uncentred_gram_matrix():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(9, 2, 4)) + 3.0
    for layer in range(2):
        eigen = np.linalg.eigvalsh(vectors[:, layer].T @ vectors[:, layer])
        assert max_explainable_variance(vectors)[layer] == pytest.approx(eigen[-1] / eigen.sum(), rel=1e-10)
    same = np.repeat(vectors[:1], 5, axis=0)  # one vector five times: one direction explains everything
    np.testing.assert_allclose(max_explainable_variance(same), 1.0)


def test_static_figures_against_a_loop_and_bounded_by_the_mev():
    rng = np.random.default_rng(2)
    vectors, static = rng.normal(size=(7, 3, 4)), rng.normal(size=4)
    cos, share = static_figures(vectors, static)
    unit = static / np.linalg.norm(static)
    for layer in range(3):
        x = vectors[:, layer]
        assert cos[layer] == pytest.approx(np.mean([cosine(v, static) for v in x]))
        assert share[layer] == pytest.approx(((x @ unit) ** 2).sum() / (x ** 2).sum())
    assert (share <= max_explainable_variance(vectors) + 1e-12).all()


def test_the_mev_baseline_falls_with_more_occurrences():
    vectors = np.random.default_rng(3).normal(size=(300, 1, 16))
    few, many = baseline_mev(vectors, 3)[0], baseline_mev(vectors, 100)[0]
    assert few > many > 1 / 16 * 0.9
    np.testing.assert_array_equal(baseline_mev(vectors, 5, seed=4), baseline_mev(vectors, 5, seed=4))


@pytest.fixture(scope="module")
def report_and_run(tmp_path_factory):
    encoder = load_encoder("mini")
    run = extract_occurrences(TINY, ["bank", "river", "light"], "mini", encoder=encoder, per_word=20, max_tokens=32,
                              group_size=5, folder=tmp_path_factory.mktemp("run") / "r")
    return measure_words(run, static=encoder.static_vector), run, encoder


def test_a_words_figures_equal_those_of_its_sentences_run_alone(report_and_run):
    report, _, encoder = report_and_run
    specials = specials_of(encoder)
    lines = TINY.read_text().splitlines()
    bank = next(w for w in report.words if w.word == "bank")
    vectors, numbers = [], []
    for number, line in enumerate(lines):
        if "bank" in line.split() and len(line.split()) < 30:
            hidden = encoder.run([line])[0].hidden_states
            for word, start, stop in word_spans(encoder.tokenize(line), specials):
                if word == "bank":
                    vectors.append(pool_positions(hidden, range(start, stop)))
                    numbers.append(number)
    vectors = np.stack(vectors)
    assert (bank.occurrences, bank.sentences, bank.corpus_lines) == (len(vectors), 10, 10)
    np.testing.assert_allclose(bank.self_similarity, self_similarity(vectors, np.array(numbers)), atol=1e-5)
    np.testing.assert_allclose(bank.mev, max_explainable_variance(vectors), atol=1e-5)
    np.testing.assert_allclose(bank.static_cosine, row_cosines(vectors, encoder.static_vector("bank")).mean(0),
                               atol=1e-5)
    np.testing.assert_allclose(np.array(bank.self_similarity) - report.anisotropy, bank.self_similarity_adjusted)
    np.testing.assert_allclose(np.array(bank.intra_similarity) - report.anisotropy, bank.intra_similarity_adjusted)
    assert report.layers == encoder.n_layer and len(bank.mev) == encoder.n_layer + 1


def test_the_baseline_uses_one_random_word_per_sentence(report_and_run):
    report, run, _ = report_and_run
    assert report.baseline_words == run.manifest["lines"]
    assert all(-1 <= v <= 1 for v in report.anisotropy) and report.static_anisotropy is not None


def test_measuring_a_word_that_is_not_a_target_is_refused(report_and_run):
    _, run, _ = report_and_run
    with pytest.raises(InvalidInput, match="not a target"):
        measure_words(run, ["queen"])


def test_the_plot_draws_one_line_per_word_and_the_baseline(report_and_run):
    report = report_and_run[0]
    ax = plot_contextuality(report, "self_similarity", words=["bank", "river"])
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["bank", "river", BASELINE_LABEL]
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), report.anisotropy)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), report.words[0].self_similarity)
    adjusted = plot_contextuality(report, "mev", adjusted=True)
    assert [line.get_label() for line in adjusted.lines][-1] == BASELINE_LABEL
    assert len(plot_contextuality(report, "static_share").lines) == len(report.words)
    with pytest.raises(InvalidInput):
        plot_contextuality(report, "static_share", adjusted=True)
