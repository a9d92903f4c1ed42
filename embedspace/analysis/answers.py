"""Checking an expression against the answer it is expected to give: ``king - man + woman`` and queen.

The classic demonstrations ask one expression of a space and expect one word back. Whether they
work is not yes or no: a word of the expression may be missing from the space (nothing can be
asked), the expected word may be missing (the question has no right answer here), or the expected
word may be second, or tenth, or nowhere near. :func:`expected_answer` keeps all of that apart.
"""
from __future__ import annotations

from dataclasses import dataclass

from embedspace.analysis.arithmetic import nearest, parse_expression
from embedspace.errors import InvalidInput
from embedspace.space import Space


@dataclass(frozen=True)
class ExpectedAnswer:
    """One expression asked of one space, and where the expected answer came."""

    expression: str
    expected: str
    missing: tuple[str, ...]  # the expression's words the space lacks (then nothing was asked)
    known: bool  # the space has the expected word
    topn: int  # how many answers were searched for the expected word
    found: tuple[tuple[str, float], ...]  # [<= topn] (key, cosine) nearest the result, inputs left out

    @property
    def rank(self) -> int | None:
        """1-based rank of the expected word among :attr:`found`; None when it is not there."""
        keys = [key for key, _ in self.found]
        return keys.index(self.expected) + 1 if self.expected in keys else None

    @property
    def askable(self) -> bool:
        """The space has every word of the expression and the expected one: a fair question."""
        return not self.missing and self.known

    @property
    def correct(self) -> bool:
        """The expected word came first."""
        return self.rank == 1


def expected_answer(space: Space, expression: str, expected: str, topn: int = 10) -> ExpectedAnswer:
    """Ask ``expression`` of ``space`` and find where ``expected`` ranks among the answers.

    The answers are :func:`embedspace.analysis.arithmetic.calc`'s (gensim's ``most_similar``,
    the expression's own words left out). A word of the expression that the space lacks is not
    an error here: it is recorded in ``missing`` and nothing is asked.

    Parameters
    ----------
    space : Space
    expression : str
        Such as ``"king - man + woman"`` (see :func:`embedspace.analysis.arithmetic.parse_expression`).
    expected : str
        The answer the demonstration expects.
    topn : int
        How many answers to search for ``expected``.

    Returns
    -------
    ExpectedAnswer
        ``found`` [topn] best first; ``rank`` of ``expected`` in it (None when absent),
        ``missing`` words, ``known`` (the space has ``expected``).

    Raises
    ------
    InvalidInput
        For ``topn`` below 1; ValueError for an expression that does not parse or cancels out.

    Examples
    --------
    >>> import numpy as np
    >>> space = Space(["king", "man", "woman", "queen", "prince"],
    ...               np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1], [1, 1, 0.2]], dtype=np.float32))
    >>> answer = expected_answer(space, "king - man + woman", "queen")
    >>> answer.rank, answer.correct, [key for key, _ in answer.found]
    (1, True, ['queen', 'prince'])
    >>> expected_answer(space, "king - man + girl", "queen").missing
    ('girl',)
    """
    if topn < 1:
        raise InvalidInput(f"topn must be at least 1, got {topn}")
    terms = parse_expression(expression)
    missing = tuple(dict.fromkeys(term.key for term in terms if term.key not in space))
    found = () if missing else tuple(nearest(space, terms, topn))
    return ExpectedAnswer(expression, expected, missing, expected in space, topn, found)
