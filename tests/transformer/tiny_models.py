"""Tiny model configurations and parameters shared by the model tests (plain and parallel paths)."""
from __future__ import annotations

import dataclasses

import numpy as np

from transformer.config import TransformerConfig
from transformer.model import init_params

TINY = TransformerConfig(vocab_size=11, n_ctx=6, n_embd=8, n_head=2, n_layer=2, n_inner=12)
BERT_LIKE = dataclasses.replace(TINY, causal=False, norm="post", gelu="erf", tied_embeddings=False,
                                n_token_types=2, norm_eps=1e-12)


def leaves(tree, prefix=""):
    """(dotted name, array) for every array of a nested params dict."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from leaves(value, f"{prefix}{key}.")
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from leaves(value, f"{prefix}{i}.")
    else:
        yield prefix[:-1], tree


def random_params(cfg, seed=1):
    """float64 parameters with non-trivial norms and biases (init leaves them at 1 and 0)."""
    params = init_params(cfg, seed=seed, dtype=np.float64)
    rng = np.random.default_rng(seed)
    for _, array in leaves(params):
        array += rng.standard_normal(array.shape) * 0.3
    return params


CASES = {
    "gpt pre-norm causal tied": (TINY, {}),
    "bert post-norm padded untied lm_head": (dataclasses.replace(BERT_LIKE, lm_head=True),
                                             {"attention_mask": np.array([[1, 1, 1, 0], [1, 1, 1, 1]]),
                                              "token_type_ids": np.array([[0, 0, 1, 1], [1, 1, 0, 0]])}),
    "encoder without lm_head": (dataclasses.replace(BERT_LIKE, lm_head=False),
                                {"attention_mask": np.array([[1, 1, 0, 0], [1, 1, 1, 1]])}),
    "causal sinusoidal pre-norm with padding": (dataclasses.replace(TINY, positions="sinusoidal"),
                                                {"attention_mask": np.array([[0, 1, 1, 1], [1, 1, 1, 1]])}),
}
