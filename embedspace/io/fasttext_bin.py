"""fastText's native ``.bin`` model, read by our own code: header, dictionary, input matrix.

Layout (fastText's ``FastText::saveModel``; little-endian):

- magic ``793712314`` and version (11 or 12) as int32, then the args: dim, ws, epoch, minCount, neg,
  wordNgrams, loss, model, bucket, minn, maxn, lrUpdateRate (int32 each) and t (float64). The
  old layout (before version 11) has no magic and no version: it starts with dim;
- the dictionary: size, nwords, nlabels (int32), ntokens (int64), pruneidx_size (int64, new layout
  only; -1 unless fastText quantize pruned the model), then ``size`` entries
  ``word + b"\\0" + count (int64) + type (int8: 0 word, 1 label)``, words first;
- a quantisation flag (one byte, new layout only), then the input matrix: rows and cols (int64)
  and rows x cols float32. Its first ``nwords`` rows belong to the words, the other ``bucket``
  rows to hashed character n-grams (:mod:`embedspace.io.subwords`). The output matrix follows;
  it is not read.

A word's vector is its row averaged with the rows of its n-grams, as fastText's
``getWordVector`` computes it (:func:`embedspace.io.subwords.read_fasttext_bin`). The file is
memory-mapped; a compressed one is decompressed as far as the input matrix, never further than its
header declares.
"""
from __future__ import annotations

import dataclasses
import mmap
import os
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embedspace.errors import FormatError
from embedspace.io.checks import (
    MAX_DIM,
    MAX_KEY_BYTES,
    KeyCodec,
    shorten,
)
from embedspace.io.detect import FASTTEXT_MAGIC, FASTTEXT_VERSIONS
from embedspace.io.streams import READ_CHUNK, Source
from runtime.files import atomic_file

ARGS = struct.Struct("<12id")  # dim ws epoch minCount neg wordNgrams loss model bucket minn maxn lrUpdateRate t
DICT_HEAD = struct.Struct("<3iq")  # size nwords nlabels ntokens (then pruneidx_size, int64, in the new layout)
ENTRY_TAIL = 9  # after each entry's b"\0": count (int64) and type (int8)
SUPERVISED = 3  # the ``model`` arg of a supervised (classifier) model


@dataclasses.dataclass(frozen=True)
class FastTextModel:
    """What a native .bin declares, and where its input matrix lies."""

    dim: int  # vector size D
    minn: int  # shortest character n-gram (in characters)
    maxn: int  # longest character n-gram (0: none)
    bucket: int  # number of hashed n-gram rows
    words: tuple[bytes, ...]  # the nwords words' bytes, in row order
    rows: int  # rows of the input matrix: nwords + bucket
    offset: int  # byte offset of the input matrix's first value
    skip_eos: bool  # version 12 on: "</s>" has no n-grams (fastText commit ebbd3bf, 2017)

    @property
    def nwords(self) -> int:
        """Number of words (their rows come first in the input matrix)."""
        return len(self.words)

    @property
    def ngram_rows(self) -> int:
        """Number of n-gram rows after the words' rows."""
        return self.rows - self.nwords


class Buffer:
    """The file's bytes: a complete map, or a decompressed stream read further only on demand."""

    def __init__(self, source: Source):
        self.source = source
        self.stream = source.stream if source.compression is not None else None
        self.data = bytearray() if self.stream is not None else mmap.mmap(source.raw.fileno(), 0, access=mmap.ACCESS_READ)

    def ensure(self, end: int) -> bool:
        """Make bytes ``[0, end)`` available if the file has them; True when it does."""
        while len(self.data) < end and self.stream is not None:
            chunk = self.stream.read(min(READ_CHUNK, end - len(self.data)))
            if not chunk:
                self.stream = None
                break
            self.data += chunk
        return len(self.data) >= end

    def need(self, end: int, what: str) -> None:
        """Like :meth:`ensure`, but a file that ends first is a FormatError naming ``what``."""
        if not self.ensure(end):
            raise FormatError(self.source.path, f"truncated: the file ends inside {what}")

    def close(self) -> None:
        """Unmap the file (a map that a view still uses, as an exception's traceback may, goes with the view)."""
        if isinstance(self.data, mmap.mmap):
            try:
                self.data.close()
            except BufferError:
                pass


