"""fastText's character n-grams: word vectors from a native model, and vectors for any other word.

fastText represents a word by its own input row plus the rows of its character n-grams: the
substrings of ``"<" + word + ">"`` of ``minn`` to ``maxn`` characters (UTF-8 characters, counted as
fastText counts them: a byte that is not a continuation byte starts one), each hashed with 32-bit
FNV-1a (bytes sign-extended, as fastText's C++ does) into one of ``bucket`` rows. A word's vector
is the mean of those rows (``FastText::getWordVector``); a word outside the vocabulary has no row
of its own, and gets the mean of its n-grams' rows (zero when it has none). ``</s>``, fastText's
end-of-line word, has no n-grams in models of version 12 on (older ones gave it some). Words are hashed as the file's bytes, so a model trained on
text in another encoding is read as it was trained.

:func:`ngram_hashes` computes every n-gram hash of many words at once with numpy (no per-word
Python loop); :func:`compose` averages the rows of many words at once, in fastText's order.
:class:`FastTextSubwords` gives the vectors of any words of a model (:meth:`~FastTextSubwords.vectors`),
the :class:`~embedspace.io.open_vocabulary.Reader` of a space read from a ``.bin``
(an :class:`~embedspace.io.open_vocabulary.OpenVocabularySpace`).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embedspace.errors import FormatError, InvalidInput
from embedspace.io.checks import UTF8, Allocate, KeyCodec, Progress, check_finite, check_not_empty, in_memory
from embedspace.io.fasttext_bin import Buffer, FastTextModel, decode_words, input_matrix, parse_model
from embedspace.io.streams import Source, open_source

FNV_OFFSET = np.uint32(2166136261)
FNV_PRIME = np.uint32(16777619)
EOS = b"</s>"  # fastText's end-of-line word: no n-grams
HASH_WORDS = 1 << 15  # words hashed at a time (bounds the [chars, maxn] work arrays)
SUM_BYTES = 1 << 20  # the sums of a block of words take about this much (they stay in the CPU cache)


def ngram_hashes(words: Sequence[bytes], minn: int, maxn: int, skip_eos: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The FNV-1a hash of every character n-gram of each word, in fastText's order.

    Returns ``counts`` [W] (n-grams per word) and ``hashes`` [sum(counts)] uint32: word by word,
    by start character, then by length, as ``Dictionary::computeSubwords`` emits them.
    ``skip_eos``: ``</s>`` gets none (fastText's models of version 12 on).

    Examples
    --------
    >>> counts, hashes = ngram_hashes([b"ab"], 3, 3)  # "<ab>": "<ab", "ab>"
    >>> counts.tolist(), hashes.tolist() == [fnv1a(b"<ab"), fnv1a(b"ab>")]
    ([2], True)
    """
    if not len(words):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
    data = np.frombuffer(b"<" + b"><".join(words) + b">", dtype=np.uint8)  # [B]
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words)) + 2  # [W]
    word_start = np.cumsum(lengths) - lengths  # [W] byte offset of each "<"
    starts = np.flatnonzero((data & 0xC0) != 0x80)  # [C] byte offset of each character
    widths = np.diff(starts, append=len(data))  # [C] bytes of each character
    first = np.searchsorted(starts, word_start)  # [W] index of each word's "<" character
    last = np.append(first[1:], len(starts)) - 1  # [W] index of each word's ">"
    char_word = np.repeat(np.arange(len(words)), last - first + 1)  # [C]
    span = last[char_word] - np.arange(len(starts)) + 1  # [C] characters from each one to its word's end
    opens = np.zeros(len(starts), dtype=bool)  # [C] the "<" of each word
    opens[first] = True
    signed = data.astype(np.uint32) | np.where(data >= 0x80, np.uint32(0xFFFFFF00), np.uint32(0))  # [B]
    maxn = min(maxn, int(span.max()))  # no n-gram is longer than the longest "<word>"
    table = np.zeros((len(starts), max(maxn, 1)), dtype=np.uint32)  # [C, maxn]: hash of (start, length)
    found = np.zeros(table.shape, dtype=bool)  # [C, maxn]
    skip = np.fromiter((skip_eos and w == EOS for w in words), dtype=bool, count=len(words))
    alive = np.flatnonzero(~skip[char_word])  # [A] start characters of n-grams still growing
    left = span[alive]  # [A] characters each can still grow by
    state = np.full(len(alive), FNV_OFFSET, dtype=np.uint32)  # [A]
    multibyte = bool((widths > 1).any())
    for n in range(1, maxn + 1):
        keep = left >= n
        if not keep.all():
            alive, state, left = alive[keep], state[keep], left[keep]
        tail = alive + (n - 1)  # [A] the n-th character of each n-gram
        state ^= signed[starts[tail]]
        state *= FNV_PRIME
        if multibyte:
            add_continuation_bytes(state, signed, starts[tail], widths[tail])
        if n >= minn:
            emit = ~opens[alive] & (left != 1) if n == 1 else slice(None)  # "<" or ">" alone is no n-gram
            table[alive[emit], n - 1] = state[emit]
            found[alive[emit], n - 1] = True
    counts = np.bincount(char_word, weights=found.sum(axis=1), minlength=len(words)).astype(np.int64)
    return counts, table[found]


