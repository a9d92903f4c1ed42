"""A word's senses from its occurrences in a corpus: clusters of its contextual vectors at one layer.

The occurrences' unit vectors are clustered with k-means for k = 2..``max_clusters`` and the k with the
best silhouette (cosine) is kept. Each cluster is shown by the sentences nearest its centre and by its
nearest words in static spaces, read two ways:

- ``centroid``: the words whose static vectors are nearest the cluster's mean vector, in a space of the
  same width (the model's own W_E: what the contextual vector still resembles there);
- ``contexts``: in any static space (word2vec), the words nearest the mean vector of the cluster's
  context words, minus the same mean over all the word's sentences (what sets this cluster's contexts apart).

Example
-------
>>> import tempfile, pathlib
>>> from embedspace.contextual.engines import extract_occurrences
>>> corpus = pathlib.Path(tempfile.mkdtemp()) / "c.txt"
>>> _ = corpus.write_text("the river bank was wet\\nthe bank of the river\\nshe paid the bank\\n"
...                       "the bank lent money\\nmoney in the bank\\n")
>>> run = extract_occurrences(corpus, ["bank"], "mini", folder=corpus.parent / "run")
>>> report = word_senses(run, "bank", layer=-1)
>>> report.occurrences, sum(c.size for c in report.clusters)
(5, 5)
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from embedspace.contextual.encoders import check_layer
from embedspace.contextual.measures import read_run
from embedspace.contextual.shards import RunFolder
from embedspace.errors import InvalidInput
from embedspace.space import Space, unit_rows

log = logging.getLogger(__name__)

MAX_CLUSTERS = 6
FUNCTION_WORDS = 150  # a frequency-ordered space's most frequent keys, left out of the contexts


@dataclass
class SenseCluster:
    """One cluster of occurrences: its size, example sentences and static-space neighbours."""

    size: int
    examples: list[str]                                    # sentences nearest the cluster's centre
    neighbours: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # space -> (word, cosine)


@dataclass
class SenseReport:
    """A word's occurrences at one layer, clustered (clusters ordered by size, largest first)."""

    word: str
    model: str
    layer: int
    occurrences: int
    silhouettes: dict[int, float]                          # k -> mean silhouette (cosine)
    clusters: list[SenseCluster]
    labels: list[int]                                      # [n] cluster of each occurrence
    coords: list[list[float]]                              # [n, 2] PCA of the unit vectors
    sentences: list[str]                                   # [n] each occurrence's sentence

    @property
    def k(self) -> int:
        return len(self.clusters)

    def to_dict(self) -> dict:
        """Plain data for JSON (without the per-occurrence coordinates)."""
        return {"word": self.word, "model": self.model, "layer": self.layer, "occurrences": self.occurrences,
                "k": self.k, "silhouettes": {str(k): v for k, v in self.silhouettes.items()},
                "clusters": [{"size": c.size, "examples": c.examples,
                              "neighbours": {s: [{"word": w, "cosine": v} for w, v in found]
                                             for s, found in c.neighbours.items()}} for c in self.clusters]}


