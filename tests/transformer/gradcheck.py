"""Float64 central finite differences: the independent reference every backward is checked against."""
from __future__ import annotations

import numpy as np


def numerical_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f() / d x by central differences, perturbing ``x`` in place one entry at a time."""
    grad = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f()
        flat[i] = old - eps
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


def assert_close(analytic, numeric, rtol: float = 1e-5, atol: float = 1e-7, name: str = "",
                 nonzero: bool = True) -> None:
    """Max error of two gradients below ``rtol`` times their largest entry (plus ``atol``).

    With ``nonzero`` the numerical gradient must not vanish (so the check can fail).
    """
    analytic, numeric = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    assert analytic.shape == numeric.shape, (name, analytic.shape, numeric.shape)
    scale = max(np.abs(numeric).max(), np.abs(analytic).max(), 1e-12)
    err = np.abs(analytic - numeric).max()
    assert err <= rtol * scale + atol, f"{name}: max |analytic - numeric| = {err:.3g} (scale {scale:.3g})"
    assert not nonzero or np.abs(numeric).max() > 1e-8, f"{name}: numerical gradient is all zero"
