"""Train a word2vec space with gensim, measure it, and read/write the shipped format.

The shipped format (``data/word2vec/``) is a folder with

- ``vectors.npy``: [V, D] float16 (float32 in memory once loaded),
- ``vocab.txt``: one key per line, row order (frequency order),
- ``meta.json``: training parameters, corpus token count, vocabulary size, accuracy, time, sources.

gensim is imported inside the functions that train or evaluate, never at module import.
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from embedspace.io.formats import read_space_dir
from embedspace.space import Space
from runtime.files import atomic_file

log = logging.getLogger(__name__)

VECTORS, VOCAB, META = "vectors.npy", "vocab.txt", "meta.json"

DEFAULT_PARAMS = {"vector_size": 100, "window": 5, "min_count": 5, "epochs": 5, "sg": 1, "negative": 5,
                  "sample": 1e-3, "workers": 2, "seed": 1}


def train_model(sentences: Iterable[list[str]] | str | os.PathLike,
                progress: Callable[[int, int], None] | None = None, **params):
    """Train a gensim ``Word2Vec`` model.

    Parameters
    ----------
    sentences : iterable of token lists, or a path
        Tokenised sentences; a path names a text file with one sentence of space-separated tokens
        per line, read by gensim's faster ``corpus_file`` mode.
    progress : callable(epoch, epochs), optional
        Called after each epoch (1-based), for a progress bar.
    **params
        gensim ``Word2Vec`` parameters (``vector_size``, ``window``, ``min_count``, ``epochs``, ``sg``,
        ``negative``, ``sample``, ``workers``, ``seed`` ...); defaults are ``DEFAULT_PARAMS``.

    Returns
    -------
    gensim.models.Word2Vec
        The trained model; ``model.wv`` holds the vectors in frequency order.
    """
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    class EpochEnd(CallbackAny2Vec):
        def __init__(self):
            self.epoch = 0

        def on_epoch_end(self, model):
            self.epoch += 1
            log.info("word2vec: epoch %d/%d done", self.epoch, model.epochs)
            if progress is not None:
                progress(self.epoch, model.epochs)

    settings = {**DEFAULT_PARAMS, **params}
    source = {"corpus_file": str(sentences)} if isinstance(sentences, (str, os.PathLike)) else {"sentences": sentences}
    if "corpus_file" in source and not Path(source["corpus_file"]).is_file():
        raise FileNotFoundError(f"corpus file not found: {source['corpus_file']}")
    log.info("word2vec: training with %s", settings)
    return Word2Vec(**source, callbacks=[EpochEnd()], **settings)


def train_word2vec(sentences: Iterable[list[str]] | str | os.PathLike,
                   progress: Callable[[int, int], None] | None = None, **params) -> Space:
    """Train word2vec with gensim and return the vectors as a :class:`Space` (frequency order).

    Parameters are those of :func:`train_model`.

    Examples
    --------
    >>> sentences = [["the", "king", "rules"], ["the", "queen", "rules"]] * 20
    >>> space = train_word2vec(sentences, vector_size=8, min_count=1, epochs=2, workers=1)
    >>> len(space), space.dim, sorted(space.index_to_key)
    (4, 8, ['king', 'queen', 'rules', 'the'])
    """
    model = train_model(sentences, progress=progress, **params)
    return Space.from_keyed_vectors(model.wv, origin="gensim Word2Vec", name="word2vec")


def analogy_accuracy(space: Space, questions: str | os.PathLike | None = None,
                     restrict_vocab: int = 30000) -> dict:
    """Accuracy on an analogy file, by gensim's own ``evaluate_word_analogies``.

    Parameters
    ----------
    space : Space
        The vectors to measure (as they will be used: a shipped space is measured after loading).
    questions : path, optional
        A file in the ``questions-words.txt`` format; default: gensim's bundled copy.
    restrict_vocab : int
        Only the first ``restrict_vocab`` keys take part (gensim's default 300 000; we report 30 000).

    Returns
    -------
    dict
        ``accuracy`` (fraction of covered questions answered right), ``correct``, ``covered``
        (questions whose four words are all in the restricted vocabulary) and ``sections``
        (name -> accuracy).
    """
    from gensim.test.utils import datapath

    kv = space.to_keyed_vectors()
    path = str(questions) if questions is not None else datapath("questions-words.txt")
    score, sections = kv.evaluate_word_analogies(path, restrict_vocab=restrict_vocab)
    total = next(s for s in sections if s["section"] == "Total accuracy")
    correct, covered = len(total["correct"]), len(total["correct"]) + len(total["incorrect"])
    per_section = {s["section"]: round(len(s["correct"]) / max(1, len(s["correct"]) + len(s["incorrect"])), 4)
                   for s in sections if s["section"] != "Total accuracy"}
    return {"accuracy": float(score), "correct": correct, "covered": covered, "sections": per_section}


def to_shipped(space: Space, words: int | None = None) -> Space:
    """The first ``words`` rows of ``space`` rounded through float16, exactly as :func:`save_shipped` stores them.

    Measure this space, not the float32 original: it is what users load.

    Examples
    --------
    >>> space = Space(["a", "b", "c"], np.array([[0.1], [0.2], [0.3]], dtype=np.float32))
    >>> shipped = to_shipped(space, 2)
    >>> shipped.index_to_key, shipped.vectors.dtype, float(shipped["a"][0])
    (['a', 'b'], dtype('float32'), 0.0999755859375)
    """
    keys = space.index_to_key[:words]
    return Space(keys, as_float16(space.vectors[:len(keys)]).astype(np.float32), origin=space.origin, name=space.name)


def as_float16(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` as float16 [V, D]; a ValueError when a value is too large for float16."""
    with np.errstate(over="ignore"):
        half = np.asarray(vectors, dtype=np.float16)
    if not np.isfinite(half).all():
        raise ValueError("vectors overflow float16 (|value| > 65504); cannot ship them in the float16 format")
    return half


def save_shipped(space: Space, folder: str | os.PathLike, meta: dict) -> Path:
    """Write ``space`` in the shipped format: ``vectors.npy`` (float16), ``vocab.txt``, ``meta.json``.

    Parameters
    ----------
    space : Space
        The vectors, in the row order to ship (frequency order); see :func:`to_shipped` to cut and round.
    folder : path
        The folder to write (created if needed); each file is written atomically.
    meta : dict
        What ``meta.json`` records; ``vocabulary_size`` and ``dims`` are filled in here.

    Examples
    --------
    >>> import tempfile
    >>> space = Space(["a", "b"], np.arange(4, dtype=np.float32).reshape(2, 2))
    >>> back = load_shipped(save_shipped(space, tempfile.mkdtemp(), {"note": "tiny"}))
    >>> back.index_to_key, back.vectors.tolist(), back.vectors.dtype
    (['a', 'b'], [[0.0, 1.0], [2.0, 3.0]], dtype('float32'))
    """
    folder = Path(folder)
    vectors = as_float16(space.vectors)  # [V, D]
    bad = [key for key in space.index_to_key if not key or any(c.isspace() for c in key)]
    if bad:
        raise ValueError(f"keys that are empty or hold whitespace cannot be written one per line: {bad[:5]}")
    with atomic_file(folder / VECTORS, "wb") as handle:
        np.save(handle, vectors)
    with atomic_file(folder / VOCAB, "w") as handle:
        handle.write("".join(f"{key}\n" for key in space.index_to_key))
    meta = {**meta, "vocabulary_size": len(space), "dims": space.dim}
    with atomic_file(folder / META, "w") as handle:
        json.dump(meta, handle, indent=2)
    log.info("wrote %d x %d float16 vectors to %s", len(space), space.dim, folder)
    return folder


def load_shipped(folder: str | os.PathLike) -> Space:
    """Read a folder in the shipped format back as a float32 :class:`Space` (see :func:`save_shipped`)."""
    keys, vectors, _ = read_space_dir(folder)  # float16 on disk -> float32 [V, D], validated
    return Space(keys, vectors, origin=str(folder), name="word2vec")

