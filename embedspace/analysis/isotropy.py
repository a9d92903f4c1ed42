"""All-but-the-top (Mu & Viswanath 2018): centre a space and remove its dominant directions before cosines.

A space whose vectors share a large common component (the mini GPT's W_E: two random words have a
cosine of 0.92 on average, :func:`embedspace.analysis.geometry.typical_cosine`) ranks neighbours by
that component more than by meaning. All-but-the-top subtracts the mean vector and then each row's
projections on the top ``D`` principal components of the centred rows (the authors suggest
``D ~ dim / 100``), leaving what tells words apart. :func:`remove_top` applies it to a Space (an
open-vocabulary space applies it to the words it reads later too); the measured effect on the
benchmark sets is in docs/analysis.md.

Example
-------
>>> rng = np.random.default_rng(0)
>>> vectors = rng.normal(size=(500, 16)) + 10 * rng.normal(size=16)  # a large shared component
>>> space = Space([f"w{i}" for i in range(500)], vectors)
>>> cleaned = remove_top(space, 1)
>>> bool(np.abs(cleaned.vectors.mean(axis=0)).max() < 1e-4), cleaned.postprocessing
(True, 'centred, top 1 direction removed (all-but-the-top)')
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedspace.errors import InvalidInput
from embedspace.space import Space, chunk_rows


@dataclass(frozen=True)
class TopDirections:
    """What all-but-the-top removes: the mean [D] and the top principal directions [k, D] (unit rows)."""

    mean: np.ndarray        # [D] float32
    components: np.ndarray  # [k, D] float32, orthonormal rows, largest variance first

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` [n, D] centred, minus their projections on the components: [n, D] float32."""
        centred = np.asarray(rows, dtype=np.float32) - self.mean               # [n, D]
        return centred - (centred @ self.components.T) @ self.components       # [n, k] @ [k, D] -> [n, D]


def top_directions(vectors: np.ndarray, d: int) -> TopDirections:
    """The mean of ``vectors`` [V, D] and the top ``d`` principal directions of the centred rows.

    The covariance [D, D] is summed in float64 chunk by chunk (no [V, D] temporary); its
    eigenvectors of largest eigenvalue are the principal directions.

    Examples
    --------
    >>> found = top_directions(np.array([[1.0, 0.0], [3.0, 0.1], [5.0, -0.1]]), 1)  # spread along x
    >>> found.mean.round(3).tolist(), found.components.shape, bool(abs(found.components[0, 0]) > 0.99)
    ([3.0, 0.0], (1, 2), True)
    """
    n, dim = vectors.shape
    if not 0 <= d < dim:
        raise InvalidInput(f"the number of directions to remove must be in 0..{dim - 1}, got {d}")
    step = chunk_rows(dim)
    total = np.zeros(dim)
    for start in range(0, n, step):
        total += np.asarray(vectors[start : start + step], dtype=np.float64).sum(axis=0)
    mean = total / max(n, 1)                                                   # [D]
    covariance = np.zeros((dim, dim))
    for start in range(0, n, step):
        centred = np.asarray(vectors[start : start + step], dtype=np.float64) - mean  # [n', D]
        covariance += centred.T @ centred                                      # [D, n'] @ [n', D] -> [D, D]
    _, eigenvectors = np.linalg.eigh(covariance)                               # ascending eigenvalues
    components = eigenvectors[:, ::-1][:, :d].T                                # [d, D]
    return TopDirections(mean.astype(np.float32), np.ascontiguousarray(components, dtype=np.float32))


def describe_removal(d: int) -> str:
    """The note a post-processed space carries.

    >>> describe_removal(2)
    'centred, top 2 directions removed (all-but-the-top)'
    """
    return f"centred, top {d} direction{'s' if d != 1 else ''} removed (all-but-the-top)"


def remove_top(space: Space, d: int) -> Space:
    """``space`` centred, with its top ``d`` principal directions removed (``d = 0``: only centred).

    Returns a new space (rows in memory; an open-vocabulary space keeps reading words, transformed
    alike) whose :attr:`~embedspace.space.Space.postprocessing` says what was done.

    Raises
    ------
    InvalidInput
        For ``d`` below 0 or not below the space's dimensions.
    """
    return space.mapped(top_directions(space.vectors, d), describe_removal(d))
