"""Spaces whose vocabulary is open: rows as candidates, any other word a model can read given a vector.

:class:`OpenVocabularySpace` is a :class:`~embedspace.space.Space` whose rows are its *candidates*, the
words a query's answers are searched among, and which gives a vector to any other word (or short
phrase) its :class:`Reader` can read. Two readers ship with embedspace: fastText's character n-grams
(:class:`embedspace.io.subwords.FastTextSubwords`, for a native ``.bin``) and MiniLM reading a word
alone (:class:`embedspace.contextual.isolated.WordReader`, the ``minilm`` space). So ``sushi`` or
``new york`` can be asked about in ``minilm`` although they are not rows; they are never answers.
Like gensim's FastText vectors, ``word in space`` says whether the space has a vector for the word,
:meth:`~Space.has_index_for` whether it is a row.

Example
-------
>>> class Letters:  # a toy reader: a word's vector counts its a's and b's
...     def readable(self, word): return word.isalpha()
...     def vectors(self, words): return np.array([[w.count("a"), w.count("b")] for w in words], dtype=np.float32)
>>> space = OpenVocabularySpace(["ab", "bb"], np.array([[1, 1], [0, 2]], dtype=np.float32), Letters(), name="toy")
>>> space["aab"], "Bab" in space, space.has_index_for("bab"), "a-b" in space
(array([2., 1.], dtype=float32), True, False, False)
>>> [key for key, _ in space.similar_by_vector(space["aaa"], topn=1)]
['ab']
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from embedspace.errors import NotACandidate, UnknownKeyError
from embedspace.space import Space

log = logging.getLogger(__name__)


@runtime_checkable
class Reader(Protocol):
    """A model that gives a vector to words that are not a space's rows."""

    def readable(self, word: str) -> bool:
        """Whether the model can make a meaningful vector for ``word``."""

    def vectors(self, words: Sequence[str]) -> np.ndarray:
        """The vectors [n, D] of ``words``, float32."""


Transform = Callable[[np.ndarray], np.ndarray]  # [n, D] -> [n, D]


class OpenVocabularySpace(Space):
    """Candidate words as rows ``vectors`` [V, D]; other words read by ``reader`` when asked for.

    Parameters
    ----------
    index_to_key, vectors, origin, name, unique_keys
        As for :class:`~embedspace.space.Space`.
    reader : Reader
        Reads words that are not rows (their vectors [n, D]).
    cased : bool
        Whether the model tells case apart; MiniLM does not (a typed word is lower-cased).
    transform : callable, optional
        Applied to the vectors read on the fly, as it was to the rows (see :meth:`mapped`).
    """

    def __init__(self, index_to_key: Sequence[str], vectors: np.ndarray, reader: Reader, origin: str = "",
                 name: str | None = None, unique_keys: bool = False, cased: bool = False,
                 transform: Transform | None = None):
        super().__init__(index_to_key, vectors, origin=origin, name=name, unique_keys=unique_keys, cased=cased)
        self.reader = reader
        self.transform = transform

    @classmethod
    def over(cls, space: Space, reader: Reader, cased: bool = False) -> OpenVocabularySpace:
        """The rows of ``space`` (a memory map stays one) opened to any word ``reader`` can read."""
        return cls(space.index_to_key, space.vectors, reader, origin=space.origin, name=space.name,
                   unique_keys=True, cased=cased)

    def __repr__(self) -> str:
        return f"OpenVocabularySpace({self.name!r}, {len(self)} candidate keys x {self.dim} dims)"

    def normalise(self, word: str) -> str:
        """How the model reads ``word``: inner white space collapsed, lower-cased unless the space is cased."""
        word = " ".join(word.split())
        return word if self.cased else word.lower()

    def __contains__(self, word: object) -> bool:
        """Whether the space has a vector for ``word``: a row, or a word its model can read (as gensim's FastText)."""
        return isinstance(word, str) and self.find(word) is not None

    def find(self, word: str) -> str | None:
        """The row ``word`` stands for, else its normal form when the model can read it, else None."""
        key = super().find(word)
        if key is not None:
            return key
        key = self.normalise(word)
        if key in self.key_to_index or self.reader.readable(key):
            return key
        return None

    def resolve(self, word: str) -> str:
        """:meth:`find`, raising :class:`UnknownKeyError` for a word the model cannot read."""
        key = self.find(word)
        if key is None:
            raise UnknownKeyError(word, self.index_to_key, self.name)
        return key

    def get_index(self, key: str) -> int:
        """Row of ``key``; :class:`~embedspace.errors.NotACandidate` for a readable word that is no row."""
        resolved = self.resolve(key)
        if resolved not in self.key_to_index:
            raise NotACandidate(resolved, self.name, len(self))
        return self.key_to_index[resolved]

    def __getitem__(self, keys: str | Sequence[str]) -> np.ndarray:
        """The vector of one word [D], or of a list [n, D]: rows as they are, other words read by the model."""
        single = isinstance(keys, str)
        words = [self.resolve(w) for w in ([keys] if single else keys)]
        rows = np.array([self.key_to_index.get(w, -1) for w in words], dtype=np.int64)  # [n], -1: not a row
        out = np.empty((len(words), self.dim), dtype=np.float32)
        inside = np.flatnonzero(rows >= 0)
        out[inside] = self.vectors[rows[inside]]
        outside = np.flatnonzero(rows < 0)
        if len(outside):
            out[outside] = self.read([words[i] for i in outside])
        return out[0] if single else out

    def read(self, words: Sequence[str]) -> np.ndarray:
        """[n, D] the vectors of words that are not rows, read by the model (and transformed as the rows were)."""
        log.info("reading %s with the model", ", ".join(map(repr, words)))
        vectors = self.reader.vectors(words)
        return vectors if self.transform is None else self.transform(vectors)

    def lookup_note(self, word: str) -> str | None:
        """Says when ``word`` is read by the model (not a row, so never an answer); else :meth:`Space.lookup_note`."""
        key = self.resolve(word)
        if key not in self.key_to_index:
            return (f"{word!r} is not one of the {len(self):,} candidate words of {self.name}: "
                    "its vector is read from the model, and it is never an answer")
        return super().lookup_note(word)

    def derive(self, index_to_key: Sequence[str], vectors: np.ndarray, origin: str | None = None) -> Space:
        derived = OpenVocabularySpace(index_to_key, vectors, self.reader, origin=self.origin if origin is None else origin,
                                      name=self.name, unique_keys=True, cased=self.cased, transform=self.transform)
        derived.postprocessing = self.postprocessing
        return derived

    def mapped(self, transform: Transform, note: str) -> Space:
        """The rows transformed (:meth:`Space.mapped`), and every word read later transformed the same way."""
        derived = super().mapped(transform, note)
        inner = self.transform
        derived.transform = transform if inner is None else (lambda vectors: transform(inner(vectors)))
        return derived
