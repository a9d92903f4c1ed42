"""Static vs contextual: pure functions on small arrays, a toy encoder, and the real MiniLM."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from embedspace.contextual.compare import (
    SenseSentence,
    WordNotInSentence,
    compare_contexts,
    cosine_matrices,
    load_sense_sentences,
    pool_positions,
    row_cosines,
    sense_separation,
    sense_triplets,
    triplet_gaps,
)
from embedspace.errors import FormatError
from embedspace.space import Space

# -- pure functions -----------------------------------------------------------------------------------

def test_pool_positions_is_the_mean_over_the_pieces():
    rng = np.random.default_rng(0)
    h = rng.normal(size=(3, 5, 4)).astype(np.float32)
    pooled = pool_positions(h, [1, 3])
    assert pooled.shape == (3, 4)
    np.testing.assert_allclose(pooled, (h[:, 1] + h[:, 3]) / 2, rtol=1e-6)
    np.testing.assert_array_equal(pool_positions(h, [2]), h[:, 2])


@pytest.mark.parametrize("positions", [[], [5], [-1]])
def test_pool_positions_rejects_bad_positions(positions):
    with pytest.raises(ValueError):
        pool_positions(np.zeros((2, 5, 3)), positions)


def test_row_cosines_match_a_direct_computation_and_zero_rows_give_zero():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 4, 6))
    expected = [x @ y / np.linalg.norm(x) / np.linalg.norm(y) for x, y in zip(a, b)]
    np.testing.assert_allclose(row_cosines(a, b), expected, rtol=1e-12)
    np.testing.assert_allclose(row_cosines(a, b[0]), [x @ b[0] / np.linalg.norm(x) / np.linalg.norm(b[0]) for x in a])
    assert row_cosines(np.zeros(3), np.ones(3)) == 0.0


def test_cosine_matrices_hold_every_pair_at_every_layer():
    rng = np.random.default_rng(2)
    v = rng.normal(size=(4, 3, 5))  # 4 sentences, 3 layers
    c = cosine_matrices(v)
    assert c.shape == (3, 4, 4)
    for layer in range(3):
        for i in range(4):
            for j in range(4):
                assert c[layer, i, j] == pytest.approx(row_cosines(v[i, layer], v[j, layer]), abs=1e-12)


def test_sense_triplets_pair_each_anchor_with_its_own_sense_against_the_others():
    triplets = sense_triplets(["a", "a", "b", "b"])
    assert len(triplets) == 8  # 4 anchors x 1 same x 2 others
    for anchor, same, other in triplets:
        assert anchor != same
        assert ["a", "a", "b", "b"][anchor] == ["a", "a", "b", "b"][same] != ["a", "a", "b", "b"][other]
    assert sense_triplets(["a", "b", "c"]) == []
    assert sense_triplets(["a", "a"]) == []


def test_triplet_gaps_are_same_minus_other_per_layer():
    rng = np.random.default_rng(3)
    c = cosine_matrices(rng.normal(size=(3, 2, 4)))
    gaps = triplet_gaps(c, [(0, 1, 2), (2, 0, 1)])
    assert gaps.shape == (2, 2)
    np.testing.assert_allclose(gaps[0], c[:, 0, 1] - c[:, 0, 2])
    np.testing.assert_allclose(gaps[1], c[:, 2, 0] - c[:, 2, 1])


# -- the bundled sentence set -------------------------------------------------------------------------

def test_bundled_sentences_are_well_formed():
    items = load_sense_sentences()
    by_word = {}
    for item in items:
        words = item.sentence.lower().replace(".", " ").split()
        assert words.count(item.word) == 1, item
        by_word.setdefault(item.word, []).append(item.sense)
    assert len(by_word) >= 8
    for word, senses in by_word.items():
        assert sense_triplets(senses), f"{word} has no same-sense pair with a different-sense sentence"


def test_a_malformed_sentence_file_names_the_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("word\tsense\tsentence\nbank\triver\n", encoding="utf-8")
    with pytest.raises(FormatError, match="line 2"):
        load_sense_sentences(path)
    path.write_text("a\tb\n", encoding="utf-8")
    with pytest.raises(FormatError, match="header"):
        load_sense_sentences(path)


# -- a toy encoder: words in a tiny vocabulary, each layer pulls a token towards its neighbours -----------

@dataclass
class ToyRun:
    tokens: list[str]
    hidden_states: np.ndarray  # [L+1, T, C]
    attentions: np.ndarray  # [L, H, T, T]


class ToyEncoder:
    """Whole-word tokens; layer l+1 = layer l + 0.5 * mean of the sentence (all of it, or the left part)."""

    name = "toy"
    n_layer = 3

    def __init__(self, causal: bool = False):
        self.causal = causal
        words = ["the", "a", "river", "bank", "money", "deposited", "sat", "on", "grassy", "her", "at", "she", "fisherman", "big"]
        rng = np.random.default_rng(7)
        self.space = Space(words, rng.normal(size=(len(words), 8)).astype(np.float32), name="toy")

    def tokenize(self, text: str) -> list[str]:
        return text.lower().replace(".", "").split()

    def run(self, texts):
        runs = []
        for text in texts:
            tokens = self.tokenize(text)
            h = [self.space[tokens]]
            for _ in range(self.n_layer):
                x = h[-1]
                if self.causal:
                    context = np.cumsum(x, axis=0) / np.arange(1, len(tokens) + 1)[:, None]
                else:
                    context = np.broadcast_to(x.mean(axis=0), x.shape)
                h.append(x + 0.5 * context)
            attentions = np.full((self.n_layer, 1, len(tokens), len(tokens)), 1 / len(tokens))
            runs.append(ToyRun(tokens, np.stack(h), attentions))
        return runs

    def word_positions(self, text: str, word: str) -> list[int]:
        return [i for i, t in enumerate(self.tokenize(text)) if t == word][:1]

    def static_vector(self, word: str) -> np.ndarray:
        return self.space[word]


SENTENCES = ["the fisherman sat on the grassy river bank", "she deposited money at the bank"]


def test_compare_contexts_reports_every_pair_and_layer():
    encoder = ToyEncoder()
    result = compare_contexts(encoder, SENTENCES, "bank", layers=[0, -1], topn=3)
    assert result.n_layers == 3 and not result.pooled and not result.causal
    assert "both sides" in result.note
    assert len(result.pairs) == 1 and len(result.pairs[0].cosines) == 4
    runs = encoder.run(SENTENCES)
    a, b = runs[0].hidden_states[:, 7], runs[1].hidden_states[:, 5]
    np.testing.assert_allclose(result.pairs[0].cosines, row_cosines(a, b))
    # layer 0 is the static row itself in this toy: cosine 1 to W_E, and the two contexts agree
    assert result.pairs[0].cosines[0] == pytest.approx(1.0)
    assert result.occurrences[0].static_cosines[0] == pytest.approx(1.0)
    assert result.pairs[0].cosines[-1] < 0.99  # context has pulled the two apart
    assert result.occurrences[0].neighbours[0][0][0] == "bank"
    assert set(result.occurrences[0].neighbours) == {0, 3}
    with pytest.raises(ValueError, match="layers 0..3"):
        compare_contexts(encoder, SENTENCES, "bank", layers=[4])
    assert result.occurrences[1].pieces == ["bank"]


def test_compare_contexts_to_dict_is_plain_json():
    import json

    data = json.loads(json.dumps(compare_contexts(ToyEncoder(), SENTENCES, "bank").to_dict()))
    assert data["word"] == "bank" and data["model"] == "toy"
    assert data["pairs"][0]["sentences"] == SENTENCES
    assert len(data["pairs"][0]["cosines"]) == 4
    assert data["occurrences"][0]["neighbours"][0]["layer"] == 0
    assert {"word", "cosine"} == set(data["occurrences"][0]["neighbours"][0]["words"][0])


def test_layer_drift_curves_have_one_value_per_layer():
    curves = compare_contexts(ToyEncoder(), SENTENCES + ["the big bank"], "bank").layer_drift()
    assert set(curves) == {"1 vs 2", "1 vs 3", "2 vs 3", "W_E vs 1", "W_E vs 2", "W_E vs 3"}
    assert all(len(c) == 4 for c in curves.values())


def test_a_causal_encoder_ignores_the_right_context_and_says_so():
    encoder = ToyEncoder(causal=True)
    result = compare_contexts(encoder, ["the bank sat on the river", "the bank deposited her money"], "bank")
    assert "causal" in result.note and result.causal
    np.testing.assert_allclose(result.pairs[0].cosines, 1.0)  # same left context "the bank"


def test_a_word_missing_from_a_sentence_is_named():
    with pytest.raises(WordNotInSentence, match="'bank'.*'she sat'"):
        compare_contexts(ToyEncoder(), ["the river bank", "she sat"], "bank")


def test_sense_separation_counts_triplet_wins_per_layer():
    items = [
        SenseSentence("bank", "river", "the fisherman sat on the grassy river bank"),
        SenseSentence("bank", "river", "the fisherman sat on the river bank"),
        SenseSentence("bank", "money", "she deposited money at the bank"),
        SenseSentence("bank", "money", "she deposited her money at a bank"),
        SenseSentence("money", "only", "she deposited money"),  # no triplet: skipped
    ]
    result = sense_separation(ToyEncoder(), items)
    assert result.n_triplets == 8 and result.skipped.keys() == {"money"}
    assert len(result.win_rate) == 4
    assert result.win_rate[0] == 0.0  # layer 0: all four vectors are the same W_E row, no wins
    assert result.win_rate[-1] == 1.0 and result.mean_gap[-1] > 0
    assert result.best_layer == 3
    assert result.words[0].wins[-1] == 8
    assert result.to_dict()["best_layer"] == 3


# -- the real MiniLM ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def minilm():
    encoders = pytest.importorskip("embedspace.contextual.encoders")
    from transformer.minilm_files import ModelNotFound

    try:
        return encoders.load_encoder("minilm")
    except ModelNotFound as error:
        pytest.skip(str(error))


@pytest.mark.minilm
def test_minilm_model_in_two_ml_sentences_is_closer_than_ml_vs_fashion(minilm):
    result = compare_contexts(minilm, [
        "The engineers trained a machine learning model on the data.",
        "We evaluated the deep learning model on the test set.",
        "She worked as a fashion model in Paris.",
    ], "model")
    same, different = result.pairs[0].cosines, result.pairs[1].cosines
    assert len(same) == minilm_layers(minilm) + 1
    assert same[-1] > different[-1]
    # layer 0 holds only the word and its position: the contexts differ far less there
    assert 1 - same[0] < 1 - different[-1]


@pytest.mark.minilm
def test_minilm_separates_the_bundled_senses_above_chance(minilm):
    result = sense_separation(minilm)
    assert not result.skipped
    assert all(len(minilm.word_positions(item.sentence, item.word)) == 1 for item in load_sense_sentences())
    assert result.win_rate[-1] > 0.75
    assert result.mean_gap[-1] > 0


def minilm_layers(encoder) -> int:
    return encoder.run(["a"])[0].hidden_states.shape[0] - 1
