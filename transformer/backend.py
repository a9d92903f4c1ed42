"""The array module, chosen in one place: numpy on the CPU, CuPy on an NVIDIA GPU when asked.

Layers never import numpy or cupy for arithmetic on their inputs: they call :func:`xp_of` on an
array and use the module it names, so the same code runs on both. Results that leave the
transformer (hidden states, attentions, embeddings) go through :func:`asnumpy`.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import logging
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


# Abramowitz & Stegun 7.1.26: erf(x) = 1 - (a1 t + ... + a5 t^5) exp(-x^2), t = 1 / (1 + p x), x >= 0,
# with |error| <= 1.5e-7, about one float32 ulp near 1.
ERF_P = 0.3275911
ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def erf(x):
    """The error function, elementwise, keeping the dtype.

    float64 (the gradient checks) uses scipy's erf, exact to double precision; float32 and float16
    use Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7 exactly, <= 6e-7 in float32 arithmetic) built
    from vectorised numpy operations, about 5x faster than scipy's erf on float32 here (it is the
    exact GELU of every BERT layer); CuPy arrays use cupyx's erf.

    Examples
    --------
    >>> [round(float(v), 4) for v in erf(np.array([-1.0, 0.0, 0.5], dtype=np.float32))]
    [-0.8427, 0.0, 0.5205]
    """
    xp = xp_of(x)
    if xp is not np:
        from cupyx.scipy.special import erf as cupy_erf
        return cupy_erf(x)
    if x.dtype == np.float64:
        from scipy.special import erf as scipy_erf
        return scipy_erf(x)
    a = np.abs(x)
    t = a * ERF_P
    t += 1.0
    np.reciprocal(t, out=t)                               # t = 1 / (1 + p |x|)
    poly = t * ERF_A[4]
    for coefficient in reversed(ERF_A[:4]):               # Horner: (((a5 t + a4) t + a3) t + a2) t + a1) t
        poly += coefficient
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)                                      # exp(-x^2)
    poly *= a                                             # erfc(|x|)
    np.subtract(1.0, poly, out=poly)
    return np.copysign(poly, x, out=poly)


def scatter_add(target, indices, values) -> None:
    """``target[indices] += values`` with repeated indices accumulated, in place."""
    if xp_of(target) is np:
        np.add.at(target, indices, values)
    else:
        import cupyx
        cupyx.scatter_add(target, indices, values)



M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3   # glibc mallopt parameters
MMAP_THRESHOLD_MAX = 32 * 2**20                # glibc's ceiling on 64-bit systems


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed blocks for reuse instead of returning them to the OS.

    A training step allocates and frees the same activation arrays every time; by default blocks
    over the mmap threshold are unmapped and mapped again, and each new page is faulted in anew.
    Returns False (and changes nothing) where the C library is not glibc.
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX) and mallopt(M_TRIM_THRESHOLD, 2**30))
