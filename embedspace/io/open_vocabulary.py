"""Spaces whose vocabulary is open: a key outside it gets a vector from a model that can make one.

:class:`OpenVocabulary` is what such a model offers (fastText's n-grams,
:class:`embedspace.io.subwords.FastTextSubwords`, or any other: a transformer's pooled tokens, say);
:class:`OpenSpace` is a :class:`~embedspace.space.Space` that consults it for unknown keys. The
vocabulary itself, and so every ranking (neighbours search the known keys), is unchanged: only
looking a key up (``space[key]``, ``space.unit(keys)``, :meth:`OpenSpace.vector_for`) is open.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from embedspace.errors import UnknownKeyError
from embedspace.space import Space


@runtime_checkable
class OpenVocabulary(Protocol):
    """A model that gives a vector to words outside a space's vocabulary."""

    def vectors_for(self, words: Sequence[str]) -> np.ndarray:
        """The vectors [n, D] of ``words`` (known or not), float32."""

    def can_compose(self, word: str) -> bool:
        """True when the model can make a meaningful vector for ``word``."""


class OpenSpace(Space):
    """A space whose unknown keys get vectors from ``vocabulary`` instead of raising.

    Shares ``space``'s keys and vectors (no copy). ``key in space`` still asks the vocabulary
    (as for any Space); :meth:`vector_for` and ``space[...]`` accept any word the model can
    compose. A word it cannot compose raises :class:`~embedspace.errors.UnknownKeyError`.

    Examples
    --------
    >>> class Letters:  # a toy model: a word's vector counts its a's and b's
    ...     def vectors_for(self, words):
    ...         return np.array([[w.count("a"), w.count("b")] for w in words], dtype=np.float32)
    ...     def can_compose(self, word):
    ...         return bool(set(word) & {"a", "b"})
    >>> space = OpenSpace(Space(["ab", "bb"], np.array([[1, 1], [0, 2]], np.float32)), Letters())
    >>> space.vector_for("aab").tolist(), "aab" in space, space[["ab", "aab"]].tolist()
    ([2.0, 1.0], False, [[1.0, 1.0], [2.0, 1.0]])
    """

    def __init__(self, space: Space, vocabulary: OpenVocabulary):
        super().__init__(space.index_to_key, space.vectors, origin=space.origin, name=space.name, unique_keys=True)
        self.vocabulary = vocabulary

    def vector_for(self, word: str) -> np.ndarray:
        """The vector [D] of ``word``: its row if it is a key, else the model's."""
        return self[word]

    def __getitem__(self, keys: str | Sequence[str]) -> np.ndarray:
        """The raw vector of one key [D], or of a list of keys [n, D]; unknown keys are composed."""
        single = isinstance(keys, str)
        words = [keys] if single else list(keys)
        index = self.key_to_index
        rows = np.array([index.get(word, -1) for word in words], dtype=np.int64)
        out = np.empty((len(words), self.dim), dtype=np.float32)
        known = rows >= 0
        out[known] = self.vectors[rows[known]]
        unknown = [word for word, row in zip(words, rows) if row < 0]
        for word in unknown:
            if not self.vocabulary.can_compose(word):
                raise UnknownKeyError(word, self.index_to_key, self.name)
        if unknown:
            out[~known] = self.vocabulary.vectors_for(unknown)
        return out[0] if single else out