def parse_model(buffer: Buffer) -> FastTextModel:
    """The header, dictionary and input-matrix position of the .bin in ``buffer``."""
    path = buffer.source.path
    buffer.need(8 + ARGS.size, "the header")
    magic, version = struct.unpack_from("<2i", buffer.data)
    new = magic == FASTTEXT_MAGIC and version in FASTTEXT_VERSIONS
    start = 8 if new else 0
    dim, _ws, _epoch, _count, _neg, _ngrams, _loss, model, bucket, minn, maxn, _rate, _t = ARGS.unpack_from(buffer.data, start)
    if not 0 < dim <= MAX_DIM or bucket < 0 or not 0 <= minn <= 1000 or not 0 <= maxn <= 1000:
        raise FormatError(path, f"not a fastText model: implausible header (dim {dim}, bucket {bucket}, "
                                f"minn {minn}, maxn {maxn})")
    if new and version == 11 and model == SUPERVISED:
        maxn = 0  # fastText: supervised models of version 11 used no character n-grams
    position = start + ARGS.size
    words, position = parse_dictionary(buffer, position, new)
    model = matrix_position(buffer, position, new, dim, minn, maxn, bucket, words)
    return dataclasses.replace(model, skip_eos=new and version >= 12)


def parse_dictionary(buffer: Buffer, position: int, new: bool) -> tuple[tuple[bytes, ...], int]:
    """The words (labels dropped) and the position after the dictionary."""
    path = buffer.source.path
    buffer.need(position + DICT_HEAD.size + 8 * new, "the dictionary's header")
    size, nwords, nlabels, _tokens = DICT_HEAD.unpack_from(buffer.data, position)
    position += DICT_HEAD.size
    if new:
        (prune_size,) = struct.unpack_from("<q", buffer.data, position)
        position += 8
        if prune_size != -1:  # only fastText quantize prunes, and its models are refused anyway
            raise FormatError(path, f"a pruned model (pruning index of {prune_size}; fastText quantize -cutoff): "
                                    "not supported; use the model's .bin or .vec")
    if nwords < 0 or nlabels < 0 or size != nwords + nlabels:
        raise FormatError(path, f"damaged dictionary header: {size} entries, {nwords} words, {nlabels} labels")
    return parse_entries(buffer, position, size, nwords)


def parse_entries(buffer: Buffer, position: int, size: int, nwords: int) -> tuple[tuple[bytes, ...], int]:
    """The bytes of the first ``nwords`` of ``size`` dictionary entries, checked; the position after them.

    One tight loop finds where each word ends; the entry types are checked afterwards, all at once.
    """
    first, ends = position, []
    data = buffer.data
    find, last = data.find, len(data) - 1 - ENTRY_TAIL
    for index in range(size):
        end = find(b"\0", position, position + MAX_KEY_BYTES)
        if end < 0 or end > last:  # not all there yet (a compressed file), or damaged
            end = entry_end(buffer, position, index, size)
            data = buffer.data
            find, last = data.find, len(data) - 1 - ENTRY_TAIL
        ends.append(end)
        position = end + 1 + ENTRY_TAIL
    ends = np.array(ends, dtype=np.int64)  # [size]
    starts = np.concatenate(([first], ends[:-1] + 1 + ENTRY_TAIL))  # [size]
    kinds = np.array([data[i] for i in (ends + ENTRY_TAIL).tolist()], dtype=np.int64)  # [size]
    wrong = np.flatnonzero(kinds != (np.arange(size) >= nwords))
    if len(wrong):
        index = int(wrong[0])
        raise FormatError(buffer.source.path, f"damaged dictionary entry {index + 1} "
                                              f"({shorten(bytes(data[starts[index]:ends[index]]))}): type {kinds[index]}, "
                                              f"expected {'a word' if index < nwords else 'a label'}")
    words = tuple(bytes(data[start:end]) for start, end in zip(starts[:nwords].tolist(), ends[:nwords].tolist()))
    return words, position


def entry_end(buffer: Buffer, position: int, index: int, size: int) -> int:
    """Where entry ``index``'s word ends, reading more of a compressed file as needed; FormatError if it cannot."""
    path = buffer.source.path
    while True:
        data = buffer.data
        end = data.find(b"\0", position, position + MAX_KEY_BYTES)
        if 0 <= end <= len(data) - 1 - ENTRY_TAIL:
            return end
        before = len(data)
        if end < 0 and before > position + MAX_KEY_BYTES:
            raise FormatError(path, f"damaged dictionary entry {index + 1}: a word longer than {MAX_KEY_BYTES} bytes")
        buffer.ensure(before + READ_CHUNK)
        if len(buffer.data) == before:
            raise FormatError(path, f"truncated: the file ends inside dictionary entry {index + 1} of {size}")


