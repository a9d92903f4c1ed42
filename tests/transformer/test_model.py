"""The whole transformer: gradients against finite differences, overfitting, shapes, masks, params."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from gradcheck import assert_close, numerical_grad
from tiny_models import BERT_LIKE, CASES, TINY, leaves, random_params

from transformer import layers
from transformer.config import PRESETS, TransformerConfig, count_params
from transformer.errors import InvalidInput, TransformerError
from transformer.model import backward, forward, init_params, lm_loss


@pytest.mark.parametrize("case", list(CASES))
def test_whole_model_gradients_match_finite_differences(case):
    cfg, extra = CASES[case]
    params = random_params(cfg)
    tokens = np.array([[1, 4, 4, 9], [0, 10, 3, 4]])
    out, cache = forward(params, tokens, cfg, **extra)
    weights = np.random.default_rng(2).standard_normal(out.shape)

    def loss():
        return float((forward(params, tokens, cfg, **extra)[0] * weights).sum())

    grads = dict(leaves(backward(weights, cache, params, cfg)))
    names = dict(leaves(params))
    assert set(grads) == set(names)
    for name, array in names.items():
        # wpe rows past T, and a token-type row nobody uses, get no gradient
        unused = name == "wpe" or (name == "wtt" and "token_type_ids" not in extra)
        numeric = numerical_grad(loss, array)
        assert_close(grads[name], numeric, name=name, nonzero=not unused)


def test_lm_loss_gradients_match_finite_differences():
    params = random_params(TINY)
    tokens, targets = np.array([[1, 2, 3, 4, 5]]), np.array([[2, 3, 4, 5, 6]])
    _, grads = lm_loss(params, tokens, targets, TINY)
    for name, array in [("wte", params["wte"]), ("blocks.1.mlp.c_fc.w", params["blocks"][1]["mlp"]["c_fc"]["w"])]:
        numeric = numerical_grad(lambda: lm_loss(params, tokens, targets, TINY, with_grads=False)[0], array)
        assert_close(dict(leaves(grads))[name], numeric, name=name)


def test_tiny_model_overfits_one_batch():
    cfg = dataclasses.replace(TINY, n_ctx=8)
    params = init_params(cfg, seed=0)
    rng = np.random.default_rng(0)
    batch = rng.integers(0, cfg.vocab_size, size=(4, 9))
    tokens, targets = batch[:, :-1], batch[:, 1:]
    first = None
    for _ in range(300):
        loss, grads = lm_loss(params, tokens, targets, cfg)
        first = loss if first is None else first
        named_grads = dict(leaves(grads))
        for name, p in leaves(params):
            p -= 0.5 * named_grads[name]                # plain gradient descent
    assert first > 2.0
    assert loss < 0.1


def test_forward_shapes_and_single_row_input():
    params = init_params(TINY)
    logits, cache = forward(params, np.array([3, 1, 4]), TINY)
    assert logits.shape == (1, 3, TINY.vocab_size) and logits.dtype == np.float32
    assert [h.shape for h in cache.hidden_states] == [(1, 3, 8)] * 3
    assert [a.shape for a in cache.attentions] == [(1, 2, 3, 3)] * 2
    hidden, _ = forward(init_params(dataclasses.replace(BERT_LIKE, lm_head=False)), [[1, 2]],
                        dataclasses.replace(BERT_LIKE, lm_head=False))
    assert hidden.shape == (1, 2, 8)


def test_hidden_states_are_the_residual_stream():
    cfg = dataclasses.replace(BERT_LIKE, lm_head=False)
    out, cache = forward(random_params(cfg), [[1, 2, 3]], cfg)
    np.testing.assert_array_equal(out, cache.hidden_states[-1])
    params = random_params(TINY)
    logits, cache = forward(params, [[1, 2, 3]], TINY)
    final, _ = layers.layer_norm_forward(cache.hidden_states[-1], **params["ln_f"], eps=TINY.norm_eps)
    np.testing.assert_allclose(logits, final @ params["wte"].T, atol=1e-12)


def test_causal_model_never_looks_ahead():
    params = random_params(TINY)
    tokens = np.array([[1, 2, 3, 4, 5, 6]])
    changed = tokens.copy()
    changed[0, 3] = 9
    a, _ = forward(params, tokens, TINY)
    b, _ = forward(params, changed, TINY)
    np.testing.assert_allclose(a[:, :3], b[:, :3], atol=1e-12)
    assert np.abs(a[:, 3:] - b[:, 3:]).max() > 1e-3


def test_padding_is_invisible_to_real_tokens_of_an_encoder():
    cfg = dataclasses.replace(BERT_LIKE, lm_head=False)
    params = random_params(cfg)
    mask = np.array([[1, 1, 1, 0, 0]])
    a, _ = forward(params, [[1, 2, 3, 4, 5]], cfg, attention_mask=mask)
    b, _ = forward(params, [[1, 2, 3, 9, 0]], cfg, attention_mask=mask)
    short, _ = forward(params, [[1, 2, 3]], cfg)
    np.testing.assert_allclose(a[:, :3], b[:, :3], atol=1e-12)
    np.testing.assert_allclose(a[:, :3], short, atol=1e-12)


@pytest.mark.parametrize("tokens, match", [
    ([[1, 2, 11]], r"\[0, 11\)"),
    ([[-1]], r"\[0, 11\)"),
    ([list(range(7))], "context length"),
    ([[0.5]], "integers"),
    ([[[1]]], "shape"),
])
def test_bad_tokens_are_named(tokens, match):
    with pytest.raises(InvalidInput, match=match):
        forward(init_params(TINY), np.array(tokens), TINY)


def test_config_rejects_bad_fields():
    with pytest.raises(InvalidInput, match="divisible"):
        TransformerConfig(vocab_size=5, n_ctx=4, n_embd=10, n_head=3, n_layer=1)
    with pytest.raises(InvalidInput, match="norm must be one of"):
        TransformerConfig(vocab_size=5, n_ctx=4, n_embd=8, n_head=2, n_layer=1, norm="middle")
    with pytest.raises(TransformerError, match="unknown config field"):
        TransformerConfig.from_dict({**TINY.to_dict(), "dropout": 0.1})
    assert TransformerConfig.from_dict(TINY.to_dict()) == TINY


def test_count_params_matches_published_figures():
    gpt2 = count_params(PRESETS["gpt2"])
    assert gpt2["total"] == 124_439_808             # GPT-2 small, tied W_U (HF GPT2Model parameter count)
    gpt3 = count_params(PRESETS["gpt3"])
    assert gpt3["W_E"] == 617_558_016
    assert gpt3["total"] == pytest.approx(175.0e9, rel=0.005)
    # BERT-style MiniLM-L6 without its pooler: 22,713,216 published with the 147,840-parameter pooler
    assert count_params(PRESETS["minilm"])["total"] == 22_713_216 - (384 * 384 + 384)


@pytest.mark.parametrize("cfg", [TINY, BERT_LIKE, dataclasses.replace(TINY, positions="sinusoidal")])
def test_count_params_equals_the_arrays_init_params_makes(cfg):
    counts = count_params(cfg)
    assert counts["total"] == sum(a.size for _, a in leaves(init_params(cfg)))
    assert counts["W_U"] == (0 if cfg.tied_embeddings else cfg.n_embd * cfg.vocab_size)
