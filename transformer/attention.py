"""Multi-head self-attention as pure functions: :func:`attention_forward` right above its backward.

Q, K, V come from one fused projection of the residual stream; each head's weights are
softmax(Q K^T / sqrt(D)) over the keys it may see (causal mask, padding); the heads' weighted sums
of V are concatenated and projected by W_O. The same function runs the whole layer and a group of
its heads: a group is the layer restricted to its own columns of W_Q, W_K, W_V and rows of W_O
(see :mod:`transformer.parallel`), so there is one attention implementation.

Shapes: B batch, T positions, C width, H heads, D head size, h heads of a group (h = H for the
whole layer, hD = C).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from transformer.backend import xp_of
from transformer.layers import linear_backward, linear_forward


def split_heads(qkv, n_head: int):
    """[B, T, 3hD] -> three views [B, h, T, D] for queries, keys and values."""
    b, t, c3 = qkv.shape
    parts = qkv.reshape(b, t, 3, n_head, c3 // (3 * n_head))  # [B, T, 3, h, D]
    parts = parts.transpose(2, 0, 3, 1, 4)                    # [3, B, h, T, D]
    return parts[0], parts[1], parts[2]


def merge_heads(y):
    """[B, h, T, D] -> [B, T, h*D] (a contiguous copy)."""
    b, h, t, d = y.shape
    return y.transpose(0, 2, 1, 3).reshape(b, t, h * d)


def attention_allowed(t: int, causal: bool, attention_mask=None, xp=np):
    """Boolean mask of which key each query may attend to, broadcastable to [B, H, T, T] (None: all).

    ``attention_mask`` [B, T] marks real tokens with 1 and padding with 0; padded keys are masked.

    Examples
    --------
    >>> attention_allowed(3, causal=True)[0, 0].astype(int).tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    allowed = None
    if causal:
        allowed = xp.tril(xp.ones((t, t), dtype=bool))[None, None]      # [1, 1, T, T]
    if attention_mask is not None:
        keys = xp.asarray(attention_mask).astype(bool)[:, None, None, :]  # [B, 1, 1, T]
        allowed = keys if allowed is None else allowed & keys
    return allowed


def softmax_inplace(scores):
    """Numerically stable softmax over the last axis, overwriting ``scores``; returns it."""
    xp = xp_of(scores)
    scores -= scores.max(axis=-1, keepdims=True)
    xp.exp(scores, out=scores)
    sums = scores @ xp.ones(scores.shape[-1], dtype=scores.dtype)  # [..., T] row sums: one matrix-vector
    scores /= sums[..., None]                                       # product, 4x numpy's sum over short rows
    return scores


def attend(q, k, v, allowed=None):
    """Each head's softmax(Q K^T) weights over allowed keys, and its weighted sum of V.

    Parameters
    ----------
    q, k, v : [B, H, T, D] (``q`` already scaled by 1/sqrt(D))
    allowed : boolean mask broadcastable to [B, H, T, T] (see :func:`attention_allowed`), or None

    Returns
    -------
    y : [B, H, T, D];  probs : [B, H, T, T]

    Examples
    --------
    >>> q = k = v = np.ones((1, 1, 2, 1))
    >>> attend(q, k, v, attention_allowed(2, causal=True))[1][0, 0].tolist()
    [[1.0, 0.0], [0.5, 0.5]]
    """
    xp = xp_of(q)
    scores = q @ k.swapaxes(-1, -2)                                 # [B, H, T, D] @ [B, H, D, T] -> [B, H, T, T]
    if allowed is not None:
        xp.copyto(scores, xp.finfo(scores.dtype).min, where=~allowed)  # blocked keys: ~ -inf, no NaN
    probs = softmax_inplace(scores)                                 # [B, H, T, T]
    return probs @ v, probs                                         # [B, H, T, T] @ [B, H, T, D]


class AttentionCache(NamedTuple):
    """What :func:`attention_backward` needs; ``probs`` is also what the analysis inspects."""

    qkv: tuple                   # linear cache of the fused Q/K/V projection
    q: object                    # [B, h, T, D] queries, already scaled by 1/sqrt(D)
    k: object                    # [B, h, T, D] keys
    v: object                    # [B, h, T, D] values
    probs: object                # [B, h, T, T] softmax attention probabilities
    padded_allowed: object       # the allowed-keys mask when padding was given, else None
    proj: tuple                  # linear cache of the output projection W_O
    n_head: int                  # h


