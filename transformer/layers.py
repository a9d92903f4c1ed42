"""The transformer's layers as pure functions, each backward right below its forward.

``*_forward(...)`` returns ``(out, cache)``; ``*_backward(dout, cache)`` returns the gradient with
respect to the forward's inputs and parameters. Caches are plain tuples of what backward needs.
Every function works on numpy or CuPy arrays alike (see :mod:`transformer.backend`), in the
dtype of its inputs: float32 for speed, float64 for gradient checks. Attention has its own module,
:mod:`transformer.attention`.

Shapes: B batch, T positions, C width, F MLP width, V vocabulary.
"""
from __future__ import annotations

import math

import numpy as np

from transformer.backend import row_dot, scatter_add, xp_of
from transformer.errors import InvalidInput

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

# Abramowitz & Stegun 7.1.26: erfc(z) = (a1 t + ... + a5 t^5) exp(-z^2), t = 1 / (1 + p z), z >= 0,
# with |error| <= 1.5e-7. For the normal tail Phi(-a) = erfc(a / sqrt2) / 2 = (A1 t + ... + A5 t^5) exp(-a^2 / 2),
# t = 1 / (1 + P a), the 1/sqrt2 and the 1/2 are folded into the constants. In the variable s = c t, with
# c^5 = A5, the polynomial is monic: s^5 + B4 s^4 + ... + B1 s, Bi = Ai / c^i, and s = (c / P) / (1 / P + a):
# two numpy passes fewer than t and its polynomial, for the same values.
ERF_P = 0.3275911
ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
TAIL_P = ERF_P / math.sqrt(2.0)
TAIL_A = tuple(0.5 * a for a in ERF_A)
TAIL_C = TAIL_A[4] ** 0.2
TAIL_B = tuple(a / TAIL_C ** (i + 1) for i, a in enumerate(TAIL_A[:4]))   # B1..B4


def normal_tail(a):
    """Phi(-a), the standard normal's upper tail beyond ``a >= 0``, elementwise, keeping the dtype.

    The exact GELU of every BERT layer is built on it: x Phi(x) = max(x, 0) - |x| Phi(-|x|).
    float64 (the gradient checks) uses scipy's erfc, exact to double precision; float32 and float16
    use Abramowitz & Stegun 7.1.26 (|error| <= 7.5e-8 in exact arithmetic, <= 2.5e-7 in float32: a few
    ulps of 0.5) in 14 vectorised numpy passes, several times faster than scipy's erfc on float32;
    CuPy arrays use cupyx's erfc.

    Examples
    --------
    >>> [round(float(v), 4) for v in normal_tail(np.array([0.0, 1.0, 1.96], dtype=np.float32))]
    [0.5, 0.1587, 0.025]
    """
    xp = xp_of(a)
    if xp is not np:
        from cupyx.scipy.special import erfc as cupy_erfc
        return 0.5 * cupy_erfc(a * (1.0 / math.sqrt(2.0)))
    if a.dtype == np.float64:
        from scipy.special import erfc
        return 0.5 * erfc(a * (1.0 / math.sqrt(2.0)))
    s = a + 1.0 / TAIL_P
    np.divide(TAIL_C / TAIL_P, s, out=s)                  # s = c / (1 + P a)
    tail = s + TAIL_B[3]
    for coefficient in reversed(TAIL_B[:3]):              # Horner: ((((s + B4) s + B3) s + B2) s + B1) s
        tail *= s
        tail += coefficient
    tail *= s
    gauss = np.square(a, out=s)
    gauss *= -0.5
    np.exp(gauss, out=gauss)                              # exp(-a^2 / 2)
    tail *= gauss
    return tail


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
    raise InvalidInput(f"unknown GELU approximation {approximation!r}: use 'tanh' or 'erf'")


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
