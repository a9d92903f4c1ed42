"""One group of corpus lines through an encoder: what a shard holds.

For each line the encoder's hidden states at every layer are pooled into word vectors (the mean of a
word's pieces, as :func:`embedspace.contextual.compare.pool_positions` does), and three things are kept:

- every occurrence of a target that chose the line: its vector [L+1, C], line, token start and pieces;
- the line's intra-sentence similarity per layer (Ethayarajh 2019): the mean cosine between each of its
  words and the mean of its words;
- one word drawn at random from the line (seeded by the line number), for the anisotropy baseline:
  how similar the vectors of any two unrelated words are at each layer.

The output is sorted by line and position, so it does not depend on how the lines were batched: the
local and the Ray engine produce the same shard from the same task.
"""
from __future__ import annotations

import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from embedspace.contextual.occurrences import is_word, read_lines_at, word_spans

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """What a worker needs to turn a task into a shard (plain values: it travels to Ray workers)."""

    corpus: str               # the corpus file
    model: str                # "minilm", "mini" or a mini model folder
    keys: tuple[str, ...]     # the target keys; a shard's word ids index them
    seed: int                 # draws the random baseline word of each line
    batch_size: int           # lines per forward pass


@dataclass(frozen=True)
class ShardTask:
    """One shard's lines: numbers, byte offsets and, per line, the targets that chose it."""

    index: int
    lines: tuple[int, ...]               # [G]
    offsets: tuple[int, ...]             # [G]
    words: tuple[tuple[int, ...], ...]   # [G] target ids per line

    def to_json(self) -> str:
        """The task as one JSON string (a Ray Data row)."""
        return json.dumps([self.index, self.lines, self.offsets, self.words])

    @classmethod
    def from_json(cls, text: str) -> ShardTask:
        """The task :meth:`to_json` wrote."""
        index, lines, offsets, words = json.loads(text)
        return cls(index, tuple(lines), tuple(offsets), tuple(tuple(w) for w in words))


@dataclass
class ShardArrays:
    """What one shard holds (see the module docstring); rows of each group sorted by line."""

    occ_word: np.ndarray      # [n] int32 target id
    occ_line: np.ndarray      # [n] int64 corpus line
    occ_start: np.ndarray     # [n] int32 first token of the word
    occ_pieces: np.ndarray    # [n] int16 tokens in the word
    vectors: np.ndarray       # [n, L+1, C] float32 pooled vectors
    sent_line: np.ndarray     # [s] int64
    sent_text: np.ndarray     # [s] str
    sent_tokens: np.ndarray   # [s] int32 tokens the model saw (specials included)
    intra: np.ndarray         # [s, L+1] float32 intra-sentence similarity
    base_line: np.ndarray     # [m] int64
    base_word: np.ndarray     # [m] str
    base_vectors: np.ndarray  # [m, L+1, C] float32

    @property
    def n_tokens(self) -> int:
        """Tokens the model ran (specials included, padding not)."""
        return int(self.sent_tokens.sum())

    def to_bytes(self) -> bytes:
        """The arrays as an uncompressed ``.npz`` file's bytes (no pickles)."""
        buffer = io.BytesIO()
        np.savez(buffer, **{f.name: getattr(self, f.name) for f in fields(self)})
        return buffer.getvalue()

    @classmethod
    def load(cls, source) -> ShardArrays:
        """Arrays from a ``.npz`` path or its bytes."""
        with np.load(io.BytesIO(source) if isinstance(source, bytes) else source, allow_pickle=False) as npz:
            return cls(**{f.name: npz[f.name] for f in fields(cls)})


def extract_task(encoder, job: Job, task: ShardTask, specials: frozenset[str]) -> ShardArrays:
    """Read the task's lines from the corpus and run them (the one function both engines call)."""
    texts = read_lines_at(job.corpus, task.offsets)
    wanted = [{job.keys[i] for i in ids} for ids in task.words]
    return extract_lines(encoder, texts, task.lines, wanted, job.keys, specials, job.seed, job.batch_size)


def extract_lines(encoder, texts: Sequence[str], lines: Sequence[int], wanted: Sequence[set[str]],
                  keys: Sequence[str], specials: frozenset[str], seed: int, batch_size: int) -> ShardArrays:
    """Run ``texts`` (corpus lines ``lines``) in length-sorted batches and pool what each line needs.

    ``wanted[i]`` holds the target keys whose occurrences line ``i`` contributes.
    """
    key_ids = {key: i for i, key in enumerate(keys)}
    parts = []
    for rows, batch in encoder.batches(list(texts), batch_size):
        hidden = encoder.forward(batch).hidden_states  # L+1 arrays [B, T, C]
        parts.append(pool_batch(hidden, batch.tokens, [texts[r] for r in rows], [lines[r] for r in rows],
                                [wanted[r] for r in rows], key_ids, specials, seed))
    return sort_by_line(concatenate(parts))