def attention_forward(x, c_attn, c_proj, n_head: int, causal: bool = False, attention_mask=None):
    """Multi-head scaled dot-product self-attention.

    Q, K, V = x W_Q, x W_K, x W_V (one fused matrix, columns q | k | v, each split into heads); per
    head the weights are softmax(Q K^T / sqrt(D)) over allowed keys; the heads' weighted sums of V
    are concatenated and projected by W_O. The head size D is the fused matrix's width / (3 h).

    Parameters
    ----------
    x : [B, T, C]
    c_attn : {"w": [C, 3hD], "b": [3hD]};  c_proj : {"w": [hD, C], "b": [C] or None}
        The whole layer has h = H heads and hD = C; a group of h of its heads passes its own columns.
    attention_mask : [B, T] of 1 (real token) and 0 (padding), or None

    Returns
    -------
    out : [B, T, C]; an :class:`AttentionCache` (``cache.probs``: the attention probabilities).

    Examples
    --------
    >>> p = {"w": np.zeros((4, 12)), "b": np.zeros(12)}, {"w": np.eye(4), "b": np.zeros(4)}
    >>> out, cache = attention_forward(np.ones((1, 3, 4)), *p, n_head=2, causal=True)
    >>> cache.probs[0, 0].round(2).tolist()
    [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.33, 0.33, 0.33]]
    """
    xp = xp_of(x)
    t = x.shape[1]
    qkv, qkv_cache = linear_forward(x, c_attn["w"], c_attn["b"])   # [B, T, C] -> [B, T, 3hD]
    q, k, v = split_heads(qkv, n_head)                              # 3 x [B, h, T, D]
    q = q * (1.0 / math.sqrt(q.shape[-1]))                          # scale Q once, not the scores
    allowed = attention_allowed(t, causal, attention_mask, xp)
    y, probs = attend(q, k, v, allowed)                             # [B, h, T, D], [B, h, T, T]
    out, proj_cache = linear_forward(merge_heads(y), c_proj["w"], c_proj["b"])  # [B, T, hD] -> [B, T, C]
    padded = attention_mask is not None
    return out, AttentionCache(qkv_cache, q, k, v, probs, allowed if padded else None, proj_cache, n_head)


def attention_backward(dout, cache):
    """Gradients ``(dx, {"c_attn": {"w", "b"}, "c_proj": {"w", "b"}})`` of :func:`attention_forward`."""
    qkv_cache, q, k, v, probs, padded_allowed, proj_cache, n_head = cache
    xp = xp_of(dout)
    b, t, _ = dout.shape
    d = q.shape[-1]
    dy, dw_proj, db_proj = linear_backward(dout, proj_cache)       # [B, T, hD]
    dy = dy.reshape(b, t, n_head, d).transpose(0, 2, 1, 3)          # [B, h, T, D]
    dprobs = dy @ v.swapaxes(-1, -2)                                # [B, h, T, D] @ [B, h, D, T] -> [B, h, T, T]
    dqkv = xp.empty((b, t, 3, n_head, d), dtype=dout.dtype)
    dq, dk, dv = dqkv.transpose(2, 0, 3, 1, 4)                      # 3 x [B, h, T, D] views into dqkv
    dv[...] = probs.swapaxes(-1, -2) @ dy                           # [B, h, T, T] @ [B, h, T, D]
    # softmax backward: dscores = P * (dP - sum(dP * P))
    dprobs -= (dprobs * probs).sum(axis=-1, keepdims=True)
    dprobs *= probs
    if padded_allowed is not None:                                  # a fully padded row's uniform weights
        dprobs *= padded_allowed                                    # came from constants: no gradient
    dq[...] = dprobs @ k                                            # [B, h, T, T] @ [B, h, T, D]
    dq *= 1.0 / math.sqrt(d)
    dk[...] = dprobs.swapaxes(-1, -2) @ q                           # q was already scaled
    dx, dw_attn, db_attn = linear_backward(dqkv.reshape(b, t, 3 * n_head * d), qkv_cache)
    return dx, {"c_attn": {"w": dw_attn, "b": db_attn}, "c_proj": {"w": dw_proj, "b": db_proj}}