def add_continuation_bytes(state: np.ndarray, signed: np.ndarray, start: np.ndarray, width: np.ndarray) -> None:
    """Fold the bytes after the first of each n-gram's next character (``signed[start + 1: start + width]``)."""
    rows = np.flatnonzero(width > 1)
    offset = 1
    while len(rows):
        state[rows] = (state[rows] ^ signed[start[rows] + offset]) * FNV_PRIME
        offset += 1
        rows = rows[width[rows] > offset]


def fnv1a(data: bytes) -> int:
    """fastText's hash of ``data``: 32-bit FNV-1a over its bytes, each sign-extended first.

    Examples
    --------
    >>> fnv1a(b""), fnv1a(b"a")
    (2166136261, 3826002220)
    """
    h = 2166136261
    for byte in data:
        h = ((h ^ (byte | 0xFFFFFF00 if byte >= 0x80 else byte)) * 16777619) & 0xFFFFFFFF
    return h


def ngram_rows(model: FastTextModel, words: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """``counts`` [W] and the input-matrix rows [sum(counts)] of the n-grams of ``words``."""
    if model.maxn == 0:
        return np.zeros(len(words), dtype=np.int64), np.zeros(0, dtype=np.int64)
    counts, hashes = ngram_hashes(words, model.minn, model.maxn, model.skip_eos)
    return counts, model.nwords + (hashes % np.uint32(model.bucket)).astype(np.int64)


def compose(matrix: np.ndarray, counts: np.ndarray, rows: np.ndarray, own: np.ndarray | None,
            out: np.ndarray) -> None:
    """``out[i]`` = mean of word i's rows of ``matrix``: its own row ``own[i]`` (if given), then its n-grams.

    ``matrix`` is [R] rows of raw bytes (see :func:`~embedspace.io.fasttext_bin.input_matrix`);
    ``rows`` lists the n-gram rows word by word (``counts[i]`` each). Each word's rows are added
    one after the other in float32, then divided by their number, exactly as fastText's
    ``getWordVector`` and gensim's ``adjust_vectors`` do (so the results agree to the bit); a word
    with no rows gets zeros. Words go in blocks whose sums stay in the CPU cache (:func:`mean_rows`).
    """
    sizes = counts + (own is not None)  # [W] rows averaged per word
    ends = np.cumsum(sizes)
    order = np.empty(int(ends[-1]) if len(ends) else 0, dtype=np.int64)  # [K] every row, word by word
    heads = ends - sizes  # [W] where each word's rows start in order
    if own is not None:
        order[heads] = own
        tails = np.ones(len(order), dtype=bool)
        tails[heads] = False
        order[tails] = rows
    else:
        order[:] = rows
    step = max(1, SUM_BYTES // (4 * out.shape[1]))
    with np.errstate(over="ignore", invalid="ignore"):  # NaN or inf in a damaged file: the caller checks
        for start in range(0, len(sizes), step):
            block = slice(start, start + step)
            mean_rows(matrix, order, heads[block], sizes[block], out[block])


def mean_rows(matrix: np.ndarray, order: np.ndarray, heads: np.ndarray, sizes: np.ndarray, out: np.ndarray) -> None:
    """``out[i]`` [W, D] = the float32 mean of rows ``order[heads[i]: heads[i] + sizes[i]]``, added in order.

    Words are taken longest first, so that the words still adding at step j are a prefix: each
    step is one gather and one add over contiguous rows.
    """
    longest = np.argsort(-sizes, kind="stable")  # [W]
    sizes, heads = sizes[longest], heads[longest]
    adding = len(sizes) - np.cumsum(np.bincount(sizes, minlength=1))  # adding[j]: words with more than j rows
    total = np.zeros(out.shape, dtype=np.float32)  # [W, D]
    for j in range(int(sizes[0]) if len(sizes) else 0):
        m = int(adding[j])
        if j == 0:
            total[:m] = rows_of(matrix, order[heads[:m]])  # 0 + x is x: the first rows need no add
        else:
            total[:m] += rows_of(matrix, order[heads[:m] + j])  # [m, D]
    filled = sizes > 0
    total[filled] /= sizes[filled, None].astype(np.float32)
    out[longest] = total


def rows_of(matrix: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Rows ``index`` of a raw-bytes matrix as float32 [n, D] (a copy: aligned whatever the file's offset)."""
    return np.take(matrix, index).view(np.float32).reshape(len(index), -1)  # take: 3x faster than matrix[index]


def compose_word_vectors(model: FastTextModel, matrix: np.ndarray, start: int, n: int, out: np.ndarray,
                         progress: Progress | None = None, total: int = 0) -> None:
    """``out`` [n, D] = the vectors of the model's words ``start ... start + n`` (own row and n-grams)."""
    for first in range(start, start + n, HASH_WORDS):
        stop = min(start + n, first + HASH_WORDS)
        counts, rows = ngram_rows(model, model.words[first:stop])
        compose(matrix, counts, rows, np.arange(first, stop), out[first - start:stop - start])
        if progress is not None and stop < start + n:
            progress(int(total * (stop - start) / n), total)


def read_fasttext_bin(source: Source, limit: int | None = None, allocate: Allocate = in_memory,
                      progress: Progress | None = None, codec: KeyCodec = UTF8) -> tuple[list[str], np.ndarray]:
    """The words of a native fastText model and their vectors [V, D] (word row and n-grams averaged)."""
    buffer = Buffer(source)
    try:
        model = parse_model(buffer)
        n = model.nwords if limit is None else min(model.nwords, limit)
        keys = decode_words(source, model.words[:n], codec)
        check_not_empty(source.path, keys, model.dim)
        vectors = allocate((n, model.dim))
        compose_word_vectors(model, input_matrix(buffer, model), 0, n, vectors, progress, source.size)
        check_finite(source.path, vectors, where="record")
    finally:
        buffer.close()
    return keys, vectors


class FastTextSubwords:
    """The vector of any word under a native fastText model: its own row and n-grams, or n-grams alone.

    The :class:`~embedspace.io.open_vocabulary.Reader` of a space read from a ``.bin`` (see
    :class:`embedspace.io.open_vocabulary.OpenVocabularySpace`). The file is opened, memory-mapped and its
    dictionary read on first use (a cached space reloads without it); a file changed since this
    object was made is refused rather than mixed with the cached vectors.

    Parameters
    ----------
    path : path
        The model's ``.bin`` (possibly compressed).
    encoding, unicode_errors : str
        The encoding of the model's words (query words are encoded with it, as fastText saw them).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from embedspace.io.fasttext_bin import write_fasttext_bin
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.bin"
    >>> _ = write_fasttext_bin(path, ["cat"], np.ones((1 + 8, 2), np.float32), minn=3, maxn=4, bucket=8)
    >>> FastTextSubwords(path).vectors(["cat", "cats"]).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """

    def __init__(self, path: str | os.PathLike, *, encoding: str = "utf-8", unicode_errors: str = "strict"):
        self.path = Path(path)
        self.codec = KeyCodec(encoding, unicode_errors)
        self.stamp = file_identity(self.path)
        self._buffer: Buffer | None = None
        self._model: FastTextModel | None = None
        self._rows: dict[bytes, int] | None = None
        self._context = None

    def open(self) -> FastTextModel:
        """The model, read on first use."""
        if self._model is None:
            if file_identity(self.path) != self.stamp:
                raise FormatError(self.path, "changed since its space was loaded; load the space again")
            self._context = open_source(self.path)
            source = self._context.__enter__()
            try:
                self._buffer = Buffer(source)
                self._model = parse_model(self._buffer)
            except BaseException:
                self.close()
                raise
            self._rows = {word: row for row, word in enumerate(self._model.words)}
        return self._model

    @property
    def dim(self) -> int:
        """Number of dimensions D."""
        return self.open().dim

    def readable(self, word: str) -> bool:
        """True when ``word`` is in the model or has at least one n-gram row."""
        counts, _ = ngram_rows(self.open(), [self.encode(word)])
        return bool(counts[0]) or self.encode(word) in self._rows

    def vectors(self, words: Sequence[str]) -> np.ndarray:
        """The vectors [n, D] of ``words``, as fastText's ``getWordVector`` gives them."""
        model = self.open()
        raw = [self.encode(word) for word in words]
        own = np.array([self._rows.get(word, -1) for word in raw], dtype=np.int64)
        out = np.empty((len(raw), model.dim), dtype=np.float32)
        matrix = input_matrix(self._buffer, model)
        for known in (True, False):
            chosen = np.flatnonzero((own >= 0) == known)
            if len(chosen):
                counts, rows = ngram_rows(model, [raw[i] for i in chosen])
                composed = np.empty((len(chosen), model.dim), dtype=np.float32)
                compose(matrix, counts, rows, own[chosen] if known else None, composed)
                out[chosen] = composed
        return out

    def encode(self, word: str) -> bytes:
        """``word`` in the model's encoding."""
        try:
            return word.encode(self.codec.encoding)
        except UnicodeEncodeError:
            raise InvalidInput(f"{word!r} cannot be written in {self.codec.encoding}, the encoding of {self.path}") from None

    def close(self) -> None:
        """Release the memory map (the next lookup opens the file again)."""
        if self._buffer is not None:
            self._buffer.close()
        if self._context is not None:
            self._context.__exit__(None, None, None)
        self._buffer = self._model = self._rows = self._context = None


def file_identity(path: Path) -> tuple[int, int, int, int]:
    """What changes when a file is replaced or rewritten: inode, size, mtime and ctime (ns)."""
    status = os.stat(path)
    return status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns
