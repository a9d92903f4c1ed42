"""The one central idea: a Space is a vocabulary and a matrix of vectors.

Every static source (a word2vec file, a transformer's W_E, the shipped model) becomes a
:class:`Space`; everything static in embedspace is a function of one.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np

from embedspace import queries
from embedspace.errors import InvalidInput, UnknownKeyError
from embedspace.norms import inverse, norms_from_squares, sum_squares, unit_rows
from runtime.threads import blas_threads_for, matmul_bytes, matmul_flops

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 2**20  # rows are processed in chunks of about this many bytes
CACHE_CHUNK_BYTES = 2**20  # ... or of this many, when each chunk is read twice in a row


def chunk_rows(dim: int, itemsize: int = 4, cache_sized: bool = False) -> int:
    """Rows per chunk so that one chunk of a [V, dim] matrix takes about ``CHUNK_BYTES``.

    ``cache_sized`` chunks take about ``CACHE_CHUNK_BYTES``, small enough to stay in the CPU cache
    between two passes over them.

    Examples
    --------
    >>> chunk_rows(300), chunk_rows(300, cache_sized=True)
    (55924, 1024)
    """
    return max(1024, (CACHE_CHUNK_BYTES if cache_sized else CHUNK_BYTES) // (dim * itemsize))


def index_keys(keys: list[str]) -> dict[str, int]:
    """``{key: row}``; raises :class:`InvalidInput` naming a repeated key.

    Examples
    --------
    >>> index_keys(["a", "b"])
    {'a': 0, 'b': 1}
    """
    index = dict(zip(keys, range(len(keys))))
    if len(index) != len(keys):
        repeated = next(key for i, key in enumerate(keys) if index[key] != i)
        raise InvalidInput(f"duplicate keys in index_to_key, e.g. {repeated!r}")
    return index


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array`` (the array itself is left writable)."""
    view = array.view()
    view.flags.writeable = False
    return view


