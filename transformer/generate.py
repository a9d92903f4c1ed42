"""Text generation with a causal LM: next-token distributions at a temperature, top-k, sampling.

The loop is the transformer's story in miniature: run the context through the model, take the
last position's logits, divide by the temperature T, softmax, keep the top k, sample one id,
append it, slide the window to the last ``n_ctx`` ids, repeat. T = 0 means always the argmax.
A seed gives the same text every time (a numpy ``Generator``).
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from runtime import ranking
from transformer.backend import asnumpy
from transformer.config import TransformerConfig
from transformer.errors import InvalidInput
from transformer.model import forward


def next_token_logits(params: dict, cfg: TransformerConfig, ids: Iterable[int]) -> np.ndarray:
    """Logits [V] (float64, on the host) for the token after ``ids`` (its last ``n_ctx`` ids)."""
    ids = list(ids)
    if not ids:
        raise InvalidInput("need at least one token of context")
    if not cfg.lm_head or not cfg.causal:
        raise InvalidInput("next-token prediction needs a causal model with an lm_head")
    logits, _ = forward(params, np.asarray(ids[-cfg.n_ctx:])[None], cfg)   # [1, T, V]
    return asnumpy(logits[0, -1]).astype(np.float64)


def distribution(logits: np.ndarray, temperature: float, suppress: Iterable[int] = ()) -> np.ndarray:
    """softmax(logits / T) [V]; T = 0 puts all mass on the argmax; ``suppress`` ids get 0.

    Examples
    --------
    >>> distribution(np.array([1.0, 2.0, 3.0]), 1.0).round(3).tolist()
    [0.09, 0.245, 0.665]
    >>> distribution(np.array([1.0, 2.0, 3.0]), 0.0).tolist()
    [0.0, 0.0, 1.0]
    >>> distribution(np.array([1.0, 2.0, 3.0]), 1.0, suppress=[2]).round(3).tolist()
    [0.269, 0.731, 0.0]
    """
    if not (temperature >= 0 and math.isfinite(temperature)):   # inf would give nan probabilities
        raise InvalidInput(f"temperature must be a finite number >= 0, got {temperature}")
    z = np.array(logits, dtype=np.float64)
    z[list(suppress)] = -np.inf
    if temperature == 0:
        probs = np.zeros_like(z)
        probs[int(np.argmax(z))] = 1.0
        return probs
    z = (z - z.max()) / temperature
    probs = np.exp(z)
    return probs / probs.sum()


def top_k(probs: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` most likely ``(id, probability)`` pairs, most likely first (ties: lower id first).

    Examples
    --------
    >>> top_k(np.array([0.2, 0.5, 0.3]), 2)
    [(1, 0.5), (2, 0.3)]
    """
    if k < 1:
        raise InvalidInput(f"k must be at least 1, got {k}")
    return [(int(i), float(probs[i])) for i in ranking.top_k(probs, k)]


def sample(probs: np.ndarray, rng: np.random.Generator, k: int | None = None) -> int:
    """One id drawn from ``probs`` (renormalised over the top ``k`` when ``k`` is given)."""
    if k is not None:
        kept = top_k(probs, k)
        ids, weights = np.array([i for i, _ in kept]), np.array([p for _, p in kept])
        return int(ids[rng.choice(len(ids), p=weights / weights.sum())])
    return int(rng.choice(len(probs), p=probs))


def generate(params: dict, cfg: TransformerConfig, prompt_ids: Iterable[int], max_new_tokens: int,
             temperature: float = 1.0, k: int | None = None, seed: int | None = None,
             suppress: Iterable[int] = (), stop_id: int | None = None) -> list[int]:
    """Predict, sample, append, ``max_new_tokens`` times; returns only the new ids.

    The context slides: each prediction sees the last ``cfg.n_ctx`` ids. Generation stops early
    after ``stop_id``. The same ``seed`` gives the same ids.

    Examples
    --------
    >>> from transformer.model import init_params
    >>> cfg = TransformerConfig(vocab_size=20, n_ctx=4, n_embd=8, n_head=2, n_layer=1)
    >>> params = init_params(cfg)
    >>> generate(params, cfg, [1, 2], 6, seed=3) == generate(params, cfg, [1, 2], 6, seed=3)
    True
    """
    if max_new_tokens < 0:
        raise InvalidInput(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    rng = np.random.default_rng(seed)
    ids, suppress = list(prompt_ids), list(suppress)
    new: list[int] = []
    for _ in range(max_new_tokens):
        probs = distribution(next_token_logits(params, cfg, ids), temperature, suppress)
        token = sample(probs, rng, k)
        ids.append(token)
        new.append(token)
        if token == stop_id:
            break
    return new
