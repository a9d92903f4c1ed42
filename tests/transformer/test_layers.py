"""Every layer's backward against float64 finite differences of its forward, plus forward facts."""
from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_close, numerical_grad

from transformer import attention, layers
from transformer.errors import InvalidInput

RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape)


def check_op(forward, backward, inputs: dict, grad_names, atol=1e-7):
    """Loss = sum(forward(**inputs) * R); compare backward's gradients with finite differences."""
    out, _ = forward(**inputs)
    weights = randn(*out.shape)

    def loss():
        return float((forward(**inputs)[0] * weights).sum())

    _, cache = forward(**inputs)
    analytic = backward(weights.copy(), cache)
    analytic = analytic if isinstance(analytic, tuple) else (analytic,)
    for name, grad in zip(grad_names, analytic):
        if name is not None:
            assert_close(grad, numerical_grad(loss, inputs[name]), name=name, atol=atol)


def test_embedding_gradients_accumulate_repeated_tokens_and_types():
    tokens = np.array([[1, 3, 1], [0, 3, 3]])
    types = np.array([[0, 0, 1], [1, 1, 0]])
    inputs = {"tokens": tokens, "wte": randn(5, 4), "wpe": randn(3, 4), "token_type_ids": types, "wtt": randn(2, 4)}
    check_op(layers.embedding_forward, layers.embedding_backward, inputs, ["wte", "wpe", "wtt"])


def test_embedding_forward_is_a_row_lookup():
    wte = randn(5, 3)
    out, _ = layers.embedding_forward(np.array([[4, 2]]), wte)
    np.testing.assert_array_equal(out[0], wte[[4, 2]])


def test_layer_norm_gradients():
    inputs = {"x": randn(2, 3, 5), "g": randn(5), "b": randn(5), "eps": 1e-5}
    check_op(layers.layer_norm_forward, layers.layer_norm_backward, inputs, ["x", "g", "b"])


def test_layer_norm_output_has_zero_mean_unit_variance():
    out, _ = layers.layer_norm_forward(randn(4, 8) * 3 + 2, np.ones(8), np.zeros(8), eps=1e-12)
    np.testing.assert_allclose(out.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(-1), 1, atol=1e-9)


def test_linear_gradients():
    inputs = {"x": randn(2, 3, 4), "w": randn(4, 5), "b": randn(5)}
    check_op(layers.linear_forward, layers.linear_backward, inputs, ["x", "w", "b"])


@pytest.mark.parametrize("approximation", ["tanh", "erf"])
def test_gelu_gradients(approximation):
    inputs = {"x": randn(3, 7) * 2, "approximation": approximation}
    check_op(layers.gelu_forward, layers.gelu_backward, inputs, ["x"])


def test_gelu_variants_match_their_formulas():
    from math import erf, pi, sqrt, tanh
    x = np.linspace(-4, 4, 17)
    exact = np.array([0.5 * v * (1 + erf(v / sqrt(2))) for v in x])
    approx = np.array([0.5 * v * (1 + tanh(sqrt(2 / pi) * (v + 0.044715 * v ** 3))) for v in x])
    np.testing.assert_allclose(layers.gelu_forward(x, "erf")[0], exact, atol=1e-12)
    np.testing.assert_allclose(layers.gelu_forward(x, "tanh")[0], approx, atol=1e-12)
    with pytest.raises(InvalidInput, match="unknown GELU"):
        layers.gelu_forward(x, "relu")


def test_float32_normal_tail_is_within_float32_resolution_of_scipy():
    from scipy.special import erfc
    a = np.linspace(0, 8, 20001)
    exact = 0.5 * erfc(a / np.sqrt(2))
    fast = layers.normal_tail(a.astype(np.float32))
    assert fast.dtype == np.float32
    assert np.abs(fast.astype(np.float64) - exact).max() < 4e-7    # a few float32 ulps of 0.5 (6e-8 each)
    np.testing.assert_allclose(layers.normal_tail(a), exact, rtol=1e-12, atol=0)  # float64: scipy itself


def attention_inputs(causal, mask=None):
    c = 6
    return {"x": randn(2, 4, c), "c_attn": {"w": randn(c, 3 * c) * 0.5, "b": randn(3 * c) * 0.1},
            "c_proj": {"w": randn(c, c) * 0.5, "b": randn(c)}, "n_head": 2, "causal": causal,
            "attention_mask": mask}