def matrix_position(buffer: Buffer, position: int, new: bool, dim: int, minn: int, maxn: int, bucket: int,
                    words: tuple[bytes, ...]) -> FastTextModel:
    """Check the input matrix's header and size against the args and the file; return the model."""
    path = buffer.source.path
    buffer.need(position + new + 16, "the input matrix's header")
    if new and buffer.data[position]:
        raise FormatError(path, "a quantized model (fastText quantize, usually .ftz): not supported; use the "
                                "model's .bin or .vec")
    position += new
    rows, cols = struct.unpack_from("<2q", buffer.data, position)
    position += 16
    if cols != dim or rows != len(words) + bucket:
        raise FormatError(path, f"input matrix is {rows} x {cols}; the header implies {len(words) + bucket} x {dim} "
                                f"({len(words)} words + {bucket} n-gram buckets)")
    buffer.need(position + 4 * rows * cols, f"the input matrix ({rows} x {cols} float32)")
    return FastTextModel(dim, minn, maxn if bucket else 0, bucket, words, rows, position, True)


def input_matrix(buffer: Buffer, model: FastTextModel) -> np.ndarray:
    """The input matrix [rows, D] as rows of raw bytes (a view of the file; any alignment)."""
    row = np.dtype((np.void, 4 * model.dim))
    return np.frombuffer(buffer.data, dtype=row, count=model.rows, offset=model.offset)


def decode_words(source: Source, words: tuple[bytes, ...], codec: KeyCodec) -> list[str]:
    """The words as text; one that does not decode or holds a line break is named.

    A word may be empty: fastText keeps one in models trained with pretrained vectors.
    """
    try:
        text = b"\0".join(words).decode(codec.encoding, codec.unicode_errors)
    except UnicodeDecodeError:
        text = None
    keys = [] if text is None else text.split("\0")
    if len(keys) == len(words) and "\n" not in text:
        return keys
    keys = []
    for number, raw in enumerate(words, start=1):
        try:
            key = codec.decode(raw)
        except UnicodeDecodeError as error:
            raise FormatError(source.path, f"bad {codec.label} in word {shorten(raw)}: {error.reason} "
                                           f"({codec.hint()})", record=number) from None
        if "\n" in key:
            raise FormatError(source.path, f"bad word {shorten(raw)}: holds a line break", record=number)
        keys.append(key)
    return keys


def write_fasttext_bin(path: str | os.PathLike, words: Sequence[str], matrix: np.ndarray, *, minn: int = 3,
                       maxn: int = 6, bucket: int | None = None, output: np.ndarray | None = None,
                       encoding: str = "utf-8") -> Path:
    """Write a native fastText .bin (version 12, unsupervised skip-gram) with input ``matrix`` [V + bucket, D].

    ``output`` [V, D] is the output matrix (zeros if not given; only training reads it). Word counts
    are written in decreasing order, as fastText sorts its dictionary.

    Examples
    --------
    >>> import tempfile
    >>> from embedspace.io.formats import read_vectors
    >>> path = Path(tempfile.mkdtemp()) / "m.bin"
    >>> _ = write_fasttext_bin(path, ["cat", "dog"], np.eye(4, 2, dtype=np.float32), minn=3, maxn=3, bucket=2)
    >>> read_vectors(path)[0]
    ['cat', 'dog']
    """
    rows, dim = matrix.shape
    bucket = rows - len(words) if bucket is None else bucket
    if rows != len(words) + bucket:
        raise ValueError(f"the input matrix needs {len(words)} + {bucket} rows, got {rows}")
    output = np.zeros((len(words), dim), dtype=np.float32) if output is None else output
    with atomic_file(path) as out:
        out.write(struct.pack("<2i", FASTTEXT_MAGIC, 12))
        out.write(ARGS.pack(dim, 5, 5, 1, 5, 1, 2, 2, bucket, minn, maxn, 100, 1e-4))  # ns loss, skip-gram
        out.write(DICT_HEAD.pack(len(words), len(words), 0, len(words)) + struct.pack("<q", -1))
        for count, word in zip(range(len(words), 0, -1), words):
            out.write(word.encode(encoding) + b"\0" + struct.pack("<qb", count, 0))
        for array in (matrix, output):
            out.write(b"\0" + struct.pack("<2q", *array.shape))
            for start in range(0, len(array), 1 << 16):
                out.write(np.ascontiguousarray(array[start:start + (1 << 16)], dtype="<f4").tobytes())
    return Path(path)
