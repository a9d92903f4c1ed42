"""Rank and linear correlation in numpy: Spearman's rho and Pearson's r, as scipy.stats computes them.

The probes and the evaluation need a correlation of a few numbers; importing ``scipy.stats`` for it
took 3.7 s of a 5 s ``embedspace probe`` on the busy 2-core machine (numpy alone: 0.15 s). The
results equal scipy's (``tests/embedspace/analysis/test_statistics.py`` compares them): ties get the
average of the ranks they span (``scipy.stats.rankdata(method="average")``), and a constant input,
a NaN or fewer than two values give NaN. Both compute in float64 (scipy keeps float32 inputs in float32).
"""
from __future__ import annotations

import numpy as np

from embedspace.errors import InvalidInput


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``values`` [n], tied values sharing the mean of their ranks [n] (float64).

    Examples
    --------
    >>> average_ranks(np.array([10, 30, 20, 30]))
    array([1. , 3.5, 2. , 3.5])
    """
    values = np.asarray(values).ravel()
    order = np.argsort(values, kind="mergesort")  # [n]
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])  # [g] first position of each tie group
    ends = np.r_[starts[1:], len(values)]  # [g] one past its last position
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)  # mean of the 1-based ranks start+1..end
    return ranks


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's correlation of ``x`` [n] and ``y`` [n] (``scipy.stats.pearsonr(x, y)[0]``).

    NaN when a value is NaN, there are fewer than two, or one side is constant.

    Examples
    --------
    >>> pearson(np.array([1, 2, 3]), np.array([2, 4, 7]))
    0.9933992677987828
    """
    x, y = paired(x, y)
    if len(x) < 2 or np.isnan(x).any() or np.isnan(y).any():
        return float("nan")
    dx, dy = x - x.mean(), y - y.mean()  # [n] each
    nx, ny = np.linalg.norm(dx), np.linalg.norm(dy)
    if nx == 0 or ny == 0:
        return float("nan")
    return float(np.clip(np.dot(dx / nx, dy / ny), -1.0, 1.0))


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation of ``x`` [n] and ``y`` [n] (``scipy.stats.spearmanr(x, y)[0]``).

    Pearson's r of the average ranks, computed as scipy does (``numpy.corrcoef``). NaN when a value
    is NaN, there are fewer than two, or one side is constant.

    Examples
    --------
    >>> spearman(np.arange(4), np.array([0.1, 0.5, 0.2, 0.9]))
    0.7999999999999999
    >>> spearman(np.arange(4), np.array([1.0, 2.0, 2.0, 3.0]))
    0.9486832980505139
    """
    x, y = paired(x, y)
    if len(x) < 2 or np.isnan(x).any() or np.isnan(y).any() or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    return float(np.corrcoef(average_ranks(x), average_ranks(y))[0, 1])


def paired(x, y) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``y`` as float64 vectors of one length; otherwise an :class:`InvalidInput`."""
    x, y = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    if len(x) != len(y):
        raise InvalidInput(f"a correlation needs two lists of one length, got {len(x)} and {len(y)}")
    return x, y
