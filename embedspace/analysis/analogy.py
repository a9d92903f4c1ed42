"""Analogies ``a : b :: c : ?`` ("a is to b as c is to ?"), one at a time or thousands at once.

Two objectives, both with gensim's semantics:

- **3CosAdd** (``method="add"``, gensim ``most_similar``): the key closest by cosine to the mean of
  the unit vectors of ``b`` and ``c`` minus that of ``a``.
- **3CosMul** (``method="mul"``, Levy & Goldberg 2014, gensim ``most_similar_cosmul``): the key
  maximising the product of ``(1 + cos) / 2`` over the positives divided by the same product over
  the negatives plus ``1e-6``.

Many questions at once go through :func:`search`, the hand-written part: a chunked matrix product
of the queries' term vectors against the vocabulary's unit vectors, an in-cache combination of the
terms, and a running top-k per question. When questions share words (an analogy test set uses ~900
distinct words for ~20,000 questions), the product is taken once per distinct word and each
question's scores are sums (3CosAdd) or products (3CosMul) of rows of that word-by-vocabulary
table, which is several times less arithmetic than one product per question.

Ties are broken by the lower vocabulary index (the more frequent key), everywhere.
"""
from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from embedspace import queries
from embedspace.errors import InvalidInput
from embedspace.queries import COSMUL_EPSILON, METHODS, check_method, cosmul
from embedspace.space import Space, inverse, unit_rows
from runtime.ranking import top_k
from runtime.threads import Workers, blas_threads_for, matmul_flops

__all__ = ["COSMUL_EPSILON", "METHODS", "analogies", "analogy", "check_method", "cosmul", "most_similar_cosmul",
           "scores_at", "search"]

log = logging.getLogger(__name__)

FLOAT32 = np.finfo(np.float32)

TABLE_BYTES = 24 * 2**20  # one term-by-vocabulary chunk of the product: about the size of the L3 cache
BLOCK_BYTES = 1 * 2**20  # one questions-by-vocabulary block of scores: fits in a core's L2 cache
DIRECT_GROUP = 2048  # questions per product when each question gets its own query vector

Progress = Callable[[int, int], None]  # progress(done, total), in arbitrary units


def analogy(space: Space, a: str, b: str, c: str, method: str = "add", topn: int = 10,
            restrict_vocab: int | None = None, exclude_inputs: bool = True) -> list[tuple[str, float]]:
    """``a`` is to ``b`` as ``c`` is to ?: positives ``[b, c]``, negative ``[a]``.

    ``analogy(space, "man", "king", "woman")`` asks "man is to king as woman is to ?" (queen).

    Parameters
    ----------
    space : Space
    a, b, c : str
        The question's keys.
    method : {"add", "mul"}
        3CosAdd (gensim ``most_similar``) or 3CosMul (gensim ``most_similar_cosmul``).
    topn : int
        How many answers, best first.
    restrict_vocab : int, optional
        Answers only from the first ``restrict_vocab`` keys.
    exclude_inputs : bool
        Leave ``a``, ``b`` and ``c`` out of the answers (default).

    Returns
    -------
    list of (str, float)

    Examples
    --------
    >>> space = Space(["king", "man", "woman", "queen"],
    ...               np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32))
    >>> [(k, round(s, 3)) for k, s in analogy(space, "man", "king", "woman", topn=1)]
    [('queen', 0.959)]
    >>> [(k, round(s, 3)) for k, s in analogy(space, "man", "king", "woman", method="mul", topn=1)]
    [('queen', 1.28)]
    """
    return queries.most_similar(space, [b, c], [a], topn, method, restrict_vocab, exclude_inputs)


