"""Isolated-word vectors: pooling checked in float64, and both ways in against Hugging Face transformers' own outputs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedspace.contextual.isolated import (
    WordReader,
    check_layers,
    isolated_vectors,
    piece_mask,
    pool_pieces,
)
from embedspace.errors import InvalidInput

REFERENCE = Path(__file__).resolve().parents[2] / "fixtures" / "isolated_reference.npz"


def test_pool_pieces_is_the_sum_of_unit_means_over_the_pieces_in_float64():
    rng = np.random.default_rng(0)
    hidden = [rng.normal(size=(2, 5, 3)).astype(np.float32) for _ in range(4)]  # L+1 = 4 layers, [B, T, C]
    tokens = [["[CLS]", "su", "##shi", "[SEP]", "[PAD]"], ["[CLS]", "tower", "[SEP]", "[PAD]", "[PAD]"]]
    mask = piece_mask(tokens, 5)
    assert mask.tolist() == [[0, 1, 1, 0, 0], [0, 1, 0, 0, 0]]
    expected = np.zeros((2, 3))
    for layer in (1, 3):
        for row, positions in enumerate(([1, 2], [1])):
            mean = hidden[layer][row, positions].astype(np.float64).mean(axis=0)
            expected[row] += mean / np.linalg.norm(mean)
    np.testing.assert_allclose(pool_pieces(hidden, mask, (1, 3)), expected, rtol=1e-5)


def test_layers_are_checked_and_counted_from_the_end():
    assert check_layers([6, -5, 2], 6) == (2, 6)
    with pytest.raises(InvalidInput, match="layers 0..6"):
        check_layers([7], 6)
    with pytest.raises(InvalidInput, match="at least one layer"):
        check_layers([], 6)


def test_a_word_reader_loads_nothing_until_asked_and_refuses_unknown_pieces():
    loads = []

    class Tokenizer:
        def tokens(self, text):
            return ["[CLS]", *("[UNK]" if "☃" in w else w for w in text.split()), "[SEP]"]

    reader = WordReader(lambda: loads.append("model"), lambda: loads.append("tokenizer") or Tokenizer(), (0,))
    assert loads == []
    assert reader.readable("new york") and not reader.readable("☃ man") and not reader.readable("?!")
    assert loads == ["tokenizer"]


@pytest.fixture(scope="module")
def reference():
    return np.load(REFERENCE)


@pytest.mark.minilm
def test_both_ways_in_equal_transformers_words_read_alone(minilm_encoder, reference):
    words = reference["words"].tolist()
    assert [" ".join(minilm_encoder.tokenize(w)[1:-1]) for w in words] == reference["pieces"].tolist()
    pooled = reference["pooled"].astype(np.float64)  # [L+1, N, C], each layer's mean of the pieces
    for layers in ((2, 6), (0,), (1, 3, 5)):
        expected = sum(pooled[layer] / np.linalg.norm(pooled[layer], axis=1, keepdims=True) for layer in layers)
        batched = isolated_vectors(minilm_encoder, words, layers, batch_size=4)  # padded batches, on threads
        np.testing.assert_allclose(batched, expected, atol=2e-4)
    reader = WordReader(lambda: (minilm_encoder.cfg, minilm_encoder.params), lambda: minilm_encoder.tokenizer, (2, 6))
    expected = sum(pooled[layer] / np.linalg.norm(pooled[layer], axis=1, keepdims=True) for layer in (2, 6))
    np.testing.assert_allclose(reader.vectors(words), expected, atol=2e-4)  # plain forward, one batch
    np.testing.assert_allclose(reader.vectors(["sushi"])[0], expected[1], atol=2e-4)  # alone, unpadded


@pytest.fixture(scope="module")
def minilm_encoder():
    from embedspace.contextual.encoders import load_encoder
    from transformer.minilm_files import ModelNotFound

    try:
        encoder = load_encoder("minilm")
    except ModelNotFound:
        pytest.skip("all-MiniLM-L6-v2 is not installed")
    yield encoder
    encoder.close()
