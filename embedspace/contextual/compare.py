"""Static vs contextual vectors: how the words around a word tug its vector, layer by layer.

A transformer starts every occurrence of a word from the same row of its embedding matrix
W_E; each block then mixes in the other tokens of the sentence. Here a word is found in one
or more sentences, its vector is read at every layer (layer 0 = what enters the first block;
a word split into several word pieces is mean-pooled over them), and compared:

- between contexts (every pair of sentences), layer by layer;
- with the word's own static W_E row (how far context has tugged it);
- with the words of the encoder's static space (its nearest W_E rows: what the word means here).

:func:`sense_separation` turns this into one score over the bundled sentence set
``data/sentences/senses.tsv``: how often two sentences with the same sense of a word put it
closer together than a sentence with another sense does.

Any encoder with ``name``, ``causal``, ``run(texts)``, ``word_positions(text, word)``,
``static_vector(word)`` and a static ``space`` works (see :mod:`embedspace.contextual.encoders`).
"""
from __future__ import annotations

import csv
import itertools
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from embedspace.contextual.encoders import check_layer
from embedspace.errors import EmbedspaceError, FormatError, InvalidInput
from embedspace.paths import sentences_dir
from embedspace.space import unit_rows
from runtime.errors import shorten
from transformer.errors import InvalidInput as TokenizerInvalidInput

log = logging.getLogger(__name__)

SENSES_FILE = "senses.tsv"  # in embedspace.paths.sentences_dir()
SENSES_COLUMNS = ("word", "sense", "sentence")


class WordNotInSentence(EmbedspaceError, ValueError):
    """The word asked about does not occur (as whole tokens) in a sentence (both quoted, shortened).

    Examples
    --------
    >>> str(WordNotInSentence("king", "a very long sentence " * 100))
    "the word 'king' does not occur in the sentence 'a very long sentence a very long sentence a very long sen...'"
    """

    def __init__(self, word: str, sentence: str):
        super().__init__(f"the word {shorten(word)!r} does not occur in the sentence {shorten(sentence)!r}")


# -- pure functions on arrays -----------------------------------------------------------------------

def pool_positions(hidden_states: np.ndarray, positions: Sequence[int]) -> np.ndarray:
    """Mean of the hidden states at ``positions``, at every layer: [L+1, T, C] -> [L+1, C].

    Examples
    --------
    >>> h = np.arange(12, dtype=np.float32).reshape(2, 3, 2)  # 2 layers, 3 tokens, 2 dims
    >>> pool_positions(h, [1, 2])
    array([[ 3.,  4.],
           [ 9., 10.]], dtype=float32)
    """
    if len(positions) == 0:
        raise ValueError("no token positions to pool")
    n_tokens = hidden_states.shape[1]
    bad = [p for p in positions if not 0 <= p < n_tokens]
    if bad:
        raise ValueError(f"token positions {bad} outside a sequence of {n_tokens} tokens")
    return hidden_states[:, list(positions), :].mean(axis=1)  # [L+1, n, C] -> [L+1, C]


def row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine of matching rows: [..., C], [..., C] -> [...] (float64; a zero row gives 0).

    ``b`` may be a single vector [C], compared with every row of ``a``.

    Examples
    --------
    >>> row_cosines(np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 0.0], [-1.0, -1.0]]))
    array([ 1., -1.])
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    dots = np.sum(a * b, axis=-1)
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)


def cosine_matrices(vectors: np.ndarray) -> np.ndarray:
    """Cosine between every pair of sentences at every layer: [S, L+1, C] -> [L+1, S, S].

    Examples
    --------
    >>> v = np.array([[[1.0, 0.0]], [[0.0, 2.0]], [[1.0, 1.0]]])  # 3 sentences, 1 layer
    >>> cosine_matrices(v).round(3)
    array([[[1.   , 0.   , 0.707],
            [0.   , 1.   , 0.707],
            [0.707, 0.707, 1.   ]]])
    """
    by_layer = np.asarray(vectors, dtype=np.float64).transpose(1, 0, 2)  # [S, L+1, C] -> [L+1, S, C]
    unit = unit_rows(by_layer)
    return unit @ unit.transpose(0, 2, 1)  # [L+1, S, C] @ [L+1, C, S] -> [L+1, S, S]


