"""Embedding arithmetic: ``king - man + woman`` and its nearest keys.

The result of an expression is gensim's ``most_similar`` query: the weighted mean of the terms'
*unit* vectors, scaled to unit length, ranked against every key by cosine. Its neighbours leave the
input keys out by default (the classic pitfall is ``king - man + woman`` answering ``king``).

Expressions are written as text (:func:`parse_expression`), as gensim-style positive/negative lists
(:func:`most_similar`), or built from :class:`Expression` objects whose names record the algebra.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from embedspace.space import Space
from runtime.ranking import top_k

log = logging.getLogger(__name__)

EXAMPLE = "king - man + woman"

# one token: a quoted key, an operator, or a bare run of anything else
TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'|([+\-*])|([^\s+\-*"\']+))')
NUMBER = re.compile(r"[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class Term:
    """One key of an expression and its weight (negative for subtracted keys)."""

    key: str
    weight: float = 1.0


def parse_expression(text: str) -> list[Term]:
    """Terms of an expression such as ``king - man + woman``.

    ``+`` and ``-`` join keys; ``0.5*king`` or ``king*0.5`` weights one; keys with spaces or
    ``+ - *`` in them are quoted (``"new york" - city``). A number not followed by ``*`` is a key.

    Raises
    ------
    ValueError
        For an empty expression, a dangling operator or an unterminated quote.

    Examples
    --------
    >>> parse_expression('0.5*king - man + "new york"')
    [Term(key='king', weight=0.5), Term(key='man', weight=-1.0), Term(key='new york', weight=1.0)]
    """
    tokens = tokenize(text)
    if not tokens:
        raise ValueError(f"empty expression: give keys joined by + and -, e.g. {EXAMPLE!r}")
    sign, position = 1.0, 0
    if tokens[0] in (("op", "-"), ("op", "+")):  # a leading sign: "-man + woman"
        sign, position = (-1.0 if tokens[0][1] == "-" else 1.0), 1
    terms = []
    while True:
        term, position = read_term(tokens, position, text)
        terms.append(Term(term.key, sign * term.weight))
        if position == len(tokens):
            return terms
        kind, value = tokens[position]
        if kind != "op" or value == "*":
            raise ValueError(f"expected + or - before {value!r} in {text!r}")
        sign, position = (1.0 if value == "+" else -1.0), position + 1


def tokenize(text: str) -> list[tuple[str, str]]:
    """``(kind, value)`` tokens of an expression; kind is ``key``, ``quoted`` or ``op``."""
    tokens, position, text = [], 0, text.rstrip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"unterminated quote in {text!r}")
        double, single, op, bare = match.groups()
        if op is not None:
            tokens.append(("op", op))
        elif bare is not None:
            tokens.append(("key", bare))
        else:
            quoted = double if double is not None else single
            tokens.append(("quoted", re.sub(r"\\(.)", r"\1", quoted)))
        position = match.end()
    return tokens


def read_term(tokens: list[tuple[str, str]], position: int, text: str) -> tuple[Term, int]:
    """One term starting at ``tokens[position]``: ``key``, ``number * key`` or ``key * number``."""
    def at(i: int) -> tuple[str, str]:
        return tokens[i] if i < len(tokens) else ("end", "")

    kind, value = at(position)
    if kind == "end":
        raise ValueError(f"the expression {text!r} ends with an operator; expected a key after it")
    if kind == "op":
        raise ValueError(f"expected a key, not {value!r}, in {text!r}")
    if at(position + 1) == ("op", "*"):
        other_kind, other = at(position + 2)
        if kind == "key" and NUMBER.fullmatch(value) and other_kind in ("key", "quoted"):
            return Term(other, float(value)), position + 3
        if other_kind == "key" and NUMBER.fullmatch(other):
            return Term(value, float(other)), position + 3
        raise ValueError(f"'*' needs a number on one side in {text!r}")
    return Term(value), position + 1


def as_terms(positive: Iterable = (), negative: Iterable = ()) -> list[Term]:
    """gensim-style ``positive`` / ``negative`` lists as terms.

    Items are keys or ``(key, weight)`` pairs; a negative item's weight is subtracted
    (``("man", 0.5)`` in ``negative`` contributes ``-0.5 * man``). A single string counts as a list of one.

    Examples
    --------
    >>> as_terms(["king", ("woman", 2.0)], "man")
    [Term(key='king', weight=1.0), Term(key='woman', weight=2.0), Term(key='man', weight=-1.0)]
    """
    def items(values) -> list:
        return [values] if isinstance(values, str) else list(values or ())

    terms = []
    for sign, values in ((1.0, positive), (-1.0, negative)):
        for item in items(values):
            key, weight = (item, 1.0) if isinstance(item, str) else (item[0], float(item[1]))
            terms.append(Term(key, sign * weight))
    return terms


def query_vector(space: Space, terms: Sequence[Term]) -> np.ndarray:
    """The unit vector an expression points to: the weighted mean of its terms' unit vectors [D].

    Raises
    ------
    ValueError
        If there are no terms, or they cancel out (``king - king``).
    UnknownKeyError
        For a key that is not in the space.
    """
    if not terms:
        raise ValueError(f"empty expression: give at least one key, e.g. {EXAMPLE!r}")
    weights = np.array([t.weight for t in terms], dtype=np.float32)  # [T]
    mean = weights @ space.unit([t.key for t in terms]) / np.abs(weights).sum()  # [T] @ [T, D] -> [D]
    norm = float(np.linalg.norm(mean))
    if not norm > 1e-6:
        raise ValueError(f"the expression {describe(terms)!r} cancels out: its vector has zero length")
    return (mean / norm).astype(np.float32)


def most_similar(space: Space, positive: Iterable = (), negative: Iterable = (), topn: int = 10,
                 restrict_vocab: int | None = None, exclude_inputs: bool = True) -> list[tuple[str, float]]:
    """The keys closest (by cosine) to the mean of ``positive`` minus ``negative``: gensim's ``most_similar``.

    Parameters
    ----------
    space : Space
    positive, negative : iterable of str or (str, float)
        Keys added and subtracted, optionally weighted.
    topn : int
        How many keys to return, best first.
    restrict_vocab : int, optional
        Search only the first ``restrict_vocab`` keys (the most frequent in frequency-sorted spaces).
    exclude_inputs : bool
        Leave the input keys out of the answer (default, as gensim does).

    Returns
    -------
    list of (str, float)
        ``(key, cosine)`` pairs; ties keep vocabulary order.

    Examples
    --------
    >>> space = Space(["king", "man", "woman", "queen"],
    ...               np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32))
    >>> [(k, round(s, 3)) for k, s in most_similar(space, ["king", "woman"], ["man"], topn=1)]
    [('queen', 0.959)]
    """
    terms = as_terms(positive, negative)
    return nearest(space, terms, topn, restrict_vocab, exclude_inputs)


def nearest(space: Space, terms: Sequence[Term], topn: int = 10, restrict_vocab: int | None = None,
            exclude_inputs: bool = True) -> list[tuple[str, float]]:
    """The ``topn`` keys nearest to the query of ``terms`` (see :func:`most_similar`)."""
    scores = space.cosine_scores(query_vector(space, terms), restrict_vocab)  # [D] -> [R]
    return best_keys(space, scores, terms if exclude_inputs else (), topn)


def best_keys(space: Space, scores: np.ndarray, excluded: Sequence[Term], topn: int) -> list[tuple[str, float]]:
    """The ``topn`` best ``(key, score)`` of ``scores`` [R] (modified in place), leaving out the keys of ``excluded``."""
    rows = [space.key_to_index[t.key] for t in excluded]
    scores[[i for i in rows if i < scores.shape[0]]] = -np.inf
    return [(space.index_to_key[i], float(scores[i])) for i in top_k(scores, topn) if np.isfinite(scores[i])]


def calc(space: Space, expression: str, topn: int = 10, restrict_vocab: int | None = None,
         exclude_inputs: bool = True) -> list[tuple[str, float]]:
    """The keys nearest to a text expression such as ``"king - man + woman"``.

    Examples
    --------
    >>> space = Space(["king", "man", "woman", "queen"],
    ...               np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32))
    >>> [k for k, _ in calc(space, "king - man + woman", topn=2)]
    ['queen']
    >>> [k for k, _ in calc(space, "king - man + woman", topn=2, exclude_inputs=False)]
    ['queen', 'woman']
    """
    return nearest(space, parse_expression(expression), topn, restrict_vocab, exclude_inputs)


def describe(terms: Sequence[Term]) -> str:
    """Terms written back as an expression.

    Examples
    --------
    >>> describe([Term("king"), Term("man", -1.0), Term("new york", 0.5)])
    'king - man + 0.5*"new york"'
    """
    parts = []
    for i, term in enumerate(terms):
        key = f'"{term.key}"' if re.search(r"[\s+\-*\"']", term.key) else term.key
        size = abs(term.weight)
        body = key if size == 1.0 else f"{size:g}*{key}"
        sign = "-" if term.weight < 0 else "+"
        parts.append((f"-{body}" if sign == "-" else body) if i == 0 else f"{sign} {body}")
    return " ".join(parts)


class Expression:
    """A small algebra of keys whose name records the operation, whatlies-style.

    Examples
    --------
    >>> space = Space(["king", "man", "woman", "queen"],
    ...               np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32))
    >>> king, man, woman = (Expression.of(space, k) for k in ("king", "man", "woman"))
    >>> result = (king - man) + woman
    >>> result.name
    '(king - man) + woman'
    >>> [k for k, _ in result.most_similar(topn=1)]
    ['queen']
    >>> (0.5 * king).name
    '0.5*king'
    """

    def __init__(self, space: Space, terms: Sequence[Term], name: str):
        self.space, self.terms, self.name = space, tuple(terms), name

    @classmethod
    def of(cls, space: Space, key: str) -> Expression:
        """The expression of one key (checked against the space)."""
        space.get_index(key)
        return cls(space, [Term(key)], key)

    def _combine(self, other: Expression, sign: float, op: str) -> Expression:
        if not isinstance(other, Expression):
            return NotImplemented
        if other.space is not self.space:
            raise ValueError("cannot combine expressions from different spaces")
        right = other.name if len(other.terms) == 1 else f"({other.name})"
        terms = self.terms + tuple(Term(t.key, sign * t.weight) for t in other.terms)
        return Expression(self.space, terms, f"{self.bracketed()} {op} {right}")

    def bracketed(self) -> str:
        return self.name if len(self.terms) == 1 else f"({self.name})"

    def __add__(self, other: Expression) -> Expression:
        return self._combine(other, 1.0, "+")

    def __sub__(self, other: Expression) -> Expression:
        return self._combine(other, -1.0, "-")

    def __mul__(self, factor: float) -> Expression:
        if not isinstance(factor, (int, float)):
            return NotImplemented
        terms = [Term(t.key, t.weight * factor) for t in self.terms]
        return Expression(self.space, terms, f"{factor:g}*{self.bracketed()}")

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"Expression({self.name!r})"

    @property
    def vector(self) -> np.ndarray:
        """The unit query vector [D] (see :func:`query_vector`)."""
        return query_vector(self.space, self.terms)

    def most_similar(self, topn: int = 10, restrict_vocab: int | None = None,
                     exclude_inputs: bool = True) -> list[tuple[str, float]]:
        """The keys nearest to this expression (see :func:`most_similar`)."""
        return nearest(self.space, self.terms, topn, restrict_vocab, exclude_inputs)


def rank_by_centrality(space: Space, keys: Sequence[str]) -> list[tuple[str, float]]:
    """``keys`` ranked by cosine with the mean of their unit vectors, most central first (gensim's semantics).

    The last one is the odd one out (gensim's ``doesnt_match``).

    Raises
    ------
    ValueError
        With fewer than two keys.

    Examples
    --------
    >>> space = Space(["cat", "dog", "mouse", "car"],
    ...               np.array([[1, 0.1], [1, 0.2], [1, 0.0], [0.1, 1]], dtype=np.float32))
    >>> [k for k, _ in rank_by_centrality(space, ["cat", "dog", "car", "mouse"])]
    ['dog', 'cat', 'mouse', 'car']
    """
    if len(keys) < 2:
        raise ValueError(f"give at least two words to compare, got {len(keys)}")
    unit = space.unit(list(keys))  # [n, D]
    mean = unit.mean(axis=0)
    scores = unit @ (mean / np.linalg.norm(mean))  # [n]
    order = sorted(range(len(keys)), key=lambda i: (-scores[i], i))
    return [(keys[i], float(scores[i])) for i in order]


def similarity(space: Space, first: str, second: str) -> float:
    """Cosine similarity of two keys.

    Examples
    --------
    >>> space = Space(["a", "b"], np.array([[1, 0], [1, 1]], dtype=np.float32))
    >>> round(similarity(space, "a", "b"), 4)
    0.7071
    """
    return float(space.unit(first) @ space.unit(second))
