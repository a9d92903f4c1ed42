"""A shard's arrays against an independent path: each sentence run alone, its word pooled with pool_positions."""
from __future__ import annotations

import numpy as np
import pytest

from embedspace.contextual.compare import pool_positions, row_cosines
from embedspace.contextual.encoders import load_encoder
from embedspace.contextual.extraction import (
    Job,
    ShardArrays,
    ShardTask,
    extract_lines,
    intra_similarity,
    pool_spans,
)
from embedspace.contextual.occurrences import is_word, specials_of, word_spans

LINES = ["she paid the money into the bank", "the river bank was wet , the bank was steep",
         "Tokenization of the bank statement", "the king sat by the river"]
NUMBERS = [40, 7, 12, 3]  # made-up corpus line numbers, deliberately out of order
KEYS = ("bank", "river", "king")


def run_alone(encoder, text):
    """Hidden states [L+1, T, C] of one text with no batch around it."""
    return encoder.run([text])[0].hidden_states


@pytest.mark.parametrize("name", ["mini", "minilm"])
def test_occurrence_vectors_equal_each_sentence_run_alone(name):
    encoder = load_encoder(name)
    specials = specials_of(encoder)
    wanted = [{"bank"}, {"bank", "river"}, {"bank"}, {"king", "river"}]
    arrays = extract_lines(encoder, LINES, NUMBERS, wanted, KEYS, specials, seed=0, batch_size=2)
    expected = []  # (line, start, word id, vector) in the order a shard keeps: by line, then position
    for text, number, want in zip(LINES, NUMBERS, wanted):
        hidden = run_alone(encoder, text)
        for word, start, stop in word_spans(encoder.tokenize(text), specials):
            if word in want:
                expected.append((number, start, KEYS.index(word), pool_positions(hidden, range(start, stop))))
    expected.sort(key=lambda e: (e[0], e[1]))
    assert arrays.occ_line.tolist() == [e[0] for e in expected]
    assert arrays.occ_start.tolist() == [e[1] for e in expected]
    assert arrays.occ_word.tolist() == [e[2] for e in expected]
    np.testing.assert_allclose(arrays.vectors, np.stack([e[3] for e in expected]), rtol=1e-4, atol=1e-4)
    assert arrays.occ_line.tolist().count(7) == 3  # "bank" twice and "river" once in the second line


def test_intra_similarity_and_baseline_words_match_a_direct_computation():
    encoder = load_encoder("mini")
    specials = specials_of(encoder)
    arrays = extract_lines(encoder, LINES, NUMBERS, [{"bank"}] * 4, KEYS, specials, seed=5, batch_size=4)
    assert arrays.sent_line.tolist() == sorted(NUMBERS)
    for row, number in enumerate(arrays.sent_line):
        text = LINES[NUMBERS.index(number)]
        hidden = run_alone(encoder, text)
        words = [(w, s, e) for w, s, e in word_spans(encoder.tokenize(text), specials) if is_word(w)]
        vectors = np.stack([pool_positions(hidden, range(s, e)) for _, s, e in words])     # [k, L+1, C]
        mean = vectors.mean(axis=0)
        intra = np.mean([row_cosines(v, mean) for v in vectors], axis=0)
        np.testing.assert_allclose(arrays.intra[row], intra, rtol=1e-4, atol=1e-5)
        assert arrays.sent_text[row] == text
        assert arrays.sent_tokens[row] == len(encoder.tokenize(text))
        chosen = [i for i, (w, _, _) in enumerate(words) if w == arrays.base_word[row]]
        assert any(np.allclose(arrays.base_vectors[row], vectors[i], atol=1e-4) for i in chosen)


def test_a_shard_does_not_depend_on_the_batching_nor_on_the_run():
    encoder = load_encoder("mini")
    specials = specials_of(encoder)
    args = (LINES, NUMBERS, [{"bank", "river"}] * 4, KEYS, specials)
    one = extract_lines(encoder, *args, seed=1, batch_size=1)
    all_four = extract_lines(encoder, *args, seed=1, batch_size=4)
    for field in ("occ_word", "occ_line", "occ_start", "occ_pieces", "sent_line", "base_line", "base_word"):
        np.testing.assert_array_equal(getattr(one, field), getattr(all_four, field))
    np.testing.assert_allclose(one.vectors, all_four.vectors, rtol=1e-5, atol=1e-5)
    back = ShardArrays.load(one.to_bytes())
    np.testing.assert_array_equal(back.vectors, one.vectors)
    np.testing.assert_array_equal(back.sent_text, one.sent_text)


def test_pool_spans_is_pool_positions_for_every_span():
    rng = np.random.default_rng(0)
    hidden = [rng.normal(size=(3, 5, 4)).astype(np.float32) for _ in range(2)]     # 2 layers, B=3, T=5
    spans = [(0, 1, 3), (2, 0, 1), (1, 2, 5), (2, 3, 5)]
    stacked = np.stack(hidden, axis=1)                                             # [B, L+1, T, C]
    expected = np.stack([pool_positions(stacked[b], range(s, e)) for b, s, e in spans])
    np.testing.assert_allclose(pool_spans(hidden, spans, width=5), expected, rtol=1e-6)
    assert pool_spans(hidden, [], width=5).shape == (0, 2, 4)


def test_intra_similarity_gives_nan_to_a_sentence_without_words():
    v = np.ones((2, 1, 3))
    assert np.isnan(intra_similarity(v, np.array([0, 2]))[0]).all()
    assert intra_similarity(v, np.array([0, 2]))[1, 0] == pytest.approx(1.0)


def test_tasks_and_jobs_travel_as_plain_values():
    task = ShardTask(3, (1, 5), (0, 40), ((0,), (0, 2)))
    assert ShardTask.from_json(task.to_json()) == task
    assert Job("c.txt", "mini", ("bank",), 0, 32).keys == ("bank",)
