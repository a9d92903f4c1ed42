"""The ``k`` best of a score array: the one top-k both layers use (neighbours, next tokens, charts).

Examples
--------
>>> import numpy as np
>>> top_k(np.array([0.2, 0.7, 0.1]), 2)
array([1, 0])
"""
from __future__ import annotations

import numpy as np


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest ``scores`` [V], largest first; ties keep the lower index.

    Examples
    --------
    >>> top_k(np.array([0.1, 0.9, 0.5, 0.9]), 3)
    array([1, 3, 2])
    """
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    candidates = np.argpartition(-scores, k - 1)[:k] if k < scores.shape[0] else np.arange(scores.shape[0])
    # a tie at the k-th place may leave a lower index outside the partition: widen to every tied row
    threshold = scores[candidates].min()
    candidates = np.flatnonzero(scores >= threshold)
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order][:k]
