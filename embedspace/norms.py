"""Norms and unit rows of float matrices, true even at float32's limits.

The fast path sums squares in float32 without a [n, D] temporary; the rare rows where that sum
overflows or underflows (values beyond ~1.8e19 or below ~1e-19, e.g. a file with ``cat 1e38 1e38``)
are summed again in float64, each divided by its largest absolute value first. A zero row keeps
norm 0 and stays a zero row. :class:`embedspace.space.Space` builds its norms, unit vectors and
cosines on these.
"""
from __future__ import annotations

import numpy as np

FLOAT32_MAX = np.float64(np.finfo(np.float32).max)


def row_norms(rows: np.ndarray) -> np.ndarray:
    """L2 norm along the last axis: [..., D] -> [...] float64, without a [..., D] temporary.

    Squares are summed in the rows' own float type (float32: the fast path); the rare rows where
    that sum overflows or underflows are summed again in float64 (:func:`norms_from_squares`), so
    every finite row gets its true norm, even one beyond float32's range. Zero rows get 0.

    Examples
    --------
    >>> norms = row_norms(np.array([[3e38, 3e38], [3e-30, 4e-30], [0, 0]], dtype=np.float32))  # [3]
    >>> [float(f"{norm:.6g}") for norm in norms]
    [4.24264e+38, 5e-30, 0.0]
    """
    rows = np.asarray(rows) if np.issubdtype(np.asarray(rows).dtype, np.floating) else np.asarray(rows, np.float64)
    flat = rows.reshape(-1, rows.shape[-1])  # [n, D]
    norms, _ = norms_from_squares(sum_squares(flat), flat)
    return norms.reshape(rows.shape[:-1])


def sum_squares(rows: np.ndarray) -> np.ndarray:
    """Sum of squares of each row, [n, D] -> [n] in the rows' float type; inf where it overflows, 0 where it underflows."""
    with np.errstate(over="ignore", under="ignore"):  # such rows are summed again by norms_from_squares
        return np.einsum("ij,ij->i", rows, rows)


def norms_from_squares(squares: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Norms [n] float64 from :func:`sum_squares` of ``rows`` [n, D], and the extreme rows [m] (their indices).

    Extreme rows are those whose sum of squares overflowed or underflowed (in float32, values
    beyond ~1.8e19 or below ~1e-19); they, and zero rows, are summed again in float64 after division
    by their largest absolute value.
    """
    info = np.finfo(squares.dtype)
    norms = np.sqrt(squares).astype(np.float64)  # [n]; float32's precision, as for any row
    if squares.size and squares.min() >= info.tiny and squares.max() <= info.max:  # two reductions: the usual case
        return norms, np.empty(0, dtype=np.int64)
    redo = np.flatnonzero(~((squares >= info.tiny) & (squares <= info.max)))  # zero, underflowed or overflowed
    if redo.size:
        scaled, scale = scaled_rows(rows[redo])  # [m, D], [m]
        norms[redo] = scale * np.sqrt(np.einsum("ij,ij->i", scaled, scaled))
    return norms, redo[norms[redo] > 0]


def scaled_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows [m, D] in float64 divided by their largest absolute value, and that value [m] (1 for a zero row)."""
    rows = np.asarray(rows, dtype=np.float64)
    scale = np.abs(rows).max(axis=-1, initial=0.0)  # [m]
    scale = np.where(scale > 0, scale, 1.0)
    return rows / scale[:, None], scale


def inverse(norms: np.ndarray) -> np.ndarray:
    """1 / norms [n] as float32, with 0 where a norm is 0 (and float32's largest value past its range).

    Examples
    --------
    >>> inverse(np.array([2.0, 0.0], dtype=np.float32))
    array([0.5, 0. ], dtype=float32)
    """
    norms = np.asarray(norms, dtype=np.float64)
    with np.errstate(divide="ignore", over="ignore"):
        inverted = 1.0 / norms  # [n] float64; inf for a zero norm
    inverted[norms == 0] = 0.0
    return np.minimum(inverted, FLOAT32_MAX, out=inverted).astype(np.float32)


def unit_rows(rows: np.ndarray) -> np.ndarray:
    """Each row (the last axis) scaled to unit length: [..., D] -> [..., D]; a zero row stays zero.

    Float rows keep their type (others become float64). Rows whose norm is outside that type's
    normal range (float32: beyond ~3.4e38 or below ~1.2e-38) are scaled in float64.

    Examples
    --------
    >>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    >>> unit_rows(np.array([3e38, 3e38], dtype=np.float32))
    array([0.70710677, 0.70710677], dtype=float32)
    """
    rows = np.asarray(rows) if np.issubdtype(np.asarray(rows).dtype, np.floating) else np.asarray(rows, np.float64)
    flat = rows.reshape(-1, rows.shape[-1])  # [n, D]
    norms = row_norms(flat)  # [n] float64
    info = np.finfo(rows.dtype)
    fits = (norms >= info.tiny) & (norms <= info.max)  # [n]
    unit = flat / np.where(fits, norms, 1.0).astype(rows.dtype)[:, None]  # [n, D]; zero rows stay 0
    redo = np.flatnonzero(~fits & (norms > 0))
    if redo.size:
        scaled, _ = scaled_rows(flat[redo])  # [m, D]
        unit[redo] = scaled / np.linalg.norm(scaled, axis=-1, keepdims=True)
    return unit.reshape(rows.shape)
