"""Embedding arithmetic: ``king - man + woman`` and its nearest keys.

The result of an expression is gensim's ``most_similar`` query: the weighted mean of the terms'
*unit* vectors, scaled to unit length, ranked against every key by cosine. Its neighbours leave the
input keys out by default (the classic pitfall is ``king - man + woman`` answering ``king``).

Expressions are written as text (:func:`parse_expression`), as gensim-style positive/negative lists
(:meth:`embedspace.space.Space.most_similar`, or :func:`most_similar` here), or built from
:class:`Expression` objects whose names record the algebra. The query itself (terms, query vector,
ranking) is :mod:`embedspace.queries`, shared with the Space and the analogies.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence

import numpy as np

from embedspace import queries
from embedspace.errors import InvalidInput
from embedspace.queries import EXAMPLE, Term, as_terms, describe, nearest, query_vector
from embedspace.space import Space
from runtime.ranking import top_k

__all__ = ["Expression", "Term", "as_terms", "calc", "describe", "most_similar", "nearest", "parse_expression",
           "query_vector", "rank_by_centrality", "similarity"]

log = logging.getLogger(__name__)

# one token: a quoted key, an operator, or a bare run of anything else
TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'|([+\-*])|([^\s+\-*"\']+))')
NUMBER = re.compile(r"[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?")


def parse_expression(text: str) -> list[Term]:
    """Terms of an expression such as ``king - man + woman``.

    ``+`` and ``-`` join keys; ``0.5*king`` or ``king*0.5`` weights one; keys with spaces or
    ``+ - *`` in them are quoted (``"new york" - city``). A number not followed by ``*`` is a key.

    Raises
    ------
    InvalidInput
        For an empty expression, a dangling operator or an unterminated quote.

    Examples
    --------
    >>> parse_expression('0.5*king - man + "new york"')
    [Term(key='king', weight=0.5), Term(key='man', weight=-1.0), Term(key='new york', weight=1.0)]
    """
    tokens = tokenize(text)
    if not tokens:
        raise InvalidInput(f"empty expression: give keys joined by + and -, e.g. {EXAMPLE!r}")
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
            raise InvalidInput(f"expected + or - before {value!r} in {text!r}")
        sign, position = (1.0 if value == "+" else -1.0), position + 1


def tokenize(text: str) -> list[tuple[str, str]]:
    """``(kind, value)`` tokens of an expression; kind is ``key``, ``quoted`` or ``op``."""
    tokens, position, text = [], 0, text.rstrip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise InvalidInput(f"unterminated quote in {text!r}")
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
        raise InvalidInput(f"the expression {text!r} ends with an operator; expected a key after it")
    if kind == "op":
        raise InvalidInput(f"expected a key, not {value!r}, in {text!r}")
    if at(position + 1) == ("op", "*"):
        other_kind, other = at(position + 2)
        if kind == "key" and NUMBER.fullmatch(value) and other_kind in ("key", "quoted"):
            return Term(other, float(value)), position + 3
        if other_kind == "key" and NUMBER.fullmatch(other):
            return Term(value, float(other)), position + 3
        raise InvalidInput(f"'*' needs a number on one side in {text!r}")
    return Term(value), position + 1


def calc(space: Space, expression: str, topn: int = 10, restrict_vocab: int | None = None,
         exclude_inputs: bool = True, skip_inflections: bool = False) -> list[tuple[str, float]]:
    """The keys nearest to a text expression such as ``"king - man + woman"``.

    Typed keys are found as typed, then in lower case (:meth:`Space.resolve`). With
    ``skip_inflections``, answers sharing a stem with an input key (``kings`` for ``king``) are left
    out (:mod:`embedspace.analysis.inflections`).

    Examples
    --------
    >>> space = Space(["king", "man", "woman", "queen", "kings"],
    ...               np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1], [-0.1, 1, 1]], dtype=np.float32))
    >>> [k for k, _ in calc(space, "King - man + Woman", topn=2)]
    ['kings', 'queen']
    >>> [k for k, _ in calc(space, "king - man + woman", topn=2, skip_inflections=True)]
    ['queen']
    >>> [k for k, _ in calc(space, "king - man + woman", topn=3, exclude_inputs=False)]
    ['kings', 'queen', 'woman']
    """
    terms = parse_expression(expression)
    return nearest(space, terms, topn, "add", restrict_vocab, exclude_inputs, inflections_of(terms, skip_inflections))


def inflections_of(terms: Sequence[Term], skip: bool):
    """The ``keep`` filter that leaves out the inflections of the terms' keys, or None when not ``skip``."""
    if not skip:
        return None
    from embedspace.analysis.inflections import inflection_filter

    return inflection_filter([t.key for t in terms if isinstance(t.key, str)])


def most_similar(space: Space, positive: Iterable = (), negative: Iterable = (), topn: int = 10,
                 restrict_vocab: int | None = None, exclude_inputs: bool = True,
                 skip_inflections: bool = False) -> list[tuple[str, float]]:
    """The keys closest (by cosine) to the mean of ``positive`` minus ``negative``: :meth:`Space.most_similar`.

    ``exclude_inputs=False`` keeps the input keys among the answers (gensim always leaves them out);
    ``skip_inflections`` leaves out the answers that inflect an input key (see :func:`calc`).

    Examples
    --------
    >>> space = Space(["king", "man", "woman", "queen"],
    ...               np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32))
    >>> [(k, round(s, 3)) for k, s in most_similar(space, ["king", "woman"], ["man"], topn=1)]
    [('queen', 0.959)]
    """
    keep = inflections_of(as_terms(positive, negative), skip_inflections)
    return queries.most_similar(space, positive, negative, topn, "add", restrict_vocab, exclude_inputs, keep)


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
        """The expression of one key (checked against the space: found as typed, then in lower case)."""
        return cls(space, [Term(space.resolve(key))], key)

    def _combine(self, other: Expression, sign: float, op: str) -> Expression:
        if not isinstance(other, Expression):
            return NotImplemented
        if other.space is not self.space:
            raise InvalidInput("cannot combine expressions from different spaces")
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
        return nearest(self.space, self.terms, topn, "add", restrict_vocab, exclude_inputs)


def rank_by_centrality(space: Space, keys: Sequence[str]) -> list[tuple[str, float]]:
    """``keys`` ranked by cosine with the mean of their unit vectors, most central first (gensim's semantics).

    The last one is the odd one out (gensim's ``doesnt_match``).

    Raises
    ------
    InvalidInput
        With fewer than two keys.

    Examples
    --------
    >>> space = Space(["cat", "dog", "mouse", "car"],
    ...               np.array([[1, 0.1], [1, 0.2], [1, 0.0], [0.1, 1]], dtype=np.float32))
    >>> [k for k, _ in rank_by_centrality(space, ["cat", "dog", "car", "mouse"])]
    ['dog', 'cat', 'mouse', 'car']
    """
    if len(keys) < 2:
        raise InvalidInput(f"give at least two words to compare, got {len(keys)}")
    unit = space.unit(list(keys))  # [n, D]
    mean = unit.mean(axis=0)
    scores = unit @ (mean / np.linalg.norm(mean))  # [n]
    return [(keys[i], float(scores[i])) for i in top_k(scores, len(keys))]


def similarity(space: Space, first: str, second: str) -> float:
    """Cosine similarity of two keys.

    Examples
    --------
    >>> space = Space(["a", "b"], np.array([[1, 0], [1, 1]], dtype=np.float32))
    >>> round(similarity(space, "a", "b"), 4)
    0.7071
    """
    return float(space.unit(first) @ space.unit(second))
