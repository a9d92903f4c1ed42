"""transformer.parallel: every faster way to run the model equals the plain path, at 2 and 3 threads."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from tiny_models import CASES, TINY, leaves, random_params

from runtime.threads import Workers
from transformer import attention, parallel
from transformer.model import forward, init_params, lm_loss
from transformer.parallel import Activations, ParallelModel, head_group


def assert_infer_equals_one_pass(params, tokens, cfg, workers, extra):
    """``infer`` on ``workers`` threads gives :func:`forward`'s output, hidden states and attentions."""
    out, cache = forward(params, tokens, cfg, **extra)
    with Workers(workers) as pool:
        split = ParallelModel(params, cfg, pool).infer(tokens, **extra)
    np.testing.assert_allclose(split.out, out, rtol=1e-12, atol=1e-12)
    for mine, whole in zip(split.hidden_states + split.attentions, cache.hidden_states + cache.attentions,
                           strict=True):
        np.testing.assert_allclose(mine, whole, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("workers", [2, 3])
def test_inference_in_row_groups_equals_one_pass(case, workers):
    cfg, extra = CASES[case]
    params = random_params(cfg)
    tokens = np.array([[1, 4, 4, 9], [0, 10, 3, 4], [5, 5, 2, 1]])
    extra = {name: np.vstack([value, value[:1]]) for name, value in extra.items()}   # a mask row per token row
    assert_infer_equals_one_pass(params, tokens, cfg, workers, extra)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("workers", [2, 3])
def test_one_row_in_groups_of_heads_and_mlp_columns_equals_one_pass(case, workers, monkeypatch):
    cfg, extra = CASES[case]
    cfg = dataclasses.replace(cfg, n_head=4)                 # 3 workers: groups of 1, 1 and 2 heads
    params = random_params(cfg)
    tokens = np.array([1, 4, 4, 9])
    extra = {name: value[0] for name, value in extra.items()}
    assert_infer_equals_one_pass(params, tokens, cfg, workers, extra)
    heads, real = [], attention.attention_forward           # the head groups run the one attention function
    monkeypatch.setattr(attention, "attention_forward", lambda *a, **k: heads.append(k["n_head"]) or real(*a, **k))
    with Workers(workers) as pool:
        ParallelModel(params, cfg, pool).infer(tokens, **extra)
    assert sorted(heads) == sorted(([2, 2] if workers == 2 else [1, 1, 2]) * cfg.n_layer)   # in threads: any order


def test_a_head_split_forward_keeps_only_activations_no_backward_state():
    params, tokens = random_params(TINY), np.array([[1, 4, 4, 9]])
    with Workers(2) as pool:
        split = ParallelModel(params, TINY, pool).infer(tokens)
    assert type(split) is Activations and split._fields == ("out", "hidden_states", "attentions")
    assert not hasattr(split, "blocks")                      # backward needs a ForwardCache: only forward makes one


def test_inference_keeps_blas_on_one_thread_even_unsplit(monkeypatch):
    from runtime import threads

    seen, real = [], parallel.forward
    monkeypatch.setattr(parallel, "forward", lambda *a, **k: seen.append(threads.blas_threads()) or real(*a, **k))
    with threads.limit_threads(threads.cpu_count()), Workers(2) as pool:
        ParallelModel(init_params(TINY), TINY, pool).infer([[1, 2], [3, 4]], workers=1)
    assert seen == [1]


def test_a_call_never_uses_more_threads_than_the_pool_has():
    with Workers(2) as pool:
        model = ParallelModel(init_params(TINY), TINY, pool)
        assert [model.threads(None), model.threads(1), model.threads(5)] == [2, 1, 2]


@pytest.mark.parametrize("workers", [2, 3])
def test_loss_and_gradients_in_row_groups_equal_one_pass(workers):
    params = random_params(TINY)
    rng = np.random.default_rng(3)
    tokens, targets = rng.integers(0, TINY.vocab_size, (5, 6)), rng.integers(0, TINY.vocab_size, (5, 6))
    loss, grads = lm_loss(params, tokens, targets, TINY)
    workspace = {}
    with Workers(workers) as pool:
        model = ParallelModel(params, TINY, pool)
        for _ in range(2):                               # the second call reuses the groups' logits buffers
            split_loss, split_grads = model.lm_loss(tokens, targets, workspace=workspace)
            assert split_loss == pytest.approx(loss, rel=1e-12)
            for (name, mine), (_, whole) in zip(leaves(split_grads), leaves(grads), strict=True):
                np.testing.assert_allclose(mine, whole, rtol=1e-10, atol=1e-12, err_msg=name)
        assert model.lm_loss(tokens, targets, with_grads=False) == (pytest.approx(loss, rel=1e-12), None)
    assert len(workspace) == workers


@pytest.mark.parametrize("causal", [False, True])
def test_head_groups_sum_to_the_whole_attention(causal):
    cfg = dataclasses.replace(TINY, causal=causal)
    block = random_params(cfg)["blocks"][0]
    x, mask = np.random.default_rng(0).standard_normal((2, 4, cfg.n_embd)), np.array([[1, 1, 1, 1], [1, 1, 1, 0]])
    run = {"causal": causal, "attention_mask": mask}
    out, cache = attention.attention_forward(x, **block["attn"], n_head=cfg.n_head, **run)
    parts = [attention.attention_forward(x, **group.attn, n_head=group.n_head, **run)
             for group in (head_group(block, cfg, slice(h, h + 1), slice(0, 1)) for h in (0, 1))]
    np.testing.assert_allclose(parts[0][0] + parts[1][0] + block["attn"]["c_proj"]["b"], out, atol=1e-12)
    np.testing.assert_allclose(np.concatenate([c.probs for _, c in parts], axis=1), cache.probs, atol=1e-12)
    whole = head_group(block, cfg, slice(0, 2), slice(0, 1))
    np.testing.assert_allclose(attention.attention_forward(x, **whole.attn, n_head=2, **run)[0]
                               + block["attn"]["c_proj"]["b"], out, atol=1e-12)


def test_mlp_column_slices_sum_to_the_whole_mlp():
    from transformer import layers

    cfg = dataclasses.replace(TINY, gelu="erf")
    block = random_params(cfg)["blocks"][0]
    x = np.random.default_rng(1).standard_normal((1, 3, cfg.n_embd))
    whole, _ = layers.mlp_forward(x, **block["mlp"], gelu=cfg.gelu)
    shares = [layers.mlp_forward(x, **head_group(block, cfg, slice(0, 1), inner).mlp, gelu=cfg.gelu)[0]
              for inner in (slice(0, 5), slice(5, cfg.n_inner))]
    np.testing.assert_allclose(parallel.sum_of_shares(shares, block["mlp"]["c_proj"]["b"]), whole, atol=1e-12)