def most_similar_cosmul(space: Space, positive: Iterable = (), negative: Iterable = (), topn: int = 10,
                        restrict_vocab: int | None = None, exclude_inputs: bool = True,
                        skip_inflections: bool = False) -> list[tuple[str, float]]:
    """The keys maximising the 3CosMul objective: gensim's ``most_similar_cosmul``.

    ``score(w) = prod_p (1 + cos(w, p)) / 2  /  (prod_n (1 + cos(w, n)) / 2 + 1e-6)``: the
    ``method="mul"`` of :meth:`embedspace.space.Space.most_similar`, with ``exclude_inputs``.
    Unlike gensim, ``restrict_vocab`` is honoured (gensim's cosmul ignores it). ``skip_inflections``
    leaves out answers that inflect an input key (:mod:`embedspace.analysis.inflections`).

    Raises
    ------
    InvalidInput
        Without a positive key, or with weighted keys (3CosMul has no weights).

    Examples
    --------
    >>> space = Space(["king", "man", "woman", "queen"],
    ...               np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32))
    >>> [k for k, _ in most_similar_cosmul(space, ["king", "woman"], ["man"], topn=2)]
    ['queen']
    """
    keep = None
    if skip_inflections:
        from embedspace.analysis.inflections import inflection_filter

        keep = inflection_filter([t.key for t in queries.as_terms(positive, negative) if isinstance(t.key, str)])
    return queries.most_similar(space, positive, negative, topn, "mul", restrict_vocab, exclude_inputs, keep)


def scores_at(space: Space, positive: np.ndarray, negative: np.ndarray, method: str,
              candidates: np.ndarray) -> np.ndarray:
    """Scores of chosen rows for each question, computed directly: [Q, P], [Q, N], [Q, M] -> [Q, M].

    The same objective as :func:`search` (cosine with the 3CosAdd query, or the 3CosMul score).

    Examples
    --------
    >>> space = Space(["king", "man", "woman", "queen"],
    ...               np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32))
    >>> scores_at(space, np.array([[0, 2]]), np.array([[1]]), "add", np.array([[3]])).round(3)
    array([[0.959]], dtype=float32)
    """
    rows = unit_at(space, candidates)  # [Q, M, D]
    if check_method(method) == "add":
        query = unit_at(space, positive).sum(axis=1) - unit_at(space, negative).sum(axis=1)  # [Q, D]
        return np.einsum("qmd,qd->qm", rows, unit_rows(query))
    positive_cosines = np.einsum("qmd,qpd->pqm", rows, unit_at(space, positive))  # [P, Q, M]
    negative_cosines = np.einsum("qmd,qnd->nqm", rows, unit_at(space, negative))  # [N, Q, M]
    return cosmul(positive_cosines, negative_cosines).astype(np.float32)


def unit_at(space: Space, rows: np.ndarray) -> np.ndarray:
    """Unit vectors of some rows, [...] -> [..., D], without normalising the whole space (zero rows stay 0).

    Rows scaled by the space's norms; the rare rows whose norm is outside float32's normal range
    (values near 1e38 or 1e-38) are normalised exactly instead (:func:`embedspace.space.unit_rows`).
    """
    vectors, norms = space.vectors[rows], space.norms[rows]  # [..., D], [...] float64
    unit = vectors * inverse(norms)[..., None]  # [..., D]
    extreme = (norms > 0) & ((norms > FLOAT32.max) | (norms < FLOAT32.tiny))  # [...]
    if extreme.any():
        unit[extreme] = unit_rows(vectors[extreme])
    return unit


def unit_matrix(space: Space, n_rows: int) -> np.ndarray:
    """Unit vectors of the first ``n_rows`` rows [R, D].

    The space's cached normalised copy when R is most of it; a copy of just those rows otherwise
    (a 3 M-key space searched within its first 300 k keys is not normalised whole).
    """
    if 2 * n_rows >= len(space):
        return space.unit_vectors[:n_rows]
    return unit_at(space, slice(0, n_rows))


# -- many questions at once -----------------------------------------------------------------------

