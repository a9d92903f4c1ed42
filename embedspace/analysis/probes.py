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

Pairs that built a direction separate along it by construction: :func:`held_out_report` scores
each of them along a direction built without it (leave-one-out, or k-fold for long lists), which
is what says whether the direction carries over to pairs it has not seen.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from embedspace.analysis.arithmetic import describe, parse_expression
from embedspace.analysis.statistics import spearman
from embedspace.errors import FormatError, InvalidInput
from embedspace.space import Space
from runtime.ranking import top_k
from runtime.threads import blas_threads_for, matmul_bytes, matmul_flops

log = logging.getLogger(__name__)

MEASURES = ("dot", "projection", "cosine")
MAX_FOLDS = 50  # held-out reports: leave-one-out up to this many pairs, this many folds beyond


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
    held_out: int = 0  # rows scored along a direction built without them (see held_out_report)
    folds: int = 0  # the folds those directions left out, one each (0 when no row was held out)

    @property
    def scheme(self) -> str | None:
        """How the held-out rows were held out: ``"leave-one-out"``, ``"K-fold"``, or None for none."""
        if not self.held_out:
            return None
        return "leave-one-out" if self.folds >= self.held_out else f"{self.folds}-fold"

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
    known, missing = split_pairs(space, pairs)
    high = score(space, direction, [h for h, _ in known], measure)
    low = score(space, direction, [lo for _, lo in known], measure)
    rows = [(h, lo, float(a), float(b)) for (h, lo), a, b in zip(known, high, low)]
    return PairReport(measure, rows, missing)


def split_pairs(space: Space, pairs: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``(known, missing)``: the pairs with both keys in ``space``, and the others (an :class:`InvalidInput` if none is known)."""
    known = [(h, lo) for h, lo in pairs if h in space and lo in space]
    missing = [(h, lo) for h, lo in pairs if not (h in space and lo in space)]
    if not known:
        raise InvalidInput(f"none of the {len(pairs)} pairs has both words in space {space.name!r}")
    return known, missing


def held_out_report(space: Space, pairs: Sequence[tuple[str, str]], method: str = "mean", measure: str = "dot",
                    report: Sequence[tuple[str, str]] | None = None, max_folds: int = MAX_FOLDS) -> PairReport:
    """Scores of the ``report`` pairs (default: ``pairs``) along directions built from ``pairs`` without them.

    The distinct ``pairs`` (all of whose keys must be in ``space``) go into k = min(n, ``max_folds``)
    folds, the i-th into fold i mod k (k = n: leave-one-out). A report pair that is one of ``pairs`` is
    scored along the direction built (by ``method``, as :func:`direction_from_pairs`) from the other
    folds; any other report pair along the direction from all of ``pairs``. Report pairs with an
    unknown key are listed as missing. The wins, mean gap and Cohen's d of the result are then
    held-out figures; :func:`pair_report` with the direction from all pairs gives the in-sample ones.

    Raises
    ------
    InvalidInput
        With fewer than two distinct pairs (nothing would be left to build a direction from), when
        no report pair is wholly in the space, or when a fold's direction has zero length.

    Examples
    --------
    >>> space = Space(["man", "woman", "king", "queen", "boy", "girl"],
    ...               np.array([[1, 0], [1, 1], [3, 0], [3, 1.2], [2, 0], [3.5, -0.2]], dtype=np.float32))
    >>> pairs = [("woman", "man"), ("queen", "king"), ("girl", "boy")]
    >>> pair_report(space, direction_from_pairs(space, pairs), pairs).wins    # in sample
    3
    >>> report = held_out_report(space, pairs)
    >>> report.wins, report.scheme        # girl - boy points away from the other two
    (2, 'leave-one-out')
    """
    distinct = list(dict.fromkeys((str(high), str(low)) for high, low in pairs))
    if len(distinct) < 2:
        raise InvalidInput(f"holding pairs out needs at least two distinct pairs, got {len(distinct)}")
    if max_folds < 2:
        raise InvalidInput(f"max_folds must be at least 2, got {max_folds}")
    folds = min(len(distinct), max_folds)
    fold_of = {pair: i % folds for i, pair in enumerate(distinct)}
    known, missing = split_pairs(space, distinct if report is None else [(str(h), str(lo)) for h, lo in report])
    directions: dict[int | None, Direction] = {}  # fold left out (None: none) -> direction

    def direction_without(fold: int | None) -> Direction:
        if fold not in directions:
            kept = [pair for pair in distinct if fold_of[pair] != fold]
            directions[fold] = direction_from_pairs(space, kept, method)
        return directions[fold]

    rows = []
    for high, low in known:
        a, b = score(space, direction_without(fold_of.get((high, low))), [high, low], measure)  # [2]
        rows.append((high, low, float(a), float(b)))
    held = sum(pair in fold_of for pair in known)
    return PairReport(check_measure(measure), rows, missing, held_out=held, folds=folds if held else 0)


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

