"""What a ``most_similar`` query is: its terms, its objective (3CosAdd or 3CosMul), its answers.

The one implementation behind :meth:`embedspace.space.Space.most_similar`, the arithmetic of
:mod:`embedspace.analysis.arithmetic` and the analogies of :mod:`embedspace.analysis.analogy`, with
gensim's semantics (``KeyedVectors.most_similar`` and ``most_similar_cosmul``):

- **3CosAdd** (``method="add"``): the keys closest by cosine to the weighted mean of the terms' unit
  vectors (a term given as a vector is added as it is), scaled to unit length;
- **3CosMul** (``method="mul"``, Levy & Goldberg 2014): the keys maximising the product of
  ``(1 + cos) / 2`` over the positive terms divided by the same product over the negative terms plus
  ``1e-6``.

Input keys are left out of the answers (terms given as vectors are not keys); ties keep the lower
vocabulary index. This module imports nothing of :mod:`embedspace.space`, which imports it: what a
query needs of a space is the protocol :class:`Searchable`, which :class:`~embedspace.space.Space` meets.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from embedspace.errors import InvalidInput
from runtime.ranking import top_k

EXAMPLE = "king - man + woman"
METHODS = ("add", "mul")
COSMUL_EPSILON = 1e-6  # gensim's (and Levy & Goldberg's) guard against a zero denominator
KEEP_MARGIN = 20  # with a keep filter, rank this many more keys than asked for before looking further


class Searchable(Protocol):
    """What a query needs of a space (:class:`embedspace.space.Space` has it all): keys, unit rows, cosines."""

    index_to_key: list[str]  # [V], row order

    @property
    def key_to_index(self) -> Mapping[str, int]: ...  # {key: row}

    @property
    def dim(self) -> int: ...  # D

    def resolve(self, word: str) -> str: ...  # the key a typed word stands for; UnknownKeyError if none

    def unit(self, keys: Sequence[str]) -> np.ndarray: ...  # unit rows of keys [n, D]

    def cosine_scores(self, query: np.ndarray, restrict_vocab: int | None = None) -> np.ndarray: ...  # [Q, D] -> [Q, R]


@dataclass(frozen=True)
class Term:
    """One key (or a vector [D]) of a query and its weight (negative for subtracted terms)."""

    key: str | np.ndarray
    weight: float = 1.0


def check_method(method: str) -> str:
    """``method`` if it is ``"add"`` or ``"mul"``; otherwise an :class:`InvalidInput` naming both."""
    if method not in METHODS:
        raise InvalidInput(f"unknown analogy method {method!r}: use 'add' (3CosAdd) or 'mul' (3CosMul)")
    return method


def as_terms(positive: Iterable = (), negative: Iterable = ()) -> list[Term]:
    """gensim-style ``positive`` / ``negative`` lists as terms.

    Items are keys, vectors [D] or ``(key or vector, weight)`` pairs; a negative item's weight is
    subtracted (``("man", 0.5)`` in ``negative`` contributes ``-0.5 * man``; gensim 4 would add it). A
    single string or vector counts as a list of one, a 2-D array [n, D] as a list of its rows.

    Examples
    --------
    >>> as_terms(["king", ("woman", 2.0)], "man")
    [Term(key='king', weight=1.0), Term(key='woman', weight=2.0), Term(key='man', weight=-1.0)]
    """
    def items(values) -> list:  # gensim's _ensure_list: a key or a vector is a list of one, rows [n, D] a list
        if isinstance(values, str) or (isinstance(values, np.ndarray) and values.ndim == 1):
            return [values]
        return list(values) if isinstance(values, np.ndarray) else list(values or ())

    terms = []
    for sign, values in ((1.0, positive), (-1.0, negative)):
        for item in items(values):
            key, weight = (item, 1.0) if isinstance(item, (str, np.ndarray)) else (item[0], float(item[1]))
            terms.append(Term(key, sign * weight))
    return terms


def describe(terms: Sequence[Term]) -> str:
    """Terms written back as an expression (a vector term reads ``<vector>``).

    Examples
    --------
    >>> describe([Term("king"), Term("man", -1.0), Term("new york", 0.5)])
    'king - man + 0.5*"new york"'
    """
    parts = []
    for i, term in enumerate(terms):
        if not isinstance(term.key, str):
            key = "<vector>"
        else:
            key = f'"{term.key}"' if re.search(r"[\s+\-*\"']", term.key) else term.key
        size = abs(term.weight)
        body = key if size == 1.0 else f"{size:g}*{key}"
        sign = "-" if term.weight < 0 else "+"
        parts.append((f"-{body}" if sign == "-" else body) if i == 0 else f"{sign} {body}")
    return " ".join(parts)


def term_vectors(space: Searchable, terms: Sequence[Term]) -> np.ndarray:
    """Each term's vector [T, D]: a key's unit vector, a vector term as it is given."""
    keys = [t.key for t in terms if isinstance(t.key, str)]
    unit = iter(space.unit(keys)) if keys else iter(())  # [K, D]
    rows = [next(unit) if isinstance(t.key, str) else np.asarray(t.key, dtype=np.float32) for t in terms]
    if any(row.shape != (space.dim,) for row in rows):
        raise InvalidInput(f"a vector term must have shape ({space.dim},), the space's dimensions")
    return np.stack(rows)


def query_vector(space: Searchable, terms: Sequence[Term]) -> np.ndarray:
    """The unit vector a 3CosAdd query points to: the weighted mean of its terms' vectors [D].

    Raises
    ------
    InvalidInput
        If there are no terms, or they cancel out (``king - king``).
    UnknownKeyError
        For a key that is not in the space.

    Examples
    --------
    >>> from embedspace.space import Space
    >>> space = Space(["a", "b"], np.array([[2, 0], [0, 3]], dtype=np.float32))
    >>> [round(float(x), 4) for x in query_vector(space, [Term("a"), Term("b", -1.0)])]  # [D]
    [0.7071, -0.7071]
    """
    if not terms:
        raise InvalidInput(f"empty expression: give at least one key, e.g. {EXAMPLE!r}")
    weights = np.array([t.weight for t in terms], dtype=np.float64)  # [T]
    vectors = term_vectors(space, terms).astype(np.float64)  # [T, D]; float64: vector terms may be near float32's max
    mean = weights @ vectors / np.abs(weights).sum()  # [T] @ [T, D] -> [D]
    norm = float(np.linalg.norm(mean))
    if not norm > 1e-6:
        raise InvalidInput(f"the expression {describe(terms)!r} cancels out: its vector has zero length")
    return (mean / norm).astype(np.float32)


def cosmul(positive_cosines: np.ndarray, negative_cosines: np.ndarray) -> np.ndarray:
    """The 3CosMul score from cosines with the positive [P, ...] and negative [N, ...] terms.

    Examples
    --------
    >>> float(cosmul(np.array([1.0, 0.0]), np.array([-1.0])).round(3))
    500000.0
    """
    numerator = np.prod((1 + positive_cosines) / 2, axis=0)
    return numerator / (np.prod((1 + negative_cosines) / 2, axis=0) + COSMUL_EPSILON)


def cosmul_scores(space: Searchable, terms: Sequence[Term], restrict_vocab: int | None = None) -> np.ndarray:
    """The 3CosMul score of every key (of the first ``restrict_vocab``) [R].

    Unlike gensim, a vector term is taken as a direction (its cosine, whatever its length) and
    ``restrict_vocab`` is honoured (gensim's cosmul ignores it).

    Raises
    ------
    InvalidInput
        Without a positive term, or with weighted terms (3CosMul has no weights).
    """
    if any(abs(t.weight) != 1.0 for t in terms):
        raise InvalidInput("3CosMul takes plain keys, not weights; use method 'add' for weighted terms")
    positive = [t for t in terms if t.weight > 0]
    if not positive:
        raise InvalidInput("3CosMul needs at least one positive key")
    negative = [t for t in terms if t.weight < 0]
    cosines = space.cosine_scores(term_vectors(space, positive + negative), restrict_vocab)  # [T, D] -> [T, R]
    return cosmul(cosines[: len(positive)], cosines[len(positive):])  # [R]


def best_keys(space: Searchable, scores: np.ndarray, excluded: Iterable[str], topn: int,
              keep: Callable[[str], bool] | None = None) -> list[tuple[str, float]]:
    """The ``topn`` best ``(key, score)`` of ``scores`` [R] (modified in place), leaving out the keys ``excluded``.

    Ties keep vocabulary order; keys not in the space are ignored. With ``keep``, only keys for
    which ``keep(key)`` is true are answers (the next best take the place of the others).

    Examples
    --------
    >>> from embedspace.space import Space
    >>> space = Space(["a", "b", "c"], np.eye(3, dtype=np.float32))
    >>> best_keys(space, np.array([0.5, 0.9, 0.5], dtype=np.float32), ["b", "zz"], topn=2)
    [('a', 0.5), ('c', 0.5)]
    >>> best_keys(space, np.array([0.5, 0.9, 0.25], dtype=np.float32), [], topn=2, keep=lambda key: key != "b")
    [('a', 0.5), ('c', 0.25)]
    """
    rows = [space.key_to_index[key] for key in excluded if key in space.key_to_index]
    scores[[i for i in rows if i < scores.shape[0]]] = -np.inf
    k = topn if keep is None else topn + KEEP_MARGIN
    while True:
        found = [(space.index_to_key[i], float(scores[i])) for i in top_k(scores, k) if np.isfinite(scores[i])]
        kept = found if keep is None else [(key, score) for key, score in found if keep(key)]
        if len(kept) >= topn or len(found) < k:
            return kept[: max(topn, 0)]
        k *= 4  # many keys were left out: look further down the ranking


def resolved(space: Searchable, terms: Sequence[Term]) -> list[Term]:
    """``terms`` with each typed key replaced by the key it stands for (:meth:`Searchable.resolve`: case folding)."""
    return [Term(space.resolve(t.key), t.weight) if isinstance(t.key, str) else t for t in terms]


def nearest(space: Searchable, terms: Sequence[Term], topn: int = 10, method: str = "add",
            restrict_vocab: int | None = None, exclude_inputs: bool = True,
            keep: Callable[[str], bool] | None = None) -> list[tuple[str, float]]:
    """The ``topn`` keys that best answer the query of ``terms`` (see :func:`most_similar`).

    ``keep(key)`` false leaves a key out of the answers (see :func:`best_keys`).
    """
    terms = resolved(space, terms)
    if check_method(method) == "add":
        scores = space.cosine_scores(query_vector(space, terms), restrict_vocab)  # [D] -> [R]
    else:
        scores = cosmul_scores(space, terms, restrict_vocab)  # [R]
    inputs = [t.key for t in terms if isinstance(t.key, str)] if exclude_inputs else []
    return best_keys(space, scores, inputs, topn, keep)


def most_similar(space: Searchable, positive: Iterable = (), negative: Iterable = (), topn: int = 10,
                 method: str = "add", restrict_vocab: int | None = None,
                 exclude_inputs: bool = True, keep: Callable[[str], bool] | None = None) -> list[tuple[str, float]]:
    """The keys that best answer ``positive`` minus ``negative``: :meth:`Space.most_similar` with ``exclude_inputs``.

    Examples
    --------
    >>> from embedspace.space import Space
    >>> space = Space(["king", "man", "woman", "queen"],
    ...               np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32))
    >>> [(k, round(s, 3)) for k, s in most_similar(space, ["king", "woman"], ["man"], topn=1)]
    [('queen', 0.959)]
    >>> [(k, round(s, 3)) for k, s in most_similar(space, ["king", "woman"], ["man"], topn=1, method="mul")]
    [('queen', 1.28)]
    """
    return nearest(space, as_terms(positive, negative), topn, method, restrict_vocab, exclude_inputs, keep)
