"""Static spaces distilled from contextual vectors (Bommasani et al., ACL 2020; Ethayarajh, EMNLP 2019).

Each target word of a run becomes one static vector per layer, pooled over its occurrences:

- ``mean``: the mean of its occurrence vectors (Bommasani et al.'s best pooling);
- ``pc1``: their first principal direction (uncentred, as for the MEV; Ethayarajh's static embeddings),
  signed to agree with the mean.

For comparison, :func:`isolated_spaces` gives the *isolated-word* vectors (the word alone, ``[CLS] word
[SEP]``, pooled over its pieces at each layer) and :func:`evaluation_table` measures any spaces on the
analogy and word-similarity sets gensim ships, all restricted to their common vocabulary so that each
is asked the same questions with the same candidate answers.

Example
-------
>>> import tempfile, pathlib
>>> from embedspace.contextual.engines import extract_occurrences
>>> corpus = pathlib.Path(tempfile.mkdtemp()) / "c.txt"
>>> _ = corpus.write_text("the river bank\\nthe king and the queen\\na bank of the river\\n")
>>> run = extract_occurrences(corpus, ["bank", "river", "king"], "mini", folder=corpus.parent / "run")
>>> space = distill_space(run, layer=2)
>>> space.index_to_key, space.dim
(['bank', 'river', 'king'], 128)
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from embedspace.contextual.encoders import check_layer
from embedspace.contextual.extraction import pool_spans
from embedspace.contextual.occurrences import is_word, specials_of, word_spans
from embedspace.contextual.shards import RunFolder
from embedspace.errors import InvalidInput
from embedspace.space import Space

log = logging.getLogger(__name__)

POOLS = ("mean", "pc1")
EVALUATIONS = ("questions-words", "simlex999", "wordsim353")


def pooled_sums(run: RunFolder) -> tuple[np.ndarray, np.ndarray]:
    """Sum of each target's occurrence vectors at every layer [W, L+1, C] (float64) and their counts [W]."""
    manifest = run.require()
    n_words, layers, width = len(run.keys), manifest["encoder"]["layers"] + 1, manifest["encoder"]["width"]
    sums, counts = np.zeros((n_words, layers, width)), np.zeros(n_words, dtype=np.int64)
    for shard in run.shards():
        if not len(shard.occ_word):
            continue
        order = np.argsort(shard.occ_word, kind="stable")
        ids, starts = np.unique(shard.occ_word[order], return_index=True)
        sums[ids] += np.add.reduceat(shard.vectors[order].astype(np.float64), starts, axis=0)  # [w, L+1, C]
        counts += np.bincount(shard.occ_word, minlength=n_words)
    return sums, counts


def frequency_order(run: RunFolder, counts: np.ndarray) -> np.ndarray:
    """Targets with occurrences, most frequent in the corpus first (ties: the order given)."""
    found = run.plan().found
    present = np.flatnonzero(counts > 0)
    return present[np.argsort(-found[present], kind="stable")]


def distill_spaces(run: RunFolder, layers: Sequence[int] | None = None) -> dict[int, Space]:
    """Mean-pooled static spaces, one per layer (default every layer), from one pass over the shards."""
    manifest = run.require()
    n_layers = manifest["encoder"]["layers"]
    chosen = sorted({check_layer(layer, n_layers) for layer in (layers if layers is not None else range(n_layers + 1))})
    sums, counts = pooled_sums(run)
    order = frequency_order(run, counts)
    keys = [run.keys[i] for i in order]
    means = sums[order] / counts[order, None, None]                            # [V, L+1, C]
    return {layer: Space(keys, means[:, layer].astype(np.float32), origin=origin(manifest, layer, "mean"),
                         name=f"{manifest['encoder']['name']}-distilled-L{layer}") for layer in chosen}


def distill_space(run: RunFolder, layer: int, pool: str = "mean") -> Space:
    """One layer's distilled space, pooled by ``mean`` or ``pc1`` (see the module docstring)."""
    if pool not in POOLS:
        raise InvalidInput(f"unknown pooling {pool!r}: use one of {', '.join(POOLS)}")
    if pool == "mean":
        return next(iter(distill_spaces(run, [layer]).values()))
    manifest = run.require()
    resolved = check_layer(layer, manifest["encoder"]["layers"])
    parts: dict[int, list[np.ndarray]] = {}
    for shard in run.shards():
        for word_id in np.unique(shard.occ_word):
            parts.setdefault(int(word_id), []).append(shard.vectors[shard.occ_word == word_id, resolved])
    counts = np.array([sum(len(p) for p in parts.get(i, [])) for i in range(len(run.keys))])
    order = frequency_order(run, counts)
    vectors = np.stack([first_direction(np.concatenate(parts[int(i)])) for i in order])
    return Space([run.keys[i] for i in order], vectors.astype(np.float32), origin=origin(manifest, resolved, "pc1"),
                 name=f"{manifest['encoder']['name']}-distilled-pc1-L{resolved}")