def analogies(space: Space, questions: Sequence[tuple[str, str, str]], method: str = "add", topn: int = 1,
              restrict_vocab: int | None = None, exclude_inputs: bool = True,
              progress: Progress | None = None) -> list[list[tuple[str, float]]]:
    """Answers to many questions ``(a, b, c)`` ("a is to b as c is to ?") in one batched search.

    Same semantics as :func:`analogy` applied to each question.

    Examples
    --------
    >>> space = Space(["king", "man", "woman", "queen"],
    ...               np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32))
    >>> [[k for k, _ in answer] for answer in analogies(space, [("man", "king", "woman"),
    ...                                                          ("king", "queen", "man")])]
    [['queen'], ['woman']]
    """
    if not questions:
        return []
    rows = np.array([space.indices(q) for q in questions])  # [Q, 3]: a, b, c
    positive, negative = rows[:, 1:], rows[:, :1]
    exclude = rows if exclude_inputs else None
    found, scores = search(space, positive, negative, method, topn, restrict_vocab, exclude, progress)
    return [[(space.index_to_key[i], float(s)) for i, s in zip(found_row, score_row) if i >= 0]
            for found_row, score_row in zip(found, scores)]


def search(space: Space, positive: np.ndarray, negative: np.ndarray, method: str = "add", topn: int = 1,
           restrict_vocab: int | None = None, exclude: np.ndarray | None = None,
           progress: Progress | None = None, strategy: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """The ``topn`` best keys for each of Q questions given as rows of key indices.

    Parameters
    ----------
    space : Space
    positive : int array [Q, P]
        Rows of each question's positive keys (``b, c`` for ``a : b :: c : ?``).
    negative : int array [Q, N]
        Rows of its negative keys (``a``); N may be 0.
    method : {"add", "mul"}
    topn : int
    restrict_vocab : int, optional
        Answers only from the first ``restrict_vocab`` rows.
    exclude : int array [Q, E], optional
        Rows no question may answer (its inputs, say); -1 pads.
    progress : callable(done, total), optional
        Called as the search advances.
    strategy : {"auto", "table", "direct"}
        ``table``: one product per distinct key, then per-question sums/products of its rows;
        ``direct`` (3CosAdd only): one product per question's query vector. ``auto`` picks ``table``
        for 3CosMul, and for 3CosAdd when questions share keys (fewer distinct keys than Q / 2).

    Returns
    -------
    indices : int64 array [Q, k]
        Best rows first; -1 where fewer than ``k`` rows are allowed.
    scores : float32 array [Q, k]
        Their cosines (3CosAdd) or 3CosMul scores.
    """
    check_method(method)
    positive, negative = np.atleast_2d(positive), np.asarray(negative).reshape(len(positive), -1)
    n_rows = len(space) if restrict_vocab is None else min(restrict_vocab, len(space))
    k = min(topn, n_rows)
    exclude = np.full((len(positive), 0), -1) if exclude is None else np.asarray(exclude).reshape(len(positive), -1)
    groups = plan(space, positive, negative, method, strategy)
    units = sum(len(g.rows) for g in groups) * n_rows
    best = RunningTopK(len(positive), k)
    unit = unit_matrix(space, n_rows)  # [R, D]
    done = 0
    flops = sum(matmul_flops(len(g.terms), space.dim, n_rows) for g in groups)
    combined = 4.0 * units * (positive.shape[1] + negative.shape[1] + 1)  # bytes the combination moves
    with blas_threads_for(flops, combined) as n_threads, Workers(n_threads) as workers:
        for group in groups:
            step = max(256, min(n_rows, TABLE_BYTES // (4 * len(group.terms))))
            for start in range(0, n_rows, step):
                stop = min(start + step, n_rows)
                table = group.terms @ unit[start:stop].T  # [W, D] @ [D, n] -> [W, n]
                # numpy releases the GIL: each worker scores its own share of the questions
                shares = np.array_split(np.arange(len(group.rows)), n_threads)
                task = partial(score_block, table, group, method=method, exclude=exclude, best=best, start=start)
                workers.map(task, [share for share in shares if len(share)])
                done += len(group.rows) * (stop - start)
                if progress is not None:
                    progress(done, units)
    return best.indices, best.scores * group_scales(groups, len(positive))[:, None]


@dataclass
class Group:
    """Questions answered from one table: their rows, term vectors and term indices into them."""

    rows: np.ndarray  # [G] question numbers
    terms: np.ndarray  # [W, D] unit term vectors (distinct keys, or one query per question)
    positive: np.ndarray  # [G, P'] rows of ``terms`` to add / multiply
    negative: np.ndarray  # [G, N'] rows of ``terms`` to subtract / divide by
    scale: np.ndarray  # [G] factor turning a combined score into the reported one
    direct: bool = False  # True when row i of the table is question i's scores (one query per question)


def plan(space: Space, positive: np.ndarray, negative: np.ndarray, method: str, strategy: str) -> list[Group]:
    """Split Q questions into groups sharing one term table (see :func:`search`'s ``strategy``)."""
    if strategy not in ("auto", "table", "direct"):
        raise InvalidInput(f"unknown strategy {strategy!r}: use auto, table or direct")
    if strategy == "direct" and method != "add":
        raise InvalidInput("the direct strategy is for 3CosAdd only")
    n_questions = len(positive)
    keys, inverse = np.unique(np.concatenate([positive, negative], axis=1), return_inverse=True)
    inverse = inverse.reshape(n_questions, -1)  # [Q, P + N] rows of ``keys``
    if method == "add" and (strategy == "direct" or (strategy == "auto" and 2 * len(keys) >= n_questions)):
        queries = unit_at(space, positive).sum(axis=1) - unit_at(space, negative).sum(axis=1)  # [Q, D]
        queries = unit_rows(queries)
        return [Group(rows=np.arange(s, min(s + DIRECT_GROUP, n_questions)),
                      terms=queries[s: s + DIRECT_GROUP],
                      positive=np.arange(min(DIRECT_GROUP, n_questions - s))[:, None],
                      negative=np.empty((min(DIRECT_GROUP, n_questions - s), 0), dtype=np.int64),
                      scale=np.ones(min(DIRECT_GROUP, n_questions - s), dtype=np.float32), direct=True)
                for s in range(0, n_questions, DIRECT_GROUP)]
    terms = unit_at(space, keys)  # [W, D]
    n_positive = positive.shape[1]
    scale = np.ones(n_questions, dtype=np.float32)
    if method == "add":  # the sum of unit vectors has this length; dividing by it gives cosines
        lengths = np.linalg.norm(terms[inverse[:, :n_positive]].sum(1) - terms[inverse[:, n_positive:]].sum(1), axis=1)
        scale = np.where(lengths > 0, 1.0 / np.maximum(lengths, 1e-30), 0.0).astype(np.float32)
    return [Group(np.arange(n_questions), terms, inverse[:, :n_positive], inverse[:, n_positive:], scale)]


def group_scales(groups: list[Group], n_questions: int) -> np.ndarray:
    """Every question's score factor [Q]."""
    scale = np.empty(n_questions, dtype=np.float32)
    for group in groups:
        scale[group.rows] = group.scale
    return scale


def score_block(table: np.ndarray, group: Group, share: np.ndarray, method: str, exclude: np.ndarray,
                best: RunningTopK, start: int) -> None:
    """Scores of the questions ``share`` (positions in ``group``) against one vocabulary chunk.

    Works through cache-sized blocks of questions and feeds each to ``best``.
    """
    width = table.shape[1]
    step = max(8, BLOCK_BYTES // (4 * width))
    block = np.empty((step, width), dtype=np.float32)
    scratch = np.empty((step, width), dtype=np.float32)
    for q0 in range(share[0], share[-1] + 1, step):
        q1 = min(q0 + step, share[-1] + 1)
        if group.direct:  # the table's rows are the questions' scores already
            out = table[q0:q1]
        else:
            out = combine(table, group.positive[q0:q1], group.negative[q0:q1], method,
                          block[: q1 - q0], scratch[: q1 - q0])  # [G', n]
        questions = group.rows[q0:q1]
        mask_rows(out, exclude[questions], start)
        best.update(out, questions, start)


def combine(table: np.ndarray, positive: np.ndarray, negative: np.ndarray, method: str,
            out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """Per-question scores [G, n] from rows of the term-by-vocabulary ``table`` [W, n] (indices are valid:
    ``mode="clip"`` only spares numpy a buffered copy).

    3CosAdd: sum of the positive rows minus the negative rows. 3CosMul: product of
    ``(1 + row) / 2`` over the positives divided by (the same over the negatives + 1e-6).
    """
    np.take(table, positive[:, 0], axis=0, out=out, mode="clip")
    if method == "add":
        for j in range(1, positive.shape[1]):
            out += np.take(table, positive[:, j], axis=0, out=tmp, mode="clip")
        for j in range(negative.shape[1]):
            out -= np.take(table, negative[:, j], axis=0, out=tmp, mode="clip")
        return out
    half_shift(out)
    for j in range(1, positive.shape[1]):
        out *= half_shift(np.take(table, positive[:, j], axis=0, out=tmp, mode="clip"))
    if negative.shape[1] == 0:
        out /= 1 + COSMUL_EPSILON
        return out
    denominator = half_shift(np.take(table, negative[:, 0], axis=0, mode="clip"))
    for j in range(1, negative.shape[1]):
        denominator *= half_shift(np.take(table, negative[:, j], axis=0, out=tmp, mode="clip"))
    denominator += COSMUL_EPSILON
    out /= denominator
    return out


def half_shift(cosines: np.ndarray) -> np.ndarray:
    """``(1 + cos) / 2`` in place: cosines mapped to [0, 1] (Levy & Goldberg's footnote 7)."""
    cosines += 1
    cosines *= 0.5
    return cosines


def mask_rows(scores: np.ndarray, exclude: np.ndarray, start: int) -> None:
    """Set ``scores[i, exclude[i] - start]`` to -inf where that column lies in this chunk."""
    local = exclude - start  # [G, E]
    inside = (exclude >= 0) & (local >= 0) & (local < scores.shape[1])
    question, column = np.nonzero(inside)
    scores[question, local[question, column]] = -np.inf


class RunningTopK:
    """The ``k`` best (score, index) of each of Q rows, merged chunk by chunk; ties keep the lower index.

    Not a second top-k: a running merge of the best so far with the columns of each new block that
    beat a row's k-th best, each merge one :func:`runtime.ranking.top_k` (the best so far hold lower
    indices than the block's columns and sit before them, so ties by position are ties by index).
    ``k = 1`` is a running argmax.

    Examples
    --------
    >>> best = RunningTopK(1, 2)
    >>> best.update(np.array([[0.5, 0.9]], dtype=np.float32), np.array([0]), start=0)
    >>> best.update(np.array([[0.9, 0.1]], dtype=np.float32), np.array([0]), start=2)
    >>> best.indices, best.scores
    (array([[1, 2]]), array([[0.9, 0.9]], dtype=float32))
    """

    def __init__(self, n_rows: int, k: int):
        self.k = k
        self.indices = np.full((n_rows, k), -1, dtype=np.int64)
        self.scores = np.full((n_rows, k), -np.inf, dtype=np.float32)

    def update(self, block: np.ndarray, rows: np.ndarray, start: int) -> None:
        """Merge ``block`` [G, n] (columns ``start ...``) into the best of ``rows`` [G]."""
        if self.k == 1:  # the common case: argmax keeps the first (lowest) index of a tie
            column = block.argmax(axis=1)
            score = block[np.arange(len(rows)), column]
            better = score > self.scores[rows, 0]  # strictly: an earlier chunk wins a tie
            self.scores[rows[better], 0] = score[better]
            self.indices[rows[better], 0] = column[better] + start
            return
        # only a column above a row's k-th best so far can enter (an equal one loses the tie: its index is higher)
        entering, columns = np.nonzero(block > self.scores[rows, -1][:, None])  # row-major: columns ascending
        for i, (lo, hi) in enumerate(itertools.pairwise(np.searchsorted(entering, np.arange(len(rows) + 1)))):
            if lo == hi:
                continue
            row, new = rows[i], columns[lo:hi]  # [m] columns of this block that may enter
            merged = np.concatenate([self.scores[row], block[i, new]])  # [k + m]: the best so far, then the block's
            best = top_k(merged, self.k)  # [k]
            found = np.where(best < self.k, self.indices[row, np.minimum(best, self.k - 1)],
                             new[np.maximum(best - self.k, 0)] + start)
            self.scores[row] = merged[best]
            self.indices[row] = np.where(np.isfinite(merged[best]), found, -1)