def choose_clusters(unit: np.ndarray, max_clusters: int = MAX_CLUSTERS, seed: int = 0
                    ) -> tuple[np.ndarray, dict[int, float]]:
    """k-means labels [n] for the k in 2..max_clusters with the best cosine silhouette, and every k's score.

    Examples
    --------
    >>> pts = np.array([[1, 0.1], [1, 0], [1, -0.1], [0.1, 1], [0, 1], [-0.1, 1]])
    >>> labels, scores = choose_clusters(unit_rows(pts), max_clusters=3)
    >>> len(set(labels[:3])), len(set(labels[3:])), len(set(labels)), max(scores, key=scores.get)
    (1, 1, 2, 2)
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    from runtime.threads import controller

    n = len(unit)
    if n < 3:
        raise InvalidInput(f"{n} occurrence(s) cannot be clustered: at least 3 are needed")
    best, scores = None, {}
    with controller().limit(limits=1):  # a few hundred points: threads would only wait for each other
        for k in range(2, min(max_clusters, n - 1) + 1):
            labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(unit)
            if len(set(labels)) < 2:
                continue
            scores[k] = float(silhouette_score(unit, labels, metric="cosine"))
            if best is None or scores[k] > scores[best[0]]:
                best = (k, labels)
    if best is None:
        raise InvalidInput("the occurrences are all the same vector: nothing to cluster")
    return best[1], scores


def context_vector(text: str, word: str, space: Space, skip: set[str]) -> np.ndarray | None:
    """Mean unit vector of the words of ``text`` that ``space`` knows, other than ``word`` and ``skip``; or None."""
    from embedspace.training.corpus import tokenize

    known = [w for w in tokenize(text) if w != word and w not in skip and w in space]
    return space.unit(known).mean(axis=0) if known else None


def contexts_neighbours(space: Space, word: str, sentences: list[str], labels: np.ndarray, k: int,
                        topn: int) -> list[list[tuple[str, float]]]:
    """Per cluster, the words of ``space`` nearest its contexts' mean minus all contexts' mean.

    The space's :data:`FUNCTION_WORDS` most frequent keys (its first rows, in a frequency-ordered
    space) are left out of the contexts and of the answers: they say nothing about a sense.
    """
    skip = set(space.index_to_key[:FUNCTION_WORDS])
    vectors = [context_vector(text, word, space, skip) for text in sentences]
    known = np.array([v is not None for v in vectors])
    if not known.any():
        return [[] for _ in range(k)]
    stacked = np.stack([v for v in vectors if v is not None])
    overall = stacked.mean(axis=0)
    out = []
    for cluster in range(k):
        rows = [v for v, lab, ok in zip(vectors, labels, known) if ok and lab == cluster]
        out.append(space.similar_by_vector(np.mean(rows, axis=0) - overall, topn, exclude=[word, *skip])
                   if rows else [])
    return out


def word_senses(run: RunFolder, word: str, layer: int = -1, max_clusters: int = MAX_CLUSTERS, examples: int = 3,
                topn: int = 8, centroid_spaces: Mapping[str, Space] | None = None,
                context_spaces: Mapping[str, Space] | None = None, seed: int = 0) -> SenseReport:
    """Cluster a target word's occurrences in ``run`` at ``layer`` (negative counts from the end).

    Parameters
    ----------
    run : RunFolder
        A complete extraction holding ``word`` as a target.
    word : str
        A target key of the run.
    layer : int
    max_clusters : int
        The largest k tried (k starts at 2).
    examples : int
        Sentences shown per cluster.
    topn : int
        Neighbours per cluster and space.
    centroid_spaces, context_spaces : mapping of name -> Space, optional
        Static spaces read by ``centroid`` (same width as the model) and by ``contexts`` (any).
    seed : int
    """
    manifest = run.require()
    keys = run.keys
    if word not in keys:
        raise InvalidInput(f"{word!r} is not a target of this run (its words: {', '.join(keys[:20])})")
    resolved = check_layer(layer, manifest["encoder"]["layers"])
    contents = read_run(run, [keys.index(word)], keep_baseline=0)
    if keys.index(word) not in contents.vectors:
        raise InvalidInput(f"no usable line of the corpus holds {word!r}")
    vectors, lines = contents.occurrences(keys.index(word))
    unit = unit_rows(np.asarray(vectors[:, resolved], dtype=np.float64))       # [n, C]
    labels, scores = choose_clusters(unit, max_clusters, seed)
    order = np.argsort(-np.bincount(labels), kind="stable")                    # clusters by size
    labels = np.argsort(order)[labels]
    sentences = [contents.texts[int(line)] for line in lines]
    clusters = [cluster_summary(unit, labels, c, sentences, examples, topn, centroid_spaces or {}, word)
                for c in range(len(order))]
    for name, space in (context_spaces or {}).items():
        for cluster, found in zip(clusters, contexts_neighbours(space, word, sentences, labels, len(order), topn)):
            cluster.neighbours[name] = found
    from sklearn.decomposition import PCA

    coords = PCA(n_components=2, random_state=seed).fit_transform(unit) if len(unit) > 2 else unit[:, :2]
    return SenseReport(word, manifest["encoder"]["name"], resolved, len(unit), scores, clusters,
                       labels.tolist(), np.asarray(coords).tolist(), sentences)


def cluster_summary(unit: np.ndarray, labels: np.ndarray, cluster: int, sentences: list[str], examples: int,
                    topn: int, spaces: Mapping[str, Space], word: str) -> SenseCluster:
    """Size, the sentences nearest the centre (distinct), and the centre's neighbours in each space."""
    rows = np.flatnonzero(labels == cluster)
    centre = unit[rows].mean(axis=0)
    nearest = rows[np.argsort(-(unit[rows] @ centre), kind="stable")]
    shown = list(dict.fromkeys(sentences[i] for i in nearest))[:examples]
    neighbours = {name: space.similar_by_vector(centre, topn, exclude=[word])
                  for name, space in spaces.items() if space.dim == unit.shape[1]}
    return SenseCluster(len(rows), shown, neighbours)
