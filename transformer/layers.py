"""The transformer's layers as pure functions, each backward right below its forward.

``*_forward(...)`` returns ``(out, cache)``; ``*_backward(dout, cache)`` returns the gradient with
respect to the forward's inputs and parameters. Caches are plain tuples of what backward needs.
Every function works on numpy or CuPy arrays alike (see :mod:`transformer.backend`), in the
dtype of its inputs: float32 for speed, float64 for gradient checks.

Shapes: B batch, T positions, C width, H heads, D = C / H head size, F MLP width, V vocabulary.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from transformer.backend import normal_tail, row_dot, scatter_add, xp_of

GELU_TANH_SCALE = math.sqrt(2.0 / math.pi)
GELU_CUBIC = 0.044715
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# --- token embedding, positions and token types -------------------------------------------------

def embedding_forward(tokens, wte, wpe=None, token_type_ids=None, wtt=None):
    """Token rows of W_E, plus position rows and token-type rows when given.

    Parameters
    ----------
    tokens : int array [B, T]
    wte : [V, C] token embedding W_E
    wpe : [T, C] or None, the position rows for positions 0..T-1 (learned or sinusoidal)
    token_type_ids : int array [B, T] or None, with wtt : [n_types, C]

    Returns
    -------
    out : [B, T, C]; cache for :func:`embedding_backward`.

    Examples
    --------
    >>> out, _ = embedding_forward(np.array([[1, 0]]), np.eye(2), wpe=np.ones((2, 2)))
    >>> out.tolist()
    [[[1.0, 2.0], [2.0, 1.0]]]
    """
    out = wte[tokens]                                   # [B, T] -> [B, T, C]
    if wpe is not None:
        out += wpe                                      # [B, T, C] + [T, C]
    if wtt is not None:
        out += wtt[token_type_ids]                      # [B, T, C] + [B, T, C]
    return out, (tokens, token_type_ids, wte.shape, None if wtt is None else wtt.shape)


def embedding_backward(dout, cache, dwte=None):
    """Gradients of W_E [V, C], of the position rows [T, C] and of the token-type table (or None).

    ``dwte``, when given, already holds another contribution to W_E's gradient (a tied W_U's) and
    is added to in place.
    """
    tokens, token_type_ids, wte_shape, wtt_shape = cache
    xp = xp_of(dout)
    c = dout.shape[-1]
    dout2 = dout.reshape(-1, c)                         # [B*T, C]
    if dwte is None:
        dwte = xp.zeros(wte_shape, dtype=dout.dtype)
    scatter_add(dwte, tokens.reshape(-1), dout2)        # rows of repeated tokens accumulate
    dwpe = dout.sum(axis=0)                             # [B, T, C] -> [T, C]
    dwtt = None
    if wtt_shape is not None:
        dwtt = xp.zeros(wtt_shape, dtype=dout.dtype)
        scatter_add(dwtt, token_type_ids.reshape(-1), dout2)
    return dwte, dwpe, dwtt


def sinusoidal_positions(n_ctx: int, n_embd: int, dtype=np.float32, xp=np):
    """The fixed sine/cosine position table of Vaswani et al. (2017): [n_ctx, n_embd].

    Even columns hold sin(pos / 10000^(2i/C)), odd columns the matching cos.

    Examples
    --------
    >>> sinusoidal_positions(2, 4, dtype=np.float64).round(3).tolist()
    [[0.0, 1.0, 0.0, 1.0], [0.841, 0.54, 0.01, 1.0]]
    """
    position = np.arange(n_ctx, dtype=np.float64)[:, None]                  # [T, 1]
    frequency = 10000.0 ** (-np.arange(0, n_embd, 2, dtype=np.float64) / n_embd)  # [ceil(C/2)]
    table = np.zeros((n_ctx, n_embd), dtype=np.float64)
    table[:, 0::2] = np.sin(position * frequency)
    table[:, 1::2] = np.cos(position * frequency[: n_embd // 2])
    return xp.asarray(table.astype(dtype))


# --- layer norm ---------------------------------------------------------------------------------

def layer_norm_forward(x, g, b, eps: float = 1e-5):
    """Normalise each row of ``x`` over its last axis, then scale by ``g`` and shift by ``b``.

    Examples
    --------
    >>> out, _ = layer_norm_forward(np.array([[1.0, 3.0]]), np.ones(2), np.zeros(2))
    >>> out.round(3).tolist()
    [[-1.0, 1.0]]
    """
    xp = xp_of(x)
    inv_c = 1.0 / x.shape[-1]
    mean = row_dot(x, xp.full(x.shape[-1], inv_c, dtype=x.dtype))[..., None]  # [..., 1]
    xhat = x - mean                                     # [..., C]
    var = row_dot(xhat, xhat)[..., None]                # [..., 1] sum of squares
    var *= inv_c
    var += eps
    rstd = xp.sqrt(var, out=var)
    xp.reciprocal(rstd, out=rstd)                       # [..., 1] 1 / sqrt(var + eps)
    xhat *= rstd                                        # normalised
    out = xhat * g
    out += b
    return out, (xhat, rstd, g)


def layer_norm_backward(dout, cache):
    """Gradients ``(dx, dg, db)`` of :func:`layer_norm_forward`."""
    xhat, rstd, g = cache
    axes = tuple(range(dout.ndim - 1))
    dg = (dout * xhat).sum(axis=axes)                   # [C]
    db = dout.sum(axis=axes)                            # [C]
    dxhat = dout * g                                    # [..., C]
    mean_dxhat = dxhat.mean(axis=-1, keepdims=True)
    mean_dxhat_xhat = (dxhat * xhat).mean(axis=-1, keepdims=True)
    dxhat -= mean_dxhat
    dxhat -= xhat * mean_dxhat_xhat
    dxhat *= rstd
    return dxhat, dg, db


# --- linear -------------------------------------------------------------------------------------

def linear_forward(x, w, b=None):
    """``x @ w + b`` with ``w`` stored [in, out]: [..., C_in] -> [..., C_out], one GEMM.

    Examples
    --------
    >>> out, _ = linear_forward(np.ones((1, 2)), np.ones((2, 3)), np.arange(3.0))
    >>> out.tolist()
    [[2.0, 3.0, 4.0]]
    """
    lead = x.shape[:-1]
    x2 = x.reshape(-1, x.shape[-1])                     # [N, C_in]
    out = x2 @ w                                        # [N, C_in] @ [C_in, C_out] -> [N, C_out]
    if b is not None:
        out += b
    return out.reshape(*lead, w.shape[1]), (x2, w, b is not None)


def linear_backward(dout, cache):
    """Gradients ``(dx, dw, db)`` of :func:`linear_forward` (``db`` is None without a bias)."""
    x2, w, has_bias = cache
    dout2 = dout.reshape(-1, w.shape[1])                # [N, C_out]
    dx = (dout2 @ w.T).reshape(*dout.shape[:-1], w.shape[0])  # [N, C_out] @ [C_out, C_in]
    dw = x2.T @ dout2                                   # [C_in, N] @ [N, C_out] -> [C_in, C_out]
    db = dout2.sum(axis=0) if has_bias else None        # [C_out]
    return dx, dw, db


# --- GELU ---------------------------------------------------------------------------------------

def gelu_forward(x, approximation: str = "tanh"):
    """GELU: ``"tanh"`` is GPT-2's approximation, ``"erf"`` the exact x * Phi(x) BERT uses.

    The exact one is computed as max(x, 0) - |x| Phi(-|x|), from the normal tail alone (one
    exponential, no 1 + erf(...) cancellation).

    Examples
    --------
    >>> [round(float(gelu_forward(np.array([1.0]), a)[0][0]), 4) for a in ("tanh", "erf")]
    [0.8412, 0.8413]
    """
    xp = xp_of(x)
    if approximation == "tanh":
        t = x * x
        t *= GELU_CUBIC
        t += 1.0
        t *= x
        t *= GELU_TANH_SCALE                            # sqrt(2/pi) * (x + 0.044715 x^3)
        xp.tanh(t, out=t)
        out = t + 1.0
        out *= x
        out *= 0.5                                      # 0.5 x (1 + tanh(...))
        return out, (x, t, approximation)
    if approximation == "erf":
        a = xp.abs(x)
        tail = normal_tail(a)                           # Phi(-|x|)
        out = x + a
        out *= 0.5                                      # max(x, 0), exactly, in passes faster than maximum's
        a *= tail
        out -= a                                        # x >= 0: x (1 - Phi(-x)); x < 0: x Phi(x)
        return out, (x, tail, approximation)
    raise ValueError(f"unknown GELU approximation {approximation!r}: use 'tanh' or 'erf'")


def gelu_backward(dout, cache):
    """Gradient ``dx`` of :func:`gelu_forward`."""
    x, t, approximation = cache
    xp = xp_of(x)
    if approximation == "tanh":
        # d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
        inner = x * x
        inner *= 3 * GELU_CUBIC
        inner += 1.0
        inner *= x
        inner *= 1 - t * t
        inner *= GELU_TANH_SCALE
        inner += t
        inner += 1.0
        inner *= 0.5
    else:
        # d/dx = Phi(x) + x * exp(-x^2 / 2) / sqrt(2 pi), with t = Phi(-|x|) from the forward
        inner = x * x
        inner *= -0.5
        xp.exp(inner, out=inner)
        inner *= x
        inner *= INV_SQRT_2PI
        inner += xp.where(x >= 0, 1.0 - t, t)           # Phi(x)
    inner *= dout
    return inner


# --- attention ----------------------------------------------------------------------------------

def split_heads(qkv, n_head: int):
    """[B, T, 3C] -> three views [B, H, T, D] for queries, keys and values."""
    b, t, c3 = qkv.shape
    parts = qkv.reshape(b, t, 3, n_head, c3 // (3 * n_head))  # [B, T, 3, H, D]
    parts = parts.transpose(2, 0, 3, 1, 4)                    # [3, B, H, T, D]
    return parts[0], parts[1], parts[2]


def merge_heads(y):
    """[B, H, T, D] -> [B, T, H*D] (a contiguous copy)."""
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
    q: object                    # [B, H, T, D] queries, already scaled by 1/sqrt(D)
    k: object                    # [B, H, T, D] keys
    v: object                    # [B, H, T, D] values
    probs: object                # [B, H, T, T] softmax attention probabilities
    padded_allowed: object       # the allowed-keys mask when padding was given, else None
    proj: tuple                  # linear cache of the output projection W_O
    n_head: int


def attention_forward(x, c_attn, c_proj, n_head: int, causal: bool = False, attention_mask=None):
    """Multi-head scaled dot-product self-attention.

    Q, K, V = x W_Q, x W_K, x W_V (one fused [C, 3C] matrix); per head the weights are
    softmax(Q K^T / sqrt(D)) over allowed keys; the heads' weighted sums of V are concatenated
    and projected by W_O.

    Parameters
    ----------
    x : [B, T, C]
    c_attn : {"w": [C, 3C], "b": [3C]};  c_proj : {"w": [C, C], "b": [C]}
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
    _, t, c = x.shape
    qkv, qkv_cache = linear_forward(x, c_attn["w"], c_attn["b"])   # [B, T, C] -> [B, T, 3C]
    q, k, v = split_heads(qkv, n_head)                              # 3 x [B, H, T, D]
    q = q * (1.0 / math.sqrt(c // n_head))                          # scale Q once, not the scores
    allowed = attention_allowed(t, causal, attention_mask, xp)
    y, probs = attend(q, k, v, allowed)                             # [B, H, T, D], [B, H, T, T]
    out, proj_cache = linear_forward(merge_heads(y), c_proj["w"], c_proj["b"])  # [B, T, C] -> [B, T, C]
    padded = attention_mask is not None
    return out, AttentionCache(qkv_cache, q, k, v, probs, allowed if padded else None, proj_cache, n_head)


def attention_backward(dout, cache):
    """Gradients ``(dx, {"c_attn": {"w", "b"}, "c_proj": {"w", "b"}})`` of :func:`attention_forward`."""
    qkv_cache, q, k, v, probs, padded_allowed, proj_cache, n_head = cache
    xp = xp_of(dout)
    b, t, c = dout.shape
    dy, dw_proj, db_proj = linear_backward(dout, proj_cache)       # [B, T, C]
    dy = dy.reshape(b, t, n_head, c // n_head).transpose(0, 2, 1, 3)  # [B, H, T, D]
    dprobs = dy @ v.swapaxes(-1, -2)                                # [B, H, T, D] @ [B, H, D, T] -> [B, H, T, T]
    dqkv = xp.empty((b, t, 3, n_head, c // n_head), dtype=dout.dtype)
    dq, dk, dv = dqkv.transpose(2, 0, 3, 1, 4)                      # 3 x [B, H, T, D] views into dqkv
    dv[...] = probs.swapaxes(-1, -2) @ dy                           # [B, H, T, T] @ [B, H, T, D]
    # softmax backward: dscores = P * (dP - sum(dP * P))
    dprobs -= (dprobs * probs).sum(axis=-1, keepdims=True)
    dprobs *= probs
    if padded_allowed is not None:                                  # a fully padded row's uniform weights
        dprobs *= padded_allowed                                    # came from constants: no gradient
    dq[...] = dprobs @ k                                            # [B, H, T, T] @ [B, H, T, D]
    dq *= 1.0 / math.sqrt(c // n_head)
    dk[...] = dprobs.swapaxes(-1, -2) @ q                           # q was already scaled
    dx, dw_attn, db_attn = linear_backward(dqkv.reshape(b, t, 3 * c), qkv_cache)
    return dx, {"c_attn": {"w": dw_attn, "b": db_attn}, "c_proj": {"w": dw_proj, "b": db_proj}}


def attention_heads_forward(x, c_attn, c_proj, n_head: int, heads: slice, causal: bool = False,
                            attention_mask=None):
    """What the heads ``heads`` add to :func:`attention_forward`'s output, for inference (no backward).

    Tensor parallelism, as Megatron-LM splits attention: the heads of a partition can run on
    different threads, each with its own columns of W_Q, W_K, W_V and its own rows of W_O; the sum
    of their outputs plus W_O's bias is :func:`attention_forward`'s output.

    Returns
    -------
    out : [B, T, C] without W_O's bias;  probs : [B, h, T, T] for the h heads of ``heads``

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, w_qkv, w_o = rng.normal(size=(1, 3, 4)), rng.normal(size=(4, 12)), rng.normal(size=(4, 4))
    >>> c_attn, c_proj = {"w": w_qkv, "b": np.zeros(12)}, {"w": w_o, "b": np.zeros(4)}
    >>> parts = [attention_heads_forward(x, c_attn, c_proj, 2, slice(h, h + 1))[0] for h in (0, 1)]
    >>> bool(np.allclose(parts[0] + parts[1], attention_forward(x, c_attn, c_proj, 2)[0]))
    True
    """
    b, t, c = x.shape
    d = c // n_head
    cols = slice(heads.start * d, heads.stop * d)                   # these heads' columns in Q, K and V

    def project(part: int):                                         # 0, 1, 2: Q, K, V
        block = slice(part * c + cols.start, part * c + cols.stop)
        y, _ = linear_forward(x, c_attn["w"][:, block], c_attn["b"][block])  # [B, T, C] -> [B, T, hD]
        return y.reshape(b, t, -1, d).transpose(0, 2, 1, 3)         # [B, h, T, D]

    q, k, v = project(0), project(1), project(2)
    q *= 1.0 / math.sqrt(d)
    y, probs = attend(q, k, v, attention_allowed(t, causal, attention_mask, xp_of(x)))
    out, _ = linear_forward(merge_heads(y), c_proj["w"][cols])      # [B, T, hD] @ [hD, C] -> [B, T, C]
    return out, probs


# --- MLP ----------------------------------------------------------------------------------------

def mlp_forward(x, c_fc, c_proj, gelu: str = "tanh"):
    """Position-wise feed-forward: linear [C, F], GELU, linear [F, C].

    Examples
    --------
    >>> p = {"w": np.eye(2), "b": np.zeros(2)}
    >>> mlp_forward(np.array([[1.0, -1.0]]), p, p, "erf")[0].round(4).tolist()
    [[0.8413, -0.1587]]
    """
    h, fc_cache = linear_forward(x, c_fc["w"], c_fc["b"])          # [B, T, C] -> [B, T, F]
    a, gelu_cache = gelu_forward(h, gelu)                           # [B, T, F]
    out, proj_cache = linear_forward(a, c_proj["w"], c_proj["b"])  # [B, T, F] -> [B, T, C]
    return out, (fc_cache, gelu_cache, proj_cache)


def mlp_backward(dout, cache):
    """Gradients ``(dx, {"c_fc": {"w", "b"}, "c_proj": {"w", "b"}})`` of :func:`mlp_forward`."""
    fc_cache, gelu_cache, proj_cache = cache
    da, dw_proj, db_proj = linear_backward(dout, proj_cache)
    dh = gelu_backward(da, gelu_cache)
    dx, dw_fc, db_fc = linear_backward(dh, fc_cache)
    return dx, {"c_fc": {"w": dw_fc, "b": db_fc}, "c_proj": {"w": dw_proj, "b": db_proj}}


# --- residual -----------------------------------------------------------------------------------

def residual_forward(x, y):
    """The residual stream's update ``x + y`` (a new array: the old stream stays inspectable).

    Examples
    --------
    >>> residual_forward(np.ones(2), np.ones(2))[0].tolist()
    [2.0, 2.0]
    """
    return x + y, None


def residual_backward(dout, cache):
    """Gradients ``(dx, dy)`` of :func:`residual_forward`: the same array for both branches."""
    return dout, dout


# --- softmax cross-entropy ----------------------------------------------------------------------

def cross_entropy_forward(logits, targets, overwrite: bool = False):
    """Mean cross-entropy of softmax(logits) against integer targets, fused and stable.

    The loss is ``mean(logsumexp(z) - z[target])``, computed with the row maximum subtracted, so
    it stays finite however large the logits. ``exp(z - max)`` and the row sums are cached for
    backward; with ``overwrite`` they are computed in the logits' own buffer (no 2nd [N, V] array).

    Parameters
    ----------
    logits : [..., V];  targets : int array [...] of values in [0, V)

    Examples
    --------
    >>> loss, _ = cross_entropy_forward(np.array([[0.0, 0.0], [1000.0, 0.0]]), np.array([0, 0]))
    >>> round(loss, 4)
    0.3466
    """
    xp = xp_of(logits)
    v = logits.shape[-1]
    z = logits.reshape(-1, v)                           # [N, V]
    t = xp.asarray(targets).reshape(-1)                 # [N]
    rows = xp.arange(z.shape[0])
    zmax = z.max(axis=1, keepdims=True)                 # [N, 1]
    e = xp.subtract(z, zmax, out=z if overwrite else None)  # [N, V] shifted logits
    picked = e[rows, t]                                 # [N] shifted logit of each target
    xp.exp(e, out=e)
    sums = e.sum(axis=1, keepdims=True)                 # [N, 1]
    loss = float((xp.log(sums[:, 0]) - picked).mean())
    return loss, (e, sums, t, rows, logits.shape)


def cross_entropy_backward(dloss, cache):
    """Gradient ``dlogits`` [..., V] of :func:`cross_entropy_forward` (overwrites the cached exps)."""
    e, sums, t, rows, shape = cache
    scale = dloss / e.shape[0]
    e *= scale / sums                                   # softmax / N, one pass
    e[rows, t] -= scale                                 # minus one_hot(target) / N
    return e.reshape(shape)