def first_direction(vectors: np.ndarray) -> np.ndarray:
    """The first right singular vector of [n, C] (uncentred), signed to agree with the mean; unit length.

    Examples
    --------
    >>> first_direction(np.array([[-2.0, 1.0], [-4.0, 2.0], [2.0, -1.0]])).round(4)  # all on one line
    array([-0.8944,  0.4472])
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    _, _, vt = np.linalg.svd(vectors, full_matrices=False)
    direction = vt[0]
    return -direction if direction @ vectors.mean(axis=0) < 0 else direction


def origin(manifest: dict, layer: int, pool: str) -> str:
    """Where a distilled space comes from, in words."""
    corpus = manifest["corpus"]
    return (f"{manifest['encoder']['name']} layer {layer}, {pool} of up to {manifest['settings']['per_word']} "
            f"sentences per word from {corpus['path']} (sha256 {corpus['sha256'][:12]})")


def isolated_spaces(encoder, words: Sequence[str], layers: Sequence[int] | None = None,
                    batch_size: int = 256) -> dict[int, Space]:
    """Each word run alone (``[CLS] word [SEP]`` for MiniLM), its pieces pooled, one space per layer.

    Words the model makes several words of (or does not know) are left out.
    """
    specials = specials_of(encoder)
    chosen = sorted({check_layer(layer, encoder.n_layer) for layer in (layers or range(encoder.n_layer + 1))})
    keys = list(dict.fromkeys(words))
    vectors = np.zeros((len(keys), encoder.n_layer + 1, encoder.cfg.n_embd), dtype=np.float32)
    kept = np.zeros(len(keys), dtype=bool)
    for rows, batch in encoder.batches(keys, batch_size):
        spans = [word_spans(tokens, specials) for tokens in batch.tokens]
        good = [k for k, s in enumerate(spans) if len(s) == 1 and s[0][0] == keys[rows[k]]]
        hidden = encoder.forward(batch).hidden_states
        pooled = pool_spans(hidden, [(k, spans[k][0][1], spans[k][0][2]) for k in good], batch.ids.shape[1])
        vectors[[rows[k] for k in good]] = pooled
        kept[[rows[k] for k in good]] = True
    names = [k for k, ok in zip(keys, kept) if ok]
    return {layer: Space(names, vectors[kept, layer], origin=f"{encoder.name} layer {layer}, each word alone",
                         name=f"{encoder.name}-isolated-L{layer}") for layer in chosen}


def frequent_words(corpus, n: int, progress: Callable[[int, int], None] | None = None) -> list[str]:
    """The ``n`` most frequent word tokens of a corpus file (:func:`embedspace.training.corpus.tokenize`).

    ``progress(bytes_read, bytes_total)`` is called every 10,000 lines.
    """
    from collections import Counter

    from embedspace.training.corpus import tokenize

    counts: Counter = Counter()
    total, done = os.path.getsize(corpus), 0
    with open(corpus, "rb") as handle:
        for number, raw in enumerate(handle):
            counts.update(tokenize(raw.decode("utf-8", errors="replace")))
            done += len(raw)
            if progress is not None and number % 10_000 == 0:
                progress(done, total)
    return [word for word, _ in counts.most_common(n)]


def evaluation_words() -> list[str]:
    """The lower-cased words of questions-words, SimLex-999 and WordSim-353 (what Bommasani et al. distil)."""
    from embedspace.analysis.evaluate import dataset_path, read_analogies, read_pairs

    words = [w for q in read_analogies(dataset_path("questions-words", "questions-words")) for w in (q.a, q.b, q.c, q.d)]
    for name in ("simlex999", "wordsim353"):
        words += [w for a, b, _, _ in read_pairs(dataset_path(name, name)) for w in (a, b)]
    return list(dict.fromkeys(w.lower() for w in words))


def single_words(encoder, words: Sequence[str]) -> list[str]:
    """The words that are one known word for the encoder (others are left out, as targets must be)."""
    specials = specials_of(encoder)
    kept = []
    for word in words:
        spans = word_spans(encoder.tokenize(word), specials)
        if len(spans) == 1 and is_word(spans[0][0]):
            kept.append(word)
    return kept


@dataclass
class Evaluation:
    """One space on the three sets: 3CosAdd accuracy and Spearman correlations, with what was covered."""

    space: str
    analogy: float
    analogy_questions: int
    simlex: float
    simlex_pairs: int
    wordsim: float
    wordsim_pairs: int

    def to_dict(self) -> dict:
        return asdict(self)


def restrict(space: Space, keys: set[str]) -> Space:
    """``space`` with only the ``keys`` (in its own order)."""
    rows = [i for i, key in enumerate(space.index_to_key) if key in keys]
    return Space([space.index_to_key[i] for i in rows], np.asarray(space.vectors)[rows], origin=space.origin,
                 name=space.name)


def evaluate_space(space: Space, name: str | None = None) -> Evaluation:
    """questions-words (3CosAdd), SimLex-999 and WordSim-353 (Spearman) on ``space`` as it is."""
    from embedspace.analysis.evaluate import evaluate_analogies, evaluate_similarity

    analogies = evaluate_analogies(space, "questions-words", methods=["add"])["add"]
    scores = []
    for dataset in ("simlex999", "wordsim353"):
        try:
            result = evaluate_similarity(space, dataset)
            scores += [result.spearman, result.pairs]
        except ValueError:  # no pair covered
            scores += [float("nan"), 0]
    covered = len(analogies.total.correct) + len(analogies.total.incorrect)
    return Evaluation(name or space.name, analogies.accuracy, covered, *scores)


def evaluation_table(spaces: Mapping[str, Space], common: bool = True) -> tuple[list[Evaluation], int]:
    """Each space evaluated, on the vocabulary all of them share when ``common``; and that vocabulary's size."""
    if not spaces:
        raise InvalidInput("no space to evaluate")
    shared = set.intersection(*(set(s.index_to_key) for s in spaces.values())) if common else None
    rows = [evaluate_space(restrict(space, shared) if common else space, name) for name, space in spaces.items()]
    return rows, len(shared) if common else 0
