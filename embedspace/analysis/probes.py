"""Direction probes: is there a "plurality direction" ``cats - cat``, and do words line up along it?

A :class:`Direction` comes from one difference (``"cats - cat"``, any expression of raw vectors),
from the mean of several pairs' differences (``woman - man``, ``queen - king``, ...), or from the
first principal component of those differences. Words are scored along it by

- ``"dot"``: the raw dot product ``v . d`` (what the classic demos print);
- ``"projection"``: the length of ``v`` along the unit direction, ``v . d / |d|``;
- ``"cosine"``: ``cos(v, d)``, which ignores how long ``v`` is.

Reports: the whole vocabulary ranked along a direction (:func:`rank`), labelled pairs
(:func:`pair_report`: how many pairs the "high" member wins, the mean gap, Cohen's d) and an
ordered list (:func:`order_report`: Spearman's rho between the scores and the given order).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from embedspace.analysis.arithmetic import describe, parse_expression
from embedspace.errors import FormatError, InvalidInput
from embedspace.space import Space
from runtime.ranking import top_k
from runtime.threads import blas_threads_for, matmul_bytes, matmul_flops

log = logging.getLogger(__name__)

MEASURES = ("dot", "projection", "cosine")


@dataclass(frozen=True)
class Direction:
    """A direction in a space: its vector [D], a name, and the pairs it was built from."""

    vector: np.ndarray
    name: str
    pairs: tuple[tuple[str, str], ...] = ()
    explained: float | None = None  # share of the pairs' variance on the first component (PCA only)

    @property
    def unit(self) -> np.ndarray:
        """The direction scaled to unit length [D]."""
        return self.vector / np.linalg.norm(self.vector)


def checked(vector: np.ndarray, name: str) -> np.ndarray:
    """``vector`` as float32 if it has a length; otherwise an :class:`InvalidInput` naming the direction."""
    if not np.linalg.norm(vector) > 1e-12:
        raise InvalidInput(f"the direction {name!r} has zero length: its terms cancel out")
    return np.asarray(vector, dtype=np.float32)


def direction_from_expression(space: Space, expression: str) -> Direction:
    """The raw-vector combination of an expression: ``"cats - cat"`` is ``v(cats) - v(cat)``.

    Examples
    --------
    >>> space = Space(["cat", "cats"], np.array([[1, 0], [1, 2]], dtype=np.float32))
    >>> direction_from_expression(space, "cats - cat").vector
    array([0., 2.], dtype=float32)
    """
    terms = parse_expression(expression)
    weights = np.array([t.weight for t in terms], dtype=np.float32)
    vector = weights @ space[[t.key for t in terms]]  # [T] @ [T, D] -> [D]
    name = describe(terms)
    is_pair = len(terms) == 2 and weights.tolist() == [1.0, -1.0]
    pairs = ((terms[0].key, terms[1].key),) if is_pair else ()
    return Direction(checked(vector, name), name, pairs)


def direction_from_pairs(space: Space, pairs: Sequence[tuple[str, str]], method: str = "mean") -> Direction:
    """A direction from pairs ``(high, low)``: the mean of ``v(high) - v(low)``, or their first principal component.

    ``method="pca"`` takes the first right singular vector of the [n, D] matrix of differences
    (uncentred: each pair is centred on its own midpoint, as in Bolukbasi et al. 2016), scaled to
    the mean difference's length along it and signed to agree with the mean difference.

    Raises
    ------
    InvalidInput
        Without pairs, for an unknown method, or when the direction has zero length.

    Examples
    --------
    >>> space = Space(["man", "woman", "king", "queen"],
    ...               np.array([[1, 0], [1, 1], [3, 0], [3, 1.2]], dtype=np.float32))
    >>> direction_from_pairs(space, [("woman", "man"), ("queen", "king")]).vector
    array([0. , 1.1], dtype=float32)
    >>> d = direction_from_pairs(space, [("woman", "man"), ("queen", "king")], method="pca")
    >>> d.unit.round(3), d.explained
    (array([0., 1.], dtype=float32), 1.0)
    """
    if not pairs:
        raise InvalidInput("a direction needs at least one (high, low) pair")
    if method not in ("mean", "pca"):
        raise InvalidInput(f"unknown direction method {method!r}: use 'mean' or 'pca'")
    pairs = tuple((str(high), str(low)) for high, low in pairs)
    differences = space[[h for h, _ in pairs]] - space[[low for _, low in pairs]]  # [n, D]
    mean = differences.mean(axis=0)  # [D]
    name = f"mean of {len(pairs)} pair differences" if len(pairs) > 1 else f"{pairs[0][0]} - {pairs[0][1]}"
    if method == "mean":
        return Direction(checked(mean, name), name, pairs)
    _, singular, right = np.linalg.svd(differences.astype(np.float64), full_matrices=False)
    component = right[0] * (1.0 if right[0] @ mean >= 0 else -1.0)  # [D], signed like the mean
    explained = float(singular[0] ** 2 / np.sum(singular**2)) if singular[0] > 0 else 0.0
    vector = component * float(component @ mean)
    name = f"first principal component of {len(pairs)} pair differences"
    return Direction(checked(vector, name), name, pairs, round(explained, 6))


def read_pairs(path: str | os.PathLike) -> list[tuple[str, str]]:
    """Pairs of a two-column file (tab- or whitespace-separated; ``#`` comments and blank lines skipped).

    The first column is the "high" end of the direction (plural, female, capital, ...)
    only if the file says so; shipped lists state their order in their header.

    Raises
    ------
    FormatError
        For a line that is not two fields.
    """
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\r\n").split("\t") if "\t" in line else line.split()
            if len(fields) != 2:
                raise FormatError(path, f"expected 2 fields (a pair), got {len(fields)}", line=number)
            pairs.append((fields[0].strip(), fields[1].strip()))
    if not pairs:
        raise FormatError(path, "no pairs in the file")
    return pairs


# -- scoring ----------------------------------------------------------------------------------------

def check_measure(measure: str) -> str:
    if measure not in MEASURES:
        raise InvalidInput(f"unknown measure {measure!r}: use one of {', '.join(MEASURES)}")
    return measure


def score(space: Space, direction: Direction, keys: Sequence[str], measure: str = "dot") -> np.ndarray:
    """Scores of ``keys`` along ``direction`` [n] (see the module's list of measures).

    Examples
    --------
    >>> space = Space(["cat", "cats", "one", "two"], np.array([[1, 0], [1, 2], [2, 0], [2, 1]], dtype=np.float32))
    >>> d = direction_from_expression(space, "cats - cat")
    >>> score(space, d, ["one", "two"]), score(space, d, ["one", "two"], "cosine").round(3)
    (array([0., 2.], dtype=float32), array([0.   , 0.447], dtype=float32))
    """
    check_measure(measure)
    vectors = space[list(keys)]  # [n, D]
    raw = vectors @ direction.vector  # [n, D] @ [D] -> [n]
    if measure == "dot":
        return raw
    raw = raw / np.linalg.norm(direction.vector)
    if measure == "projection":
        return raw.astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1)
    return np.where(norms > 0, raw / np.where(norms > 0, norms, 1.0), 0.0).astype(np.float32)


def score_all(space: Space, direction: Direction, measure: str = "dot",
              restrict_vocab: int | None = None) -> np.ndarray:
    """Scores of every key (of the first ``restrict_vocab``) along ``direction`` [R]."""
    check_measure(measure)
    rows = len(space) if restrict_vocab is None else min(restrict_vocab, len(space))
    if measure == "cosine":
        return space.cosine_scores(direction.unit, restrict_vocab)
    with blas_threads_for(matmul_flops(1, space.dim, rows), matmul_bytes(1, space.dim, rows)):
        raw = space.vectors[:rows] @ direction.vector  # [R, D] @ [D] -> [R]
    return raw if measure == "dot" else (raw / np.linalg.norm(direction.vector)).astype(np.float32)


def rank(space: Space, direction: Direction, k: int = 10, measure: str = "dot",
         restrict_vocab: int | None = None) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """The ``k`` keys scoring highest along ``direction`` and the ``k`` scoring lowest (lowest first).

    Examples
    --------
    >>> space = Space(list("abcd"), np.array([[0, 3], [0, -1], [0, 1], [5, 0]], dtype=np.float32))
    >>> d = Direction(np.array([0, 1], dtype=np.float32), "up")
    >>> rank(space, d, k=1)
    ([('a', 3.0)], [('b', -1.0)])
    """
    scores = score_all(space, direction, measure, restrict_vocab)
    top = [(space.index_to_key[i], float(scores[i])) for i in top_k(scores, k)]
    bottom = [(space.index_to_key[i], float(scores[i])) for i in top_k(-scores, k)]
    return top, bottom


# -- reports ----------------------------------------------------------------------------------------

@dataclass
class PairReport:
    """How labelled pairs ``(high, low)`` separate along a direction."""

    measure: str
    rows: list[tuple[str, str, float, float]]  # (high, low, high's score, low's score)
    missing: list[tuple[str, str]] = field(default_factory=list)  # pairs with a key not in the space

    @property
    def gaps(self) -> np.ndarray:
        return np.array([h - lo for _, _, h, lo in self.rows])

    @property
    def wins(self) -> int:
        """Pairs whose high member scores higher."""
        return int((self.gaps > 0).sum())

    @property
    def mean_gap(self) -> float:
        return float(self.gaps.mean())

    @property
    def effect_size(self) -> float:
        """Cohen's d: (mean of highs - mean of lows) / pooled standard deviation (ddof=1)."""
        high = np.array([h for _, _, h, _ in self.rows])
        low = np.array([lo for _, _, _, lo in self.rows])
        if len(high) < 2:
            return float("nan")
        pooled = np.sqrt((high.var(ddof=1) + low.var(ddof=1)) / 2)
        return float((high.mean() - low.mean()) / pooled) if pooled > 0 else float("nan")


def pair_report(space: Space, direction: Direction, pairs: Sequence[tuple[str, str]],
                measure: str = "dot") -> PairReport:
    """Scores of each pair's members along ``direction``; pairs with an unknown key are listed as missing.

    Raises
    ------
    InvalidInput
        When no pair is wholly in the space.

    Examples
    --------
    >>> space = Space(["cat", "cats", "dog", "dogs"], np.array([[1, 0], [1, 2], [2, 0], [2, 1]], dtype=np.float32))
    >>> report = pair_report(space, direction_from_expression(space, "cats - cat"), [("dogs", "dog")])
    >>> report.wins, report.mean_gap
    (1, 2.0)
    """
    known = [(h, lo) for h, lo in pairs if h in space and lo in space]
    missing = [(h, lo) for h, lo in pairs if not (h in space and lo in space)]
    if not known:
        raise InvalidInput(f"none of the {len(pairs)} pairs has both words in space {space.name!r}")
    high = score(space, direction, [h for h, _ in known], measure)
    low = score(space, direction, [lo for _, lo in known], measure)
    rows = [(h, lo, float(a), float(b)) for (h, lo), a, b in zip(known, high, low)]
    return PairReport(measure, rows, missing)


@dataclass
class OrderReport:
    """Scores of words given in an order, and how well the scores follow it."""

    measure: str
    rows: list[tuple[str, float]]
    spearman: float  # rho between the scores and the given positions
    increasing: bool  # every score above the one before


def order_report(space: Space, direction: Direction, keys: Sequence[str], measure: str = "dot") -> OrderReport:
    """Do the scores of ``keys`` rise in the order given (``one, two, three, four``)?

    Examples
    --------
    >>> space = Space(["cat", "cats", "one", "two", "three"],
    ...               np.array([[1, 0], [1, 2], [2, 0], [2, 1], [0, 3]], dtype=np.float32))
    >>> report = order_report(space, direction_from_expression(space, "cats - cat"), ["one", "two", "three"])
    >>> report.spearman, report.increasing
    (1.0, True)
    """
    if not keys:
        raise InvalidInput("give at least one word to probe")
    scores = score(space, direction, keys, measure)
    rho = spearman(np.arange(len(keys)), scores) if len(keys) > 1 else float("nan")
    increasing = bool(np.all(np.diff(scores) > 0))
    return OrderReport(measure, [(k, float(s)) for k, s in zip(keys, scores)], rho, increasing)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (scipy's, average ranks for ties)."""
    from scipy import stats

    return float(stats.spearmanr(x, y)[0])
