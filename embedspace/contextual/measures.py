"""How contextual a word's vectors are, layer by layer (Ethayarajh, EMNLP 2019), from a run's shards.

For a word with occurrence vectors ``x_1..x_n`` at a layer (each the mean of the word's pieces):

- **self-similarity**: the mean cosine between two of its occurrences in different sentences
  (1 for a static space: every occurrence is the same vector);
- **intra-sentence similarity**: the mean, over the sentences that hold it, of the mean cosine between a
  sentence's words and their mean (how much context makes a sentence's words alike);
- **maximum explainable variance** (MEV): the share of the occurrence matrix's variance along its first
  principal direction, ``s_1^2 / sum s_i^2`` of its singular values (uncentred, as in the paper): the most
  any single static vector can explain.

Each is also given *adjusted for anisotropy*: minus the same figure for words drawn at random, one per
sentence of the run (vectors of unrelated words are far from orthogonal in these models, and the raw
figures mostly measure that). Beside them, the static space's own figures where the model has one: the
mean cosine of the occurrences with the word's W_E row, and the share of their variance along that row
(how much of the occurrences the static vector explains, to set against MEV).

Example
-------
>>> import tempfile, pathlib
>>> from embedspace.contextual.engines import extract_occurrences
>>> corpus = pathlib.Path(tempfile.mkdtemp()) / "c.txt"
>>> _ = corpus.write_text("the bank of the river\\nshe paid the bank\\nthe old bank was shut\\n")
>>> report = measure_words(extract_occurrences(corpus, ["bank"], "mini", folder=corpus.parent / "run"))
>>> report.words[0].word, report.words[0].sentences, len(report.anisotropy)
('bank', 3, 5)
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from embedspace.contextual.compare import row_cosines
from embedspace.contextual.shards import RunFolder
from embedspace.errors import InvalidInput
from embedspace.space import unit_rows
from runtime.threads import blas_threads_for, matmul_flops

log = logging.getLogger(__name__)

BASELINE_WORDS = 2000  # random-word occurrences kept for the anisotropy baseline
MEV_DRAWS = 10         # random subsets averaged for the MEV baseline of each occurrence count


# -- measures on arrays -----------------------------------------------------------------------------

def self_similarity(vectors: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Mean cosine between occurrences in different sentences, per layer: [n, L+1, C], [n] -> [L+1].

    NaN when all occurrences share one sentence.

    Examples
    --------
    >>> v = np.array([[[1.0, 0.0]], [[1.0, 1.0]], [[0.0, 1.0]]])  # 3 occurrences, 1 layer
    >>> self_similarity(v, np.array([0, 1, 1])).round(4)  # pairs (0,1) and (0,2): 0.7071 and 0
    array([0.3536])
    """
    different = lines[:, None] != lines[None, :]                              # [n, n]
    if not different.any():
        return np.full(vectors.shape[1], np.nan)
    unit = unit_rows(np.asarray(vectors, dtype=np.float64).transpose(1, 0, 2))  # [L+1, n, C]
    n_layers, n, width = unit.shape
    with blas_threads_for(n_layers * matmul_flops(n, width, n)):
        cosines = unit @ unit.transpose(0, 2, 1)                              # [L+1, n, n]
    return (cosines * different).sum(axis=(1, 2)) / different.sum()


def max_explainable_variance(vectors: np.ndarray) -> np.ndarray:
    """Share of the variance along the first principal direction (uncentred), per layer: [n, L+1, C] -> [L+1].

    That is ``s_1^2 / sum s_i^2`` of the singular values of each layer's [n, C] matrix: the largest
    eigenvalue of its Gram matrix (the smaller of [n, n] and [C, C]) over its trace.

    Examples
    --------
    >>> v = np.array([[[2.0, 0.0]], [[0.0, 1.0]]])
    >>> max_explainable_variance(v)  # singular values 2 and 1: 4 / 5
    array([0.8])
    """
    x = np.asarray(vectors, dtype=np.float64).transpose(1, 0, 2)             # [L+1, n, C]
    n_layers, n, width = x.shape
    with blas_threads_for(n_layers * matmul_flops(min(n, width), max(n, width), min(n, width))):
        gram = x @ x.transpose(0, 2, 1) if n <= width else x.transpose(0, 2, 1) @ x   # [L+1, k, k]
        top = np.linalg.eigvalsh(gram)[:, -1]                                 # [L+1]
    total = np.einsum("lnc,lnc->l", x, x)                                     # [L+1] squared Frobenius norms
    return np.divide(top, total, out=np.full(n_layers, np.nan), where=total > 0)