def sense_triplets(senses: Sequence[str]) -> list[tuple[int, int, int]]:
    """Every (anchor, same-sense sentence, other-sense sentence) among one word's sentences.

    Examples
    --------
    >>> sense_triplets(["river", "river", "money"])
    [(0, 1, 2), (1, 0, 2)]
    """
    return [
        (anchor, same, other)
        for anchor, same, other in itertools.permutations(range(len(senses)), 3)
        if senses[anchor] == senses[same] and senses[anchor] != senses[other]
    ]


def triplet_gaps(cosines: np.ndarray, triplets: Sequence[tuple[int, int, int]]) -> np.ndarray:
    """cos(anchor, same) - cos(anchor, other) per triplet and layer: [L+1, S, S] -> [n, L+1].

    A positive gap means the same-sense sentence put the word closer to the anchor.

    Examples
    --------
    >>> c = np.array([[[1.0, 0.9, 0.2], [0.9, 1.0, 0.5], [0.2, 0.5, 1.0]]])  # 1 layer
    >>> triplet_gaps(c, [(0, 1, 2), (1, 0, 2)]).round(2)
    array([[0.7],
           [0.4]])
    """
    if not triplets:
        return np.zeros((0, cosines.shape[0]))
    anchor, same, other = (np.array(column) for column in zip(*triplets))
    return (cosines[:, anchor, same] - cosines[:, anchor, other]).T  # [L+1, n] -> [n, L+1]


# -- results ----------------------------------------------------------------------------------------

@dataclass
class Occurrence:
    """The word in one sentence.

    ``static_cosines[l]`` is the cosine between the word's vector at layer ``l`` and its
    static W_E vector; ``neighbours[l]`` its nearest words in the static space at layer ``l``.
    """

    sentence: str
    tokens: list[str]  # every token of the sentence, as the encoder sees it
    positions: list[int]  # the word's token positions (pooled when more than one)
    static_cosines: list[float]  # [L+1]
    neighbours: dict[int, list[tuple[str, float]]] = field(default_factory=dict)

    @property
    def pieces(self) -> list[str]:
        """The word's own tokens in this sentence."""
        return [self.tokens[p] for p in self.positions]


@dataclass
class ContextPair:
    """Two sentences and the cosine of the word's vectors in them at every layer."""

    a: int  # index into ContextComparison.occurrences
    b: int
    cosines: list[float]  # [L+1]


@dataclass
class ContextComparison:
    """A word in several sentences, compared layer by layer (see :func:`compare_contexts`)."""

    word: str
    model: str
    n_layers: int  # transformer blocks; vectors exist for layers 0..n_layers
    causal: bool
    pooled: bool  # True when the word is several word pieces in some sentence (mean-pooled)
    note: str
    occurrences: list[Occurrence]
    pairs: list[ContextPair]

    def to_dict(self) -> dict:
        """Plain data for JSON (neighbour lists become lists of {word, cosine} objects)."""
        data = asdict(self)
        for occurrence, plain in zip(self.occurrences, data["occurrences"]):
            plain["pieces"] = occurrence.pieces
            plain["neighbours"] = [
                {"layer": layer, "words": [{"word": w, "cosine": s} for w, s in found]}
                for layer, found in occurrence.neighbours.items()
            ]
        for pair in data["pairs"]:
            pair["sentences"] = [self.occurrences[pair["a"]].sentence, self.occurrences[pair["b"]].sentence]
        return data

    def layer_drift(self, max_pairs: int = 6) -> dict[str, list[float]]:
        """Curves for a layer-drift chart: label -> one cosine per layer [L+1].

        The first ``max_pairs`` context pairs ("1 vs 2"), then each sentence against the
        static W_E row ("W_E vs 1").
        """
        curves = {f"{p.a + 1} vs {p.b + 1}": p.cosines for p in self.pairs[:max_pairs]}
        for i, occurrence in enumerate(self.occurrences):
            curves[f"W_E vs {i + 1}"] = occurrence.static_cosines
        return curves


