"""The array module, chosen in one place: numpy on the CPU, CuPy on an NVIDIA GPU when asked.

Layers never import numpy or cupy for arithmetic on their inputs: they call :func:`xp_of` on an
array and use the module it names, so the same code runs on both. Results that leave the
transformer (hidden states, attentions, embeddings) go through :func:`asnumpy`.
"""
from __future__ import annotations

import importlib
import logging
import os
import sys

import numpy as np

from transformer.errors import InvalidInput, TransformerError

log = logging.getLogger(__name__)

DEVICES = ("cpu", "cuda")
DEVICE_ENV = "EMBEDSPACE_DEVICE"


class DeviceUnavailable(TransformerError, ImportError):
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
        raise InvalidInput(f"unknown device {chosen!r}: use one of {', '.join(DEVICES)}")
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
