"""The shape of a space as a whole, before any query: how alike its vectors are to begin with.

A space whose vectors share a large common component (a transformer's W_E often does) gives two
words picked at random a high cosine; its neighbours' scores then mean little on their own, and only
their ranking, or their distance above this baseline, says something. :func:`typical_cosine`
measures the baseline.
"""
from __future__ import annotations

import numpy as np

from embedspace.errors import InvalidInput
from embedspace.space import Space, unit_rows


def typical_cosine(space: Space, n: int = 400, among: int = 10_000, seed: int = 0) -> float:
    """Mean cosine between random pairs of distinct words among the ``among`` most frequent.

    The pairs are ``numpy.random.default_rng(seed).integers(0, min(among, len(space)), (2, n))``,
    first row against second, with the pairs of a word with itself left out (so slightly fewer
    than ``n`` pairs are scored). A zero vector has cosine 0 with everything.

    Parameters
    ----------
    space : Space
        Its first rows are its most frequent words (word2vec files are in frequency order).
    n : int
        Pairs drawn.
    among : int
        Draw only among the first ``among`` rows; rare words are noisier.
    seed : int
        For the random pairs: the same seed gives the same number.

    Returns
    -------
    float
        The mean cosine, in [-1, 1]; near 0 for a space with no common direction.

    Raises
    ------
    InvalidInput
        When ``n`` or ``among`` is below 1, or the space has fewer than two words.

    Examples
    --------
    >>> orthogonal = Space(["a", "b", "c"], np.eye(3, dtype=np.float32))
    >>> typical_cosine(orthogonal)
    0.0
    >>> shared = Space(["a", "b", "c"], np.eye(3, dtype=np.float32) + 1.0)  # rows e_i + 1
    >>> round(typical_cosine(shared), 4)  # (2, 1, 1) . (1, 2, 1) / |(2, 1, 1)|^2 = 5 / 6
    0.8333
    """
    if n < 1 or among < 1:
        raise InvalidInput(f"n and among must be at least 1, got n={n}, among={among}")
    size = min(among, len(space))
    if size < 2:
        raise InvalidInput(f"a typical cosine needs at least two words; space {space.name!r} has {len(space)}")
    rng = np.random.default_rng(seed)
    first, second = rng.integers(0, size, (2, n))  # [n] row indices each
    keep = first != second
    a = unit_rows(np.asarray(space.vectors[first[keep]], dtype=np.float64))  # [m, D]
    b = unit_rows(np.asarray(space.vectors[second[keep]], dtype=np.float64))  # [m, D]
    return float(np.mean(np.einsum("md,md->m", a, b)))  # [m] cosines -> their mean