def context_note(word: str | None, causal: bool, pooled: bool) -> str:
    """The caveats a reader must know: causal attention, mean-pooled word pieces.

    Examples
    --------
    >>> context_note("model", causal=True, pooled=False)
    "causal model: only the words to the left of 'model' can change its vector"
    """
    label = repr(word) if word else "the word"
    notes = []
    if causal:
        notes.append(f"causal model: only the words to the left of {label} can change its vector")
    else:
        notes.append(f"bidirectional model: words on both sides of {label} change its vector")
    if pooled:
        notes.append(f"{label} is several word pieces in some sentence; their vectors are mean-pooled")
    return "; ".join(notes)


def find_word(encoder, sentences: Sequence[str], word: str) -> list[list[int]]:
    """The word's token positions in each sentence; raises :class:`WordNotInSentence` naming one without it.

    The word itself is checked first (``encoder.static_vector``: an unknown word or one without
    tokens has its own error), so an encoder's InvalidInput here means the word is not in the
    sentence, and the error quotes the sentence shortened, not its whole text.
    """
    encoder.static_vector(word)
    positions = []
    for sentence in sentences:
        try:
            found = list(encoder.word_positions(sentence, word))
        except (InvalidInput, TokenizerInvalidInput):   # "not a word of the text", quoting all of it
            found = []
        if not found:
            raise WordNotInSentence(word, sentence)
        positions.append(found)
    return positions


def pooled_vectors(runs, positions: Sequence[Sequence[int]]) -> np.ndarray:
    """The word's vector in each run at every layer: S runs -> [S, L+1, C]."""
    return np.stack([pool_positions(run.hidden_states, p) for run, p in zip(runs, positions)])


def compare_contexts(encoder, sentences: Sequence[str], word: str, layers: Sequence[int] | None = None,
                     topn: int = 5, space=None) -> ContextComparison:
    """The word's vector in each sentence, compared between contexts and with its static row.

    Parameters
    ----------
    encoder : Encoder
        From :func:`embedspace.contextual.encoders.load_encoder` (``"minilm"`` or ``"mini"``).
    sentences : sequence of str
        One or more sentences, each containing ``word``.
    word : str
        The word to follow; several word pieces are mean-pooled (``pooled`` says so).
    layers : sequence of int, optional
        Layers at which to list the static-space neighbours; default the first and the last.
        Negative numbers count from the end (-1 = last).
    topn : int
        Neighbours per layer.
    space : Space, optional
        Where to look for neighbours; default the encoder's own static W_E space.

    Returns
    -------
    ContextComparison
        ``pairs[k].cosines`` [L+1] for every pair of sentences; per sentence the cosine to the
        static vector [L+1] and the neighbours at ``layers``.

    Raises
    ------
    WordNotInSentence
        When ``word`` is missing from a sentence.
    """
    if not sentences:
        raise ValueError("give at least one sentence")
    n_layers = encoder.n_layer
    chosen = sorted({check_layer(layer, n_layers) for layer in (layers or (0, -1))})
    positions = find_word(encoder, sentences, word)  # checked before the (slower) model runs
    runs = encoder.run(list(sentences))
    vectors = pooled_vectors(runs, positions)  # [S, L+1, C]
    static = np.asarray(encoder.static_vector(word), dtype=np.float64)  # [C]
    space = space if space is not None else encoder.space
    occurrences = []
    for sentence, run, where, vector in zip(sentences, runs, positions, vectors):
        neighbours = {layer: space.similar_by_vector(vector[layer], topn=topn) for layer in chosen}
        occurrences.append(Occurrence(sentence, list(run.tokens), where,
                                      row_cosines(vector, static).tolist(), neighbours))
    cosines = cosine_matrices(vectors)  # [L+1, S, S]
    pairs = [ContextPair(a, b, cosines[:, a, b].tolist())
             for a, b in itertools.combinations(range(len(sentences)), 2)]
    pooled = any(len(p) > 1 for p in positions)
    return ContextComparison(word, encoder.name, n_layers, bool(encoder.causal), pooled,
                             context_note(word, encoder.causal, pooled), occurrences, pairs)


# -- sense separation over the bundled sentences ----------------------------------------------------

@dataclass(frozen=True)
class SenseSentence:
    """One line of the bundled sentence set: a word, the sense it has, and the sentence."""

    word: str
    sense: str
    sentence: str