@pytest.mark.parametrize("causal, mask", [
    (True, None),
    (False, None),
    (False, np.array([[1, 1, 1, 0], [1, 1, 0, 0]])),
    (True, np.array([[0, 1, 1, 1], [1, 1, 1, 1]])),   # left padding: query 0 of row 0 sees no real key
])
def test_attention_gradients(causal, mask):
    inputs = attention_inputs(causal, mask)
    out, cache = attention.attention_forward(**inputs)
    weights = randn(*out.shape)

    def loss():
        return float((attention.attention_forward(**inputs)[0] * weights).sum())

    dx, grads = attention.attention_backward(weights, cache)
    assert_close(dx, numerical_grad(loss, inputs["x"]), name="x")
    for part in ("c_attn", "c_proj"):
        for name in ("w", "b"):
            assert_close(grads[part][name], numerical_grad(loss, inputs[part][name]), name=f"{part}.{name}")


def test_attention_matches_a_per_head_loop():
    inputs = attention_inputs(causal=True, mask=np.array([[1, 1, 1, 1], [1, 1, 1, 0]]))
    out, cache = attention.attention_forward(**inputs)
    x, w, b = inputs["x"], inputs["c_attn"]["w"], inputs["c_attn"]["b"]
    h, c = 2, x.shape[-1]
    d = c // h
    expected = np.zeros_like(x)
    for n in range(x.shape[0]):
        qkv = x[n] @ w + b
        heads = []
        for head in range(h):
            q, k, v = (qkv[:, part * c + head * d: part * c + (head + 1) * d] for part in range(3))
            scores = q @ k.T / np.sqrt(d)
            allowed = np.tril(np.ones((4, 4), bool)) & inputs["attention_mask"][n].astype(bool)[None]
            scores = np.where(allowed, scores, -np.inf)
            p = np.exp(scores - scores.max(-1, keepdims=True))
            p /= p.sum(-1, keepdims=True)
            np.testing.assert_allclose(cache.probs[n, head], p, atol=1e-12)
            heads.append(p @ v)
        expected[n] = np.concatenate(heads, axis=1) @ inputs["c_proj"]["w"] + inputs["c_proj"]["b"]
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_attention_probabilities_respect_causal_and_padding_masks():
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]])
    _, cache = attention.attention_forward(**attention_inputs(True, mask))
    probs = cache.probs
    np.testing.assert_allclose(probs.sum(-1), 1, atol=1e-12)
    assert np.all(probs[:, :, np.triu_indices(4, 1)[0], np.triu_indices(4, 1)[1]] == 0)
    assert np.all(probs[0, :, :, 2:] == 0)


def test_mlp_gradients():
    c, f = 4, 8
    inputs = {"x": randn(2, 3, c), "c_fc": {"w": randn(c, f), "b": randn(f)},
              "c_proj": {"w": randn(f, c), "b": randn(c)}, "gelu": "erf"}
    out, cache = layers.mlp_forward(**inputs)
    weights = randn(*out.shape)

    def loss():
        return float((layers.mlp_forward(**inputs)[0] * weights).sum())

    dx, grads = layers.mlp_backward(weights, cache)
    assert_close(dx, numerical_grad(loss, inputs["x"]), name="x")
    for part in ("c_fc", "c_proj"):
        for name in ("w", "b"):
            assert_close(grads[part][name], numerical_grad(loss, inputs[part][name]), name=f"{part}.{name}")


def test_residual_gradients():
    inputs = {"x": randn(2, 3), "y": randn(2, 3)}
    check_op(layers.residual_forward, layers.residual_backward, inputs, ["x", "y"])


def test_cross_entropy_gradient_and_value():
    logits, targets = randn(2, 3, 7) * 3, RNG.integers(0, 7, size=(2, 3))

    def loss():
        return layers.cross_entropy_forward(logits, targets)[0]

    value, cache = layers.cross_entropy_forward(logits, targets)
    z = logits.reshape(-1, 7)
    naive = np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(6), targets.reshape(-1)])
    assert value == pytest.approx(naive, rel=1e-12)
    assert_close(layers.cross_entropy_backward(1.0, cache), numerical_grad(loss, logits), name="logits")


def test_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1e4, 0.0, -1e4]], dtype=np.float32)
    loss, cache = layers.cross_entropy_forward(logits, np.array([1]))
    assert loss == pytest.approx(1e4)
    assert np.isfinite(layers.cross_entropy_backward(1.0, cache)).all()
