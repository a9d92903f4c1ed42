"""The strongest attention head for a token pair, checked against a plain loop and the real MiniLM."""
from __future__ import annotations

import numpy as np
import pytest

from embedspace.contextual.attention import head_choices, strongest_heads
from embedspace.contextual.compare import WordNotInSentence
from embedspace.contextual.encoders import EncoderRun
from embedspace.errors import InvalidInput


def random_attentions(seed: int, layers: int = 3, heads: int = 4, tokens: int = 5) -> np.ndarray:
    """[L, H, T, T] rows of softmax weights (each row sums to 1)."""
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(tokens), size=(layers, heads, tokens)).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_strongest_heads_match_a_plain_loop(seed):
    weights = random_attentions(seed)
    query, key = 3, 1
    choices = strongest_heads(weights, query, key)
    assert len(choices) == weights.shape[0]
    for layer, choice in enumerate(choices):
        best_head, best_weight = 0, -1.0
        for head in range(weights.shape[1]):
            if weights[layer, head, query, key] > best_weight:
                best_head, best_weight = head, float(weights[layer, head, query, key])
        row = [float(w) for w in weights[layer, best_head, query]]
        assert (choice.block, choice.head, choice.weight) == (layer + 1, best_head, best_weight)
        assert choice.focus == row.index(max(row))


@pytest.mark.parametrize("shape, query, key", [((2, 3, 4), 0, 1), ((1, 2, 4, 3), 0, 1), ((1, 2, 4, 4), 4, 0),
                                               ((1, 2, 4, 4), 0, -1)])
def test_a_bad_array_or_position_is_a_clear_error(shape, query, key):
    with pytest.raises(InvalidInput):
        strongest_heads(np.zeros(shape), query, key)


def test_head_choices_finds_the_tokens_by_their_text():
    tokens = ["[CLS]", "the", "car", "is", "blue", "[SEP]"]
    weights = random_attentions(4, tokens=len(tokens))
    run = EncoderRun("The car is blue", tokens, list(range(6)), np.zeros((4, 6, 2), np.float32), weights)
    assert head_choices(run, "blue", "car") == strongest_heads(weights, 4, 2)
    with pytest.raises(WordNotInSentence, match="'red'.*'The car is blue'"):
        head_choices(run, "red", "car")


@pytest.fixture(scope="module")
def minilm():
    from embedspace.contextual.encoders import load_encoder
    from transformer.minilm_files import ModelNotFound

    try:
        return load_encoder("minilm")
    except ModelNotFound as error:
        pytest.skip(str(error))


@pytest.mark.minilm
def test_on_minilm_the_chosen_head_beats_every_other_head_read_one_at_a_time(minilm):
    text = "The car is blue"
    choices = head_choices(minilm.run([text])[0], "blue", "car")
    assert len(choices) == minilm.n_layer
    for choice in (choices[0], choices[-1]):
        tokens, _ = minilm.attention(text, choice.block, 0)
        blue, car = tokens.index("blue"), tokens.index("car")
        weights = [float(minilm.attention(text, choice.block, h)[1][blue, car]) for h in range(minilm.cfg.n_head)]
        assert choice.head == int(np.argmax(weights))
        assert choice.weight == pytest.approx(max(weights), abs=1e-6)