def load_sense_sentences(path: str | Path | None = None) -> list[SenseSentence]:
    """The sentence set (``data/sentences/senses.tsv`` by default): columns word, sense, sentence.

    Raises
    ------
    FormatError
        On a missing header or a line with the wrong number of fields (naming the line).
    """
    path = Path(path) if path is not None else sentences_dir() / SENSES_FILE
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != SENSES_COLUMNS:
            raise FormatError(path, f"the header must be {' / '.join(SENSES_COLUMNS)} (tab-separated)", line=1)
        items = []
        for line, fields in enumerate(reader, start=2):
            if not fields:
                continue
            if len(fields) != 3 or not all(f.strip() for f in fields):
                raise FormatError(path, f"expected 3 non-empty tab-separated fields, got {len(fields)}", line=line)
            items.append(SenseSentence(*(f.strip() for f in fields)))
    return items


@dataclass
class WordSeparation:
    """One word's triplets: at each layer, how many same-sense pairs won and the mean gap."""

    word: str
    senses: list[str]
    n_triplets: int
    wins: list[int]  # [L+1]: triplets where the same-sense sentence was closer
    mean_gap: list[float]  # [L+1]


@dataclass
class SenseSeparation:
    """How well an encoder's layers separate the senses of the bundled words.

    A triplet is (anchor sentence, another sentence with the same sense, a sentence with a
    different sense); it is won at a layer when cos(anchor, same) > cos(anchor, other).
    Chance is 0.5.
    """

    model: str
    n_layers: int
    note: str
    n_triplets: int
    win_rate: list[float]  # [L+1]
    mean_gap: list[float]  # [L+1]
    words: list[WordSeparation]
    skipped: dict[str, str]  # word -> why it was left out

    @property
    def best_layer(self) -> int:
        """The layer with the highest win rate (the later one on a tie)."""
        rates = np.asarray(self.win_rate)
        return int(np.flatnonzero(rates == rates.max())[-1])

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return asdict(self) | {"best_layer": self.best_layer}


def sense_separation(encoder, items: Sequence[SenseSentence] | None = None) -> SenseSeparation:
    """Score how often same-sense contexts are closer than different-sense ones, per layer.

    Parameters
    ----------
    encoder : Encoder
        ``"minilm"`` or ``"mini"`` (causal: only the left context can separate the senses).
    items : sequence of SenseSentence, optional
        Default: the bundled ``data/sentences/senses.tsv``.

    Returns
    -------
    SenseSeparation
        Win rate and mean gap [L+1] over all triplets; per-word figures; words left out (for
        example a word missing from the mini model's vocabulary) with the reason.
    """
    items = list(items) if items is not None else load_sense_sentences()
    by_word: dict[str, list[SenseSentence]] = {}
    for item in items:
        by_word.setdefault(item.word, []).append(item)
    kept, skipped = {}, {}  # word -> (its sentences, the word's positions in them)
    for word, group in by_word.items():
        if not sense_triplets([g.sense for g in group]):
            skipped[word] = "needs two sentences of one sense and one of another"
            continue
        try:
            kept[word] = (group, find_word(encoder, [g.sentence for g in group], word))
        except (KeyError, ValueError) as error:  # e.g. a word the mini model's vocabulary lacks
            skipped[word] = str(error)
    sentences = list(dict.fromkeys(g.sentence for group, _ in kept.values() for g in group))
    runs = dict(zip(sentences, encoder.run(sentences))) if sentences else {}
    words, all_gaps = [], []
    for word, (group, positions) in kept.items():
        vectors = pooled_vectors([runs[g.sentence] for g in group], positions)  # [S, L+1, C]
        gaps = triplet_gaps(cosine_matrices(vectors), sense_triplets([g.sense for g in group]))  # [n, L+1]
        all_gaps.append(gaps)
        words.append(WordSeparation(word, sorted({g.sense for g in group}), gaps.shape[0],
                                    (gaps > 0).sum(axis=0).tolist(), gaps.mean(axis=0).tolist()))
    if not all_gaps:
        raise ValueError(f"no word of the sentence set could be scored with {encoder.name!r}: {skipped}")
    gaps = np.concatenate(all_gaps)  # [n, L+1]
    note = context_note(None, encoder.causal, pooled=False)
    return SenseSeparation(encoder.name, gaps.shape[1] - 1, note, gaps.shape[0],
                           (gaps > 0).mean(axis=0).tolist(), gaps.mean(axis=0).tolist(), words, skipped)