def static_figures(vectors: np.ndarray, static: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean cosine with the static vector, and the variance share along it, per layer: [n, L+1, C], [C].

    The share is ``sum (x . s)^2 / sum |x|^2`` with ``s`` the unit static vector: at most the MEV.

    Examples
    --------
    >>> v = np.array([[[2.0, 0.0]], [[0.0, 1.0]]])
    >>> [a.round(4).tolist() for a in static_figures(v, np.array([1.0, 0.0]))]
    [[0.5], [0.8]]
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    direction = np.asarray(static, dtype=np.float64)
    norm = np.linalg.norm(direction)
    if norm == 0:
        nan = np.full(vectors.shape[1], np.nan)
        return nan, nan.copy()
    projections = vectors @ (direction / norm)                                # [n, L+1]
    share = (projections ** 2).sum(axis=0) / (vectors ** 2).sum(axis=(0, 2))
    return row_cosines(vectors, direction).mean(axis=0), share


def baseline_mev(vectors: np.ndarray, n: int, draws: int = MEV_DRAWS, seed: int = 0) -> np.ndarray:
    """The MEV of ``n`` random-word occurrences (mean of ``draws`` subsets): [m, L+1, C] -> [L+1].

    MEV depends on ``n`` (``n`` vectors in general position give at least 1/n), so each word's figure
    is adjusted by the baseline for its own count.
    """
    rng = np.random.default_rng([seed, n])
    n = min(n, len(vectors))
    return np.mean([max_explainable_variance(vectors[rng.choice(len(vectors), n, replace=False)])
                    for _ in range(draws)], axis=0)


# -- reading a run ----------------------------------------------------------------------------------

@dataclass
class RunContents:
    """What the measures need from a run's shards: the chosen words' occurrences and the baseline."""

    vectors: dict[int, list[np.ndarray]] = field(default_factory=dict)   # word id -> [n_k, L+1, C] parts
    lines: dict[int, list[np.ndarray]] = field(default_factory=dict)     # word id -> [n_k] parts
    intra: dict[int, np.ndarray] = field(default_factory=dict)           # line -> [L+1]
    texts: dict[int, str] = field(default_factory=dict)                  # line -> text (the chosen words' lines)
    base_vectors: list[np.ndarray] = field(default_factory=list)         # kept random-word vectors [L+1, C]
    base_lines: list[int] = field(default_factory=list)
    base_words: list[str] = field(default_factory=list)
    seen: int = 0                                                        # random words offered

    def occurrences(self, word_id: int) -> tuple[np.ndarray, np.ndarray]:
        """One word's vectors [n, L+1, C] and lines [n]."""
        return np.concatenate(self.vectors[word_id]), np.concatenate(self.lines[word_id])


def read_run(run: RunFolder, word_ids: Sequence[int], keep_baseline: int = BASELINE_WORDS,
             seed: int = 0) -> RunContents:
    """Collect the occurrences of ``word_ids`` and a uniform sample of random words, shard by shard."""
    wanted = set(word_ids)
    contents = RunContents()
    rng = np.random.default_rng(seed)
    for shard in run.shards():
        rows = np.flatnonzero(np.isin(shard.occ_word, list(wanted)))
        for word_id in np.unique(shard.occ_word[rows]):
            mine = rows[shard.occ_word[rows] == word_id]
            contents.vectors.setdefault(int(word_id), []).append(shard.vectors[mine])
            contents.lines.setdefault(int(word_id), []).append(shard.occ_line[mine])
        held = set(shard.occ_line[rows].tolist())
        for line, text, intra in zip(shard.sent_line.tolist(), shard.sent_text, shard.intra):
            if line in held:
                contents.intra[line], contents.texts[line] = intra, str(text)
        for line, word, vector in zip(shard.base_line.tolist(), shard.base_word, shard.base_vectors):
            keep_sample(contents, rng, keep_baseline, line, str(word), vector)
    return contents


def keep_sample(contents: RunContents, rng: np.random.Generator, size: int, line: int, word: str,
                vector: np.ndarray) -> None:
    """Reservoir sampling: after ``seen`` offers, each is kept with probability ``size / seen``."""
    contents.seen += 1
    if len(contents.base_vectors) < size:
        contents.base_vectors.append(vector)
        contents.base_lines.append(line)
        contents.base_words.append(word)
        return
    slot = int(rng.integers(contents.seen))
    if slot < size:
        contents.base_vectors[slot], contents.base_lines[slot], contents.base_words[slot] = vector, line, word


# -- the report -------------------------------------------------------------------------------------

@dataclass
class WordMeasures:
    """One word's figures, one value per layer 0..L (adjusted = minus the random-word baseline)."""

    word: str
    occurrences: int
    sentences: int
    corpus_lines: int                       # usable lines of the corpus that hold it
    self_similarity: list[float]
    self_similarity_adjusted: list[float]
    intra_similarity: list[float]
    intra_similarity_adjusted: list[float]
    mev: list[float]
    mev_adjusted: list[float]
    static_cosine: list[float] | None       # mean cosine with the W_E row
    static_share: list[float] | None        # variance share along the W_E row


@dataclass
class ContextualityReport:
    """Per-word, per-layer figures of a run, with the anisotropy baseline."""

    model: str
    layers: int                             # transformer blocks: figures for layers 0..layers
    corpus: str
    anisotropy: list[float]                 # [L+1] mean cosine between random words in different sentences
    static_anisotropy: float | None         # the same between those words' W_E rows
    baseline_words: int
    words: list[WordMeasures]
    missing: dict[str, str]                 # word -> why it has no figures

    MEASURES = ("self_similarity", "intra_similarity", "mev", "static_cosine", "static_share")

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return asdict(self)

    def mean_over_words(self, measure: str) -> list[float]:
        """The mean of a measure (a WordMeasures field) over the words, per layer."""
        rows = [getattr(w, measure) for w in self.words if getattr(w, measure) is not None]
        return np.nanmean(np.array(rows, dtype=np.float64), axis=0).tolist() if rows else []


def measure_words(run: RunFolder, words: Sequence[str] | None = None,
                  static: Callable[[str], np.ndarray] | None = None, seed: int = 0) -> ContextualityReport:
    """Self-similarity, intra-sentence similarity and MEV of each word (default: all the run's targets).

    Parameters
    ----------
    run : RunFolder
        A complete extraction (:func:`embedspace.contextual.engines.extract_occurrences`).
    words : sequence of str, optional
        Target keys of the run.
    static : callable, optional
        ``static(word) -> [C]`` the word's static vector (``encoder.static_vector``), for the static figures.
    seed : int
        The random-word sample and the MEV baseline draws.
    """
    manifest = run.require()
    keys = run.keys
    chosen = list(keys) if words is None else list(dict.fromkeys(words))
    unknown = [w for w in chosen if w not in keys]
    if unknown:
        raise InvalidInput(f"not a target of this run: {', '.join(unknown)} (its words: {', '.join(keys[:20])})")
    ids = [keys.index(w) for w in chosen]
    contents = read_run(run, ids, seed=seed)
    if not contents.base_vectors:
        raise InvalidInput(f"{run.folder} holds no occurrence at all: no line of the corpus holds the words")
    base = np.stack(contents.base_vectors)                                    # [m, L+1, C]
    anisotropy = self_similarity(base, np.array(contents.base_lines))
    found = run.plan().found
    report_words, missing, mev_cache = [], {}, {}
    for word, word_id in zip(chosen, ids):
        if word_id not in contents.vectors:
            missing[word] = "no usable line of the corpus holds it"
            continue
        vectors, lines = contents.occurrences(word_id)
        n = len(vectors)
        if n not in mev_cache:
            mev_cache[n] = baseline_mev(base, n, seed=seed)
        report_words.append(word_figures(word, vectors, lines, contents.intra, anisotropy, mev_cache[n],
                                         int(found[word_id]), None if static is None else static(word)))
    static_aniso = None
    if static is not None:
        rows = np.stack([static(w) for w in contents.base_words])           # [m, C]
        static_aniso = float(self_similarity(rows[:, None, :], np.array(contents.base_lines))[0])
    return ContextualityReport(manifest["encoder"]["name"], manifest["encoder"]["layers"], manifest["corpus"]["path"],
                               anisotropy.tolist(), static_aniso, len(base), report_words, missing)


def word_figures(word: str, vectors: np.ndarray, lines: np.ndarray, intra_by_line: dict[int, np.ndarray],
                 anisotropy: np.ndarray, mev_base: np.ndarray, corpus_lines: int,
                 static: np.ndarray | None) -> WordMeasures:
    """The figures of one word from its occurrences [n, L+1, C] and their lines [n]."""
    sentences = np.unique(lines)
    selfsim = self_similarity(vectors, lines)
    intra = np.mean([intra_by_line[int(line)] for line in sentences], axis=0)
    mev = max_explainable_variance(vectors)
    cosine, share = static_figures(vectors, static) if static is not None else (None, None)
    return WordMeasures(word, len(vectors), len(sentences), corpus_lines, selfsim.tolist(),
                        (selfsim - anisotropy).tolist(), intra.tolist(), (intra - anisotropy).tolist(),
                        mev.tolist(), (mev - mev_base).tolist(),
                        None if cosine is None else cosine.tolist(), None if share is None else share.tolist())