def pool_batch(hidden: Sequence[np.ndarray], tokens: Sequence[Sequence[str]], texts: Sequence[str],
               lines: Sequence[int], wanted: Sequence[set[str]], key_ids: dict[str, int],
               specials: frozenset[str], seed: int) -> ShardArrays:
    """One batch's word vectors, split into target occurrences, intra-sentence figures and baseline words."""
    width = hidden[0].shape[1]
    sentence_words = [[s for s in word_spans(t, specials) if is_word(s[0])] for t in tokens]
    spans = [(b, start, stop) for b, words in enumerate(sentence_words) for _, start, stop in words]
    vectors = pool_spans(hidden, spans, width)                       # [n_words, L+1, C]
    counts = np.array([len(w) for w in sentence_words], dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])           # each sentence's first word row
    occ, base = [], []                                              # (row, word id, line, start, pieces)
    for b, words in enumerate(sentence_words):
        if not words:
            log.warning("line %d has no word the model knows; skipped", lines[b])
            continue
        for j, (word, start, stop) in enumerate(words):
            if word in wanted[b]:
                occ.append((first[b] + j, key_ids[word], lines[b], start, stop - start))
        pick = int(np.random.default_rng([seed, int(lines[b])]).integers(len(words)))
        base.append((first[b] + pick, words[pick][0], lines[b]))
    occ_rows = np.array([o[0] for o in occ], dtype=np.int64)
    base_rows = np.array([b[0] for b in base], dtype=np.int64)
    return ShardArrays(
        np.array([o[1] for o in occ], dtype=np.int32), np.array([o[2] for o in occ], dtype=np.int64),
        np.array([o[3] for o in occ], dtype=np.int32), np.array([o[4] for o in occ], dtype=np.int16),
        vectors[occ_rows],
        np.asarray(lines, dtype=np.int64), np.array(list(texts), dtype=np.str_),
        np.array([len(t) for t in tokens], dtype=np.int32),
        intra_similarity(vectors, counts).astype(np.float32),
        np.array([b[2] for b in base], dtype=np.int64), np.array([b[1] for b in base], dtype=np.str_),
        vectors[base_rows])


def pool_spans(hidden: Sequence[np.ndarray], spans: Sequence[tuple[int, int, int]], width: int) -> np.ndarray:
    """Mean of each span's token vectors at every layer: L+1 x [B, T, C], n spans -> [n, L+1, C] float32.

    Examples
    --------
    >>> h = [np.arange(12, dtype=np.float32).reshape(1, 3, 4)]  # 1 layer, 1 text of 3 tokens
    >>> pool_spans(h, [(0, 0, 2), (0, 2, 3)], width=3)[:, 0]
    array([[ 2.,  3.,  4.,  5.],
           [ 8.,  9., 10., 11.]], dtype=float32)
    """
    n_layers, channels = len(hidden), hidden[0].shape[-1]
    if not spans:
        return np.zeros((0, n_layers, channels), dtype=np.float32)
    batch, start, stop = (np.array(column, dtype=np.int64) for column in zip(*spans))
    lengths = stop - start                                             # [n]
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])           # each span's first row in `flat`
    flat = np.arange(lengths.sum()) + np.repeat(batch * width + start - offsets, lengths)  # [pieces]
    out = np.empty((len(spans), n_layers, channels), dtype=np.float32)
    for layer, states in enumerate(hidden):
        rows = states.reshape(-1, channels)[flat]                      # [pieces, C]
        out[:, layer] = np.add.reduceat(rows, offsets, axis=0) / lengths[:, None]
    return out


def intra_similarity(vectors: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per sentence and layer, the mean cosine between its words and their mean: [n, L+1, C] -> [S, L+1].

    ``counts[s]`` words of sentence ``s`` follow one another in ``vectors``; a sentence without words gets NaN.

    Examples
    --------
    >>> v = np.array([[[1.0, 0.0]], [[0.0, 1.0]], [[2.0, 2.0]]])  # 3 words, 1 layer
    >>> intra_similarity(v, np.array([2, 1])).round(4)
    array([[0.7071],
           [1.    ]])
    """
    out = np.full((len(counts), vectors.shape[1]), np.nan)
    if not len(vectors):
        return out
    has = counts > 0
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[has]
    sizes = counts[has][:, None]
    means = np.add.reduceat(vectors, starts, axis=0) / sizes[..., None]                    # [S', L+1, C]
    owner = np.repeat(np.arange(len(starts)), counts[has])                                  # [n]
    dots = np.einsum("nlc,nlc->nl", vectors, means[owner])                                 # [n, L+1]
    norms = np.linalg.norm(vectors, axis=-1) * np.linalg.norm(means, axis=-1)[owner]       # [n, L+1]
    cosines = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
    out[has] = np.add.reduceat(cosines, starts, axis=0) / sizes
    return out


def concatenate(parts: Sequence[ShardArrays]) -> ShardArrays:
    """The rows of several parts, one after another."""
    return ShardArrays(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(ShardArrays)})


def sort_by_line(arrays: ShardArrays) -> ShardArrays:
    """Rows ordered by line (occurrences by line, then position): independent of the batching."""
    occ = np.lexsort((arrays.occ_start, arrays.occ_line))
    sent = np.argsort(arrays.sent_line, kind="stable")
    base = np.argsort(arrays.base_line, kind="stable")
    groups = {"occ_": occ, "vectors": occ, "sent_": sent, "intra": sent, "base_": base}
    return ShardArrays(**{f.name: getattr(arrays, f.name)[next(v for k, v in groups.items() if f.name.startswith(k))]
                          for f in fields(ShardArrays)})