class Space:
    """A vocabulary and a matrix: ``index_to_key``, ``key_to_index`` and ``vectors`` [V, D].

    Parameters
    ----------
    index_to_key : sequence of str
        The vocabulary, row order of ``vectors`` (frequency order for word2vec files).
    vectors : ndarray [V, D]
        The vectors; converted to float32 if needed. Kept read-only (a memory map stays a map).
    origin : str
        Where the space came from (a path, ``"minilm"``, ...), shown by ``embedspace info``.
    name : str, optional
        A short name (``"word2vec"``, ``"minilm"``); defaults to ``origin``.
    unique_keys : bool
        The caller vouches that the keys are distinct, so ``key_to_index`` is built on first use.
    cased : bool, optional
        Whether keys that differ only in case are different words. A typed word is looked up as
        it is, then lower-cased (:meth:`resolve`); on a cased space that second step earns a note
        (:meth:`lookup_note`). Default: cased when some key has an upper-case letter (looked at
        once, when first needed).

    Examples
    --------
    >>> space = Space(["king", "queen", "man"], np.eye(3, dtype=np.float32) * 2)
    >>> len(space), space.dim, "king" in space
    (3, 3, True)
    >>> space["queen"]
    array([0., 2., 0.], dtype=float32)
    >>> space[["king", "man"]].shape
    (2, 3)
    >>> [(key, round(score, 3)) for key, score in space.similar_by_vector(space["queen"] + 0.2, topn=2)]
    [('queen', 0.992), ('king', 0.09)]
    >>> space.resolve("Queen"), space["KING"]  # typed words are found in lower case too
    ('queen', array([2., 0., 0.], dtype=float32))
    """

    def __init__(self, index_to_key: Sequence[str], vectors: np.ndarray, origin: str = "", name: str | None = None,
                 unique_keys: bool = False, cased: bool | None = None):
        vectors = vectors if vectors.dtype == np.float32 else np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise InvalidInput(f"vectors must be 2-D [V, D], got shape {vectors.shape}")
        if len(index_to_key) != vectors.shape[0]:
            raise InvalidInput(f"{len(index_to_key)} keys but {vectors.shape[0]} vectors")
        self.index_to_key = list(index_to_key)
        # unique_keys: the caller vouches that the keys are distinct (a cache written from a Space, a
        # reader that dropped duplicates), so key_to_index waits until a key is first looked up.
        self._key_to_index = None if unique_keys else index_keys(self.index_to_key)
        self.vectors = read_only(vectors)
        self.origin = origin
        self.name = name or origin
        self._cased = cased
        self.postprocessing = ""  # what was done to the vectors after loading (see :meth:`mapped`)
        self._norms: np.ndarray | None = None
        self._extreme = np.empty(0, dtype=np.int64)  # rows scored in float64, found with the norms
        self._inverse: np.ndarray | None = None
        self._unit: np.ndarray | None = None

    # -- the vocabulary -------------------------------------------------------------------
    @property
    def key_to_index(self) -> dict[str, int]:
        """Row of every key (built on first use for spaces made with ``unique_keys=True``)."""
        if self._key_to_index is None:
            self._key_to_index = index_keys(self.index_to_key)
        return self._key_to_index

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` itself is a key, as in gensim (no case folding; ``space[key]`` also tries lower case)."""
        return key in self.key_to_index

    def has_index_for(self, key: str) -> bool:
        """Whether ``key`` itself is a row of the space (gensim's ``has_index_for``)."""
        return key in self.key_to_index

    @property
    def dim(self) -> int:
        """Number of dimensions D."""
        return self.vectors.shape[1]

    def __repr__(self) -> str:
        return f"Space({self.name!r}, {len(self)} keys x {self.dim} dims)"

    @property
    def cased(self) -> bool:
        """Whether case tells keys apart (see the ``cased`` parameter); settable by the space's loader."""
        if self._cased is None:
            self._cased = any(key != key.lower() for key in self.index_to_key)
        return self._cased

    @cased.setter
    def cased(self, value: bool) -> None:
        self._cased = bool(value)

    def find(self, word: str) -> str | None:
        """The key a typed ``word`` stands for (the word itself if it is a key, else its lower-case form), or None."""
        if word in self.key_to_index:
            return word
        folded = word.lower()
        return folded if folded in self.key_to_index else None

    def resolve(self, word: str) -> str:
        """:meth:`find`, raising :class:`UnknownKeyError` (naming up to 5 close keys) where it gives None."""
        key = self.find(word)
        if key is None:
            raise UnknownKeyError(word, self.index_to_key, self.name)
        return key

    def lookup_note(self, word: str) -> str | None:
        """A line telling the user how ``word`` was read, when it was not read as typed; else None.

        Examples
        --------
        >>> space = Space(["Paris", "paris", "rome"], np.eye(3), name="cities")
        >>> space.lookup_note("Rome"), space.lookup_note("Paris")
        ("'Rome' is not in space 'cities'; using 'rome'", None)
        """
        key = self.resolve(word)
        if key != word and self.cased:
            return f"{word!r} is not in space {self.name!r}; using {key!r}"
        return None

    def get_index(self, key: str) -> int:
        """Row of ``key`` (or of its lower-case form, see :meth:`resolve`); raises :class:`UnknownKeyError`."""
        return self.key_to_index[self.resolve(key)]

    def indices(self, keys: Iterable[str]) -> np.ndarray:
        """Rows of ``keys`` as an int64 array [n]; the first unknown key raises."""
        return np.array([self.get_index(k) for k in keys], dtype=np.int64)

    def __getitem__(self, keys: str | Sequence[str]) -> np.ndarray:
        """The raw vector of one key [D], or of a list of keys [n, D] (copies, float32)."""
        if isinstance(keys, str):
            return np.array(self.vectors[self.get_index(keys)])
        return self.vectors[self.indices(keys)]

    # -- normalised rows --------------------------------------------------------------------
    @property
    def norms(self) -> np.ndarray:
        """L2 norm of every row [V] float64, computed once, chunk by chunk (no [V, D] temporary).

        True even for rows beyond float32's range (see :func:`embedspace.norms.row_norms`).
        """
        if self._norms is None:
            squares = np.empty(len(self), dtype=np.float32)
            step = chunk_rows(self.dim)
            for start in range(0, len(self), step):
                squares[start : start + step] = sum_squares(self.vectors[start : start + step])
            self._keep_norms(*norms_from_squares(squares, self.vectors))
        return self._norms

    def _keep_norms(self, norms: np.ndarray, extreme: np.ndarray) -> None:
        """Keep ``norms`` [V] and the ``extreme`` rows [m] of :func:`~embedspace.norms.norms_from_squares`.

        Scaling an extreme row by its float32 inverse norm is inexact, and its products with a
        query may overflow; :meth:`unit_vectors` and :meth:`cosine_scores` redo those rows in float64.
        """
        self._norms = read_only(norms)
        self._extreme = extreme

    @property
    def unit_vectors(self) -> np.ndarray:
        """All rows scaled to unit length [V, D], computed once, in chunks into one array.

        This doubles the memory of a space; queries on huge spaces use
        :meth:`cosine_scores`, which needs only :attr:`norms`.
        """
        if self._unit is None:
            unit = np.empty(self.vectors.shape, dtype=np.float32)
            inverse = self.inverse_norms
            step = chunk_rows(self.dim)
            for start in range(0, len(self), step):
                np.multiply(self.vectors[start : start + step], inverse[start : start + step, None],
                            out=unit[start : start + step])
            unit[self._extreme] = unit_rows(self.vectors[self._extreme])  # [m, D], scaled in float64
            self._unit = read_only(unit)
        return self._unit

    @property
    def inverse_norms(self) -> np.ndarray:
        """1 / norm for every row [V] float32, computed once; zero rows get 0 (their cosine with anything is 0).

        Extreme rows (:func:`~embedspace.norms.norms_from_squares`) get an inexact value; the queries here redo them.
        """
        if self._inverse is None:
            self._inverse = read_only(inverse(self.norms))
        return self._inverse

    def unit(self, keys: str | Sequence[str]) -> np.ndarray:
        """Unit-length vectors of one key [D] or of a list of keys [n, D]."""
        return unit_rows(self[keys])

    # -- queries ------------------------------------------------------------------------------
    def cosine_scores(self, query: np.ndarray, restrict_vocab: int | None = None) -> np.ndarray:
        """Cosine of every row with each query: [D] -> [V] or [Q, D] -> [Q, V].

        Queries need not be unit length; their own norm is divided out. Once the row norms are
        known this is one matrix product over the rows, on the BLAS threads
        :func:`runtime.threads.blas_threads_for` grants it. The first full query on a fresh
        space instead walks cache-sized chunks and computes the norms in the same pass, so a
        memory-mapped matrix is read once and no [V, D] temporary exists. Extreme rows
        (:func:`~embedspace.norms.norms_from_squares`) are scored again from unit rows scaled in float64.
        """
        query = np.asarray(query, dtype=np.float32)
        single = query.ndim == 1
        queries = unit_rows(query[None, :] if single else query)  # [Q, D]
        n_rows = len(self) if restrict_vocab is None else min(restrict_vocab, len(self))
        if self._norms is None and n_rows == len(self):
            scores = self._first_cosine_scores(queries)
        else:
            scores = np.empty((queries.shape[0], n_rows), dtype=np.float32)
            shape = (queries.shape[0], self.dim, n_rows)
            with blas_threads_for(matmul_flops(*shape), matmul_bytes(*shape)), np.errstate(over="ignore"):
                np.matmul(queries, self.vectors[:n_rows].T, out=scores)  # [Q, D] @ [D, R] -> [Q, R]
            with np.errstate(invalid="ignore"):  # inf * 0 where an extreme row overflowed: scored again below
                scores *= self.inverse_norms[:n_rows]
        extreme = self._extreme[self._extreme < n_rows]  # [m]
        if extreme.size:
            scores[:, extreme] = queries @ unit_rows(self.vectors[extreme]).T  # [Q, D] @ [D, m] -> [Q, m]
        return scores[0] if single else scores

    def _first_cosine_scores(self, queries: np.ndarray) -> np.ndarray:
        """Unit ``queries`` [Q, D] against every row [Q, V], computing :attr:`norms` in the same pass."""
        squares = np.empty(len(self), dtype=np.float32)
        scores = np.empty((queries.shape[0], len(self)), dtype=np.float32)
        step = chunk_rows(self.dim, cache_sized=True)
        with np.errstate(over="ignore"):  # extreme rows may overflow: scored again by the caller
            for start in range(0, len(self), step):
                block = self.vectors[start : start + step]  # [n, D]
                squares[start : start + step] = sum_squares(block)
                np.matmul(queries, block.T, out=scores[:, start : start + step])  # [Q, D] @ [D, n] -> [Q, n]
        self._keep_norms(*norms_from_squares(squares, self.vectors))
        with np.errstate(invalid="ignore"):
            scores *= self.inverse_norms  # [Q, V] * [V]
        return scores

    def similar_by_vector(self, vector: np.ndarray, topn: int = 10, exclude: Iterable[str] = (),
                          restrict_vocab: int | None = None, keep=None) -> list[tuple[str, float]]:
        """The ``topn`` keys most cosine-similar to ``vector``, best first, as ``(key, score)``.

        Keys in ``exclude``, and those for which ``keep(key)`` is false, are left out; ties keep
        vocabulary (frequency) order.
        """
        return queries.best_keys(self, self.cosine_scores(vector, restrict_vocab), exclude, topn, keep)

    def most_similar(self, positive=(), negative=(), topn: int = 10, method: str = "add",
                     restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """The keys that best answer ``positive`` minus ``negative``, best first: gensim's ``most_similar``.

        Parameters
        ----------
        positive, negative : str, ndarray [D], or a list of them or of ``(key or vector, weight)`` pairs
            Terms added and subtracted. A weighted negative term is subtracted (``("man", 0.5)``
            contributes ``-0.5 * man``; gensim 4 would add it).
        topn : int
            How many keys to return (fewer than 1: none).
        method : {"add", "mul"}
            ``"add"`` (3CosAdd, gensim ``most_similar``): cosine with the weighted mean of the keys'
            unit vectors (vectors as given), scaled to unit length. ``"mul"`` (3CosMul, gensim
            ``most_similar_cosmul``): the product of ``(1 + cos) / 2`` over the positive terms divided
            by that over the negative terms plus 1e-6; no weights, vectors taken as directions.
        restrict_vocab : int, optional
            Answer only from the first ``restrict_vocab`` keys (the most frequent in frequency-sorted
            spaces); honoured by both methods (gensim's cosmul ignores it).

        Returns
        -------
        list of (str, float)
            ``(key, score)`` pairs; the input keys are left out; ties keep vocabulary order.

        Raises
        ------
        UnknownKeyError
            For a key not in the space (naming close keys).
        InvalidInput
            For no terms, terms that cancel out, an unknown method, or weights with ``"mul"``.

        Examples
        --------
        >>> space = Space(["king", "man", "woman", "queen"],
        ...               np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32))
        >>> [(k, round(s, 3)) for k, s in space.most_similar(positive=["king", "woman"], negative=["man"], topn=1)]
        [('queen', 0.959)]
        >>> [(k, round(s, 3)) for k, s in space.most_similar(["king", "woman"], ["man"], topn=1, method="mul")]
        [('queen', 1.28)]
        """
        return queries.most_similar(self, positive, negative, topn, method, restrict_vocab)

    # -- derived spaces -----------------------------------------------------------------------
    def derive(self, index_to_key: Sequence[str], vectors: np.ndarray, origin: str | None = None) -> Space:
        """A space like this one (name, case rule, kind) over other rows: distinct keys, [n, D'] vectors."""
        derived = Space(index_to_key, vectors, origin=self.origin if origin is None else origin, name=self.name,
                        unique_keys=True, cased=self._cased)
        derived.postprocessing = self.postprocessing
        return derived

    def mapped(self, transform, note: str) -> Space:
        """This space with ``transform`` ([n, D] -> [n, D] float32) applied to every row, chunk by chunk.

        ``note`` says what was done; it is kept as :attr:`postprocessing` and added to the origin.

        Examples
        --------
        >>> space = Space(["a", "b"], np.array([[1, 2], [3, 4]], dtype=np.float32))
        >>> doubled = space.mapped(lambda rows: 2 * rows, "doubled")
        >>> doubled["b"], doubled.postprocessing
        (array([6., 8.], dtype=float32), 'doubled')
        """
        out = np.empty(self.vectors.shape, dtype=np.float32)
        step = chunk_rows(self.dim)
        for start in range(0, len(self), step):
            out[start : start + step] = transform(np.asarray(self.vectors[start : start + step]))  # [n, D]
        derived = self.derive(self.index_to_key, out, origin=f"{self.origin}; {note}")
        derived.postprocessing = f"{self.postprocessing}; {note}" if self.postprocessing else note
        return derived

    # -- gensim interop -----------------------------------------------------------------------
    @classmethod
    def from_keyed_vectors(cls, kv, origin: str = "gensim KeyedVectors", name: str | None = None) -> Space:
        """A Space sharing the keys and vectors of a gensim ``KeyedVectors``."""
        return cls(kv.index_to_key, kv.vectors, origin=origin, name=name)

    def to_keyed_vectors(self):
        """A gensim ``KeyedVectors`` with the same keys and vectors (imports gensim)."""
        from gensim.models import KeyedVectors

        kv = KeyedVectors(self.dim, dtype=np.float32)
        kv.add_vectors(self.index_to_key, np.array(self.vectors))
        return kv
