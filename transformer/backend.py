"""The array module, chosen in one place: numpy on the CPU, CuPy on an NVIDIA GPU when asked.

Layers never import numpy or cupy for arithmetic on their inputs: they call :func:`xp_of` on an
array and use the module it names, so the same code runs on both. Results that leave the
transformer (hidden states, attentions, embeddings) go through :func:`asnumpy`.
"""
from __future__ import annotations

import importlib
import logging
import math
import os
import sys

import numpy as np

log = logging.getLogger(__name__)

DEVICES = ("cpu", "cuda")
DEVICE_ENV = "EMBEDSPACE_DEVICE"


class DeviceUnavailable(ImportError):
    """The GPU was asked for but CuPy is not installed (or no GPU is usable); says how to fix it."""


def resolve_device(device: str | None = None) -> str:
    """The device to use: ``device`` if given, else ``$EMBEDSPACE_DEVICE``, else ``"cpu"``.

    Examples
    --------
    >>> resolve_device("CPU")
    'cpu'
    """
    chosen = (device or os.environ.get(DEVICE_ENV) or "cpu").strip().lower()
    if chosen == "gpu":
        chosen = "cuda"
    if chosen not in DEVICES:
        raise ValueError(f"unknown device {chosen!r}: use one of {', '.join(DEVICES)}")
    return chosen


def get_xp(device: str | None = None):
    """The array module for ``device``: :mod:`numpy` for "cpu", :mod:`cupy` for "cuda".

    Examples
    --------
    >>> get_xp("cpu").__name__
    'numpy'
    """
    if resolve_device(device) == "cpu":
        return np
    try:
        cupy = importlib.import_module("cupy")
    except ImportError as error:
        raise DeviceUnavailable(
            "device 'cuda' needs CuPy, which is not installed: pip install 'embedspace[gpu]'") from error
    log.info("array module: cupy %s", getattr(cupy, "__version__", "?"))
    return cupy


def xp_of(array):
    """The module that owns ``array`` (cupy for a CuPy array, numpy for anything else).

    Examples
    --------
    >>> xp_of(np.zeros(2)).__name__
    'numpy'
    """
    cupy = sys.modules.get("cupy")                       # never imported here: only if already in use
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy
    return np


def asnumpy(array) -> np.ndarray:
    """``array`` as a numpy array on the host (no copy when it already is one).

    Examples
    --------
    >>> asnumpy(np.arange(3)).tolist()
    [0, 1, 2]
    """
    xp = xp_of(array)
    return np.asarray(array) if xp is np else xp.asnumpy(array)


def to_device(tree, xp):
    """A nested dict/list of arrays with every array moved to module ``xp`` (numpy or cupy)."""
    if isinstance(tree, dict):
        return {key: to_device(value, xp) for key, value in tree.items()}
    if isinstance(tree, list):
        return [to_device(value, xp) for value in tree]
    if xp_of(tree) is xp:
        return tree
    return asnumpy(tree) if xp is np else xp.asarray(tree)


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


def row_dot(a, b):
    """``(a * b).sum(axis=-1)``, [..., C] x [..., C] -> [...], in one pass without the product array.

    The array library's ``vecdot`` where it has one (numpy's is several times faster than a multiply
    then a sum), else its ``einsum``.

    Examples
    --------
    >>> row_dot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0])).tolist()
    [3.0, 7.0]
    """
    xp = xp_of(a)
    vecdot = getattr(xp, "vecdot", None)
    if vecdot is not None:
        return vecdot(a, b)
    return xp.einsum("...c,...c->...", a, xp.broadcast_to(b, a.shape))


def scatter_add(target, indices, values) -> None:
    """``target[indices] += values`` with repeated indices accumulated, in place."""
    if xp_of(target) is np:
        np.add.at(target, indices, values)
    else:
        import cupyx
        cupyx.scatter_add(target, indices, values)
