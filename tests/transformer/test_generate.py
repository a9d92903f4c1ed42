"""Next-token distributions, top-k and the sampling loop, against direct computations."""
from __future__ import annotations

import numpy as np
import pytest

from transformer.config import TransformerConfig
from transformer.generate import distribution, generate, next_token_logits, sample, top_k
from transformer.model import forward, init_params

CFG = TransformerConfig(vocab_size=12, n_ctx=4, n_embd=8, n_head=2, n_layer=1)


@pytest.fixture(scope="module")
def params():
    p = init_params(CFG, seed=5, dtype=np.float64)
    p["wte"] *= 50          # sharper logits than initialisation gives, so temperatures matter
    return p


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_distribution_is_softmax_of_logits_over_temperature(temperature):
    logits = np.array([2.0, -1.0, 0.5, 3.0])
    expected = np.exp(logits / temperature) / np.exp(logits / temperature).sum()
    np.testing.assert_allclose(distribution(logits, temperature), expected, rtol=1e-12)


def test_lower_temperature_sharpens_and_zero_is_argmax():
    logits = np.array([2.0, -1.0, 0.5, 3.0])
    peaks = [distribution(logits, t).max() for t in (2.0, 1.0, 0.5)]
    assert peaks == sorted(peaks)
    assert distribution(logits, 0).tolist() == [0, 0, 0, 1]
    with pytest.raises(ValueError, match="temperature"):
        distribution(logits, -1)


def test_top_k_orders_by_probability_then_id():
    assert top_k(np.array([0.1, 0.4, 0.1, 0.4]), 3) == [(1, 0.4), (3, 0.4), (0, 0.1)]


def test_sampling_with_top_k_never_leaves_the_top_k():
    rng = np.random.default_rng(0)
    probs = np.array([0.05, 0.5, 0.05, 0.3, 0.1])
    assert {sample(probs, rng, k=2) for _ in range(200)} == {1, 3}


def test_next_token_logits_use_only_the_last_n_ctx_ids(params):
    long = [3, 1, 4, 1, 5, 9]
    logits, _ = forward(params, np.array([long[-CFG.n_ctx:]]), CFG)
    np.testing.assert_allclose(next_token_logits(params, CFG, long), logits[0, -1])


def test_generation_is_deterministic_for_a_seed_and_varies_across_seeds(params):
    runs = {seed: generate(params, CFG, [1, 2, 3], 12, temperature=1.5, seed=seed) for seed in range(4)}
    assert generate(params, CFG, [1, 2, 3], 12, temperature=1.5, seed=2) == runs[2]
    assert len({tuple(r) for r in runs.values()}) > 1
    assert all(len(r) == 12 for r in runs.values())


def test_temperature_zero_is_the_greedy_loop_with_a_sliding_window(params):
    ids = [1, 2, 3]
    expected = []
    for _ in range(6):
        logits, _ = forward(params, np.array([ids[-CFG.n_ctx:]]), CFG)
        expected.append(int(np.argmax(logits[0, -1])))
        ids.append(expected[-1])
    assert generate(params, CFG, [1, 2, 3], 6, temperature=0, seed=None) == expected


def test_suppressed_ids_never_appear_and_stop_id_ends_early(params):
    out = generate(params, CFG, [1], 30, temperature=3.0, seed=0, suppress=[0, 1, 2])
    assert not {0, 1, 2} & set(out)
    greedy = generate(params, CFG, [1], 5, temperature=0)
    assert generate(params, CFG, [1], 5, temperature=0, stop_id=greedy[1]) == greedy[: greedy.index(greedy[1]) + 1]
