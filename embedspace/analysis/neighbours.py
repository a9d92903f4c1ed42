"""Every word's nearest neighbours at once: blocks of one matrix product each, in bounded memory.

:func:`nearest_neighbours` answers, for many rows of a space, what ``embedspace neighbors`` answers
for one (:meth:`~embedspace.space.Space.similar_by_vector` with the word itself left out): the same
cosines, the same order, ties kept in vocabulary order. It computes a block of queries at a time,
``[b, D] @ [D, V]`` through :meth:`~embedspace.space.Space.cosine_scores` (the thread policy and the
norms of the space), so memory stays near ``BLOCK_BYTES`` whatever the vocabulary.

Examples
--------
>>> space = Space(["a", "b", "c"], np.array([[1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32))
>>> found = nearest_neighbours(space, topn=1)
>>> [space.index_to_key[i] for i in found.indices[:, 0]]
['b', 'a', 'b']
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from embedspace.errors import InvalidInput
from embedspace.space import Space
from runtime.ranking import top_k

log = logging.getLogger(__name__)

BLOCK_BYTES = 64 * 2**20  # one block's [b, V] float32 scores take about this much


@dataclass
class Neighbours:
    """The ``k`` nearest rows of each query row: ``indices`` [n, k] (rows of the space, -1 where a row
    has fewer than ``k`` others) and ``scores`` [n, k] (cosines, float32), best first."""

    indices: np.ndarray
    scores: np.ndarray

    def of(self, space: Space, i: int) -> list[tuple[str, float]]:
        """The neighbours of query ``i`` as ``(key, cosine)``, as ``similar_by_vector`` gives them."""
        return [(space.index_to_key[j], float(s)) for j, s in zip(self.indices[i], self.scores[i]) if j >= 0]


def block_rows(vocabulary: int, block_bytes: int = BLOCK_BYTES) -> int:
    """Queries per block so that a block's scores [b, V] take about ``block_bytes``.

    Examples
    --------
    >>> block_rows(30_000), block_rows(3_000_000)
    (559, 5)
    """
    return max(1, block_bytes // (4 * max(1, vocabulary)))


def top_k_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """:func:`runtime.ranking.top_k` of every row of ``scores`` [b, V] -> [b, k], in one pass.

    Largest first, ties by lower index, exactly as ``top_k`` row by row: a row whose k-th score is
    tied with a score outside the partition is handed to ``top_k`` itself.

    Examples
    --------
    >>> top_k_rows(np.array([[0.1, 0.9, 0.5], [0.7, 0.7, 0.7]]), 2).tolist()
    [[1, 2], [0, 1]]
    """
    b, width = scores.shape
    k = min(k, width)
    if k <= 0:
        return np.empty((b, 0), dtype=np.int64)
    if k == width:
        candidates = np.broadcast_to(np.arange(width), (b, width))
    else:
        candidates = np.argpartition(-scores, k - 1, axis=1)[:, :k]  # [b, k], unordered
    chosen = np.take_along_axis(scores, candidates, axis=1)  # [b, k]
    order = np.lexsort((candidates, -chosen), axis=1)  # score descending, then index ascending
    result = np.take_along_axis(candidates, order, axis=1).astype(np.int64)
    threshold = chosen.min(axis=1)  # [b]: the k-th best score of each row
    tied = np.count_nonzero(scores >= threshold[:, None], axis=1) > k  # [b]: a tie straddles the cut
    for row in np.flatnonzero(tied):
        result[row] = top_k(scores[row], k)
    return result


def nearest_neighbours(space: Space, rows: Sequence[int] | np.ndarray | None = None, topn: int = 10,
                       block_bytes: int = BLOCK_BYTES,
                       progress: Callable[[int, int], None] | None = None) -> Neighbours:
    """The ``topn`` nearest keys of each of ``rows`` among all keys of ``space``, by cosine.

    Parameters
    ----------
    space : Space
    rows : sequence of int [n], optional
        Rows of the space to ask about (default: every row).
    topn : int
        Neighbours per row (at most ``len(space) - 1``); the row itself is left out.
    block_bytes : int
        Memory for one block's scores; blocks hold ``block_bytes / (4 V)`` queries.
    progress : callable(done, total), optional
        Called after each block with the rows done so far.

    Returns
    -------
    Neighbours
        ``indices`` [n, topn] and ``scores`` [n, topn], best first; the same keys and order as
        ``space.similar_by_vector(space[key], topn, exclude=[key])`` for each row's key.
    """
    if topn < 1:
        raise InvalidInput(f"topn must be at least 1, got {topn}")
    rows = np.arange(len(space)) if rows is None else np.asarray(rows, dtype=np.int64)
    if rows.size and (rows.min() < 0 or rows.max() >= len(space)):
        raise InvalidInput(f"rows must lie in 0..{len(space) - 1}")
    k = min(topn, len(space) - 1)
    indices = np.full((rows.size, topn), -1, dtype=np.int64)
    scores = np.full((rows.size, topn), np.nan, dtype=np.float32)
    step = block_rows(len(space), block_bytes)
    for start in range(0, rows.size, step):
        block = rows[start : start + step]  # [b]
        cosines = space.cosine_scores(space.vectors[block])  # [b, D] @ [D, V] -> [b, V]
        cosines[np.arange(block.size), block] = -np.inf  # a word is not its own neighbour
        best = top_k_rows(cosines, k)  # [b, k]
        indices[start : start + block.size, :k] = best
        scores[start : start + block.size, :k] = np.take_along_axis(cosines, best, axis=1)
        if progress is not None:
            progress(start + block.size, rows.size)
    log.info("neighbours of %d rows among %d (%d per block)", rows.size, len(space), step)
    return Neighbours(indices, scores)
