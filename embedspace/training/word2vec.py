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
import math
import numbers
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from embedspace.errors import EmbedspaceError, InvalidInput
from embedspace.io.formats import read_space_dir
from embedspace.io.saving import SPACE_FOLDER_FILES, check_destination
from embedspace.space import Space
from runtime.files import atomic_folder, remove_stale_temporaries, temporaries_of
from runtime.memory import available_memory

log = logging.getLogger(__name__)

VECTORS, VOCAB, META = SPACE_FOLDER_FILES

DEFAULT_PARAMS = {"vector_size": 100, "window": 5, "min_count": 5, "epochs": 5, "sg": 1, "negative": 5,
                  "sample": 1e-3, "workers": 2, "seed": 1}
C_INT_MAX = 2**31 - 1          # gensim's C loops keep window, negative and vector_size in C ints
# gensim trains on sentences of at most 10,000 words (MAX_WORDS_IN_BATCH; longer ones are cut), so a wider
# window sees nothing more; a window past the C int range overflows in the worker threads, which then hang
MAX_WINDOW = 10_000
MAX_WORKERS = 256              # one Python thread each; beyond the cores they only queue
# name -> (least, most) for whole-number settings; the float ones must be finite and >= 0 (alpha > 0)
INT_LIMITS = {"vector_size": (1, C_INT_MAX), "window": (1, MAX_WINDOW), "min_count": (1, None),
              "epochs": (1, C_INT_MAX), "negative": (0, C_INT_MAX), "workers": (1, MAX_WORKERS),
              "seed": (0, 2**32 - 1), "sg": (0, 1), "hs": (0, 1), "max_final_vocab": (1, None)}
FLOAT_SETTINGS = ("sample", "alpha", "min_alpha")


class EmptyVocabulary(EmbedspaceError, ValueError):
    """No word of the corpus occurs often enough (``min_count``) to be trained."""


def check_params(settings: dict) -> None:
    """Refuse a setting gensim would choke on (an overflow in a worker thread hangs it); InvalidInput naming it.

    Examples
    --------
    >>> check_params({"window": 10**12})
    Traceback (most recent call last):
    ...
    embedspace.errors.InvalidInput: window must be a whole number from 1 to 10000, got 1000000000000
    """
    for name, value in settings.items():
        if name in INT_LIMITS:
            least, most = INT_LIMITS[name]
            if (not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < least
                    or (most is not None and value > most)):
                span = f"from {least} to {most}" if most is not None else f"of at least {least}"
                raise InvalidInput(f"{name} must be a whole number {span}, got {value!r}")
        elif name in FLOAT_SETTINGS and not (isinstance(value, numbers.Real) and math.isfinite(value) and value >= 0
                                             and (value > 0 or name != "alpha")):
            raise InvalidInput(f"{name} must be a finite number {'above' if name == 'alpha' else 'of at least'} 0, "
                               f"got {value!r}")


def check_memory(model, words: int) -> None:
    """Refuse training whose vectors cannot fit, before gensim allocates them.

    gensim's own estimate (vocabulary, vectors, output weights) plus each worker thread's two buffers
    of ``vector_size`` floats.
    """
    buffers = model.workers * 2 * model.layer1_size * 4
    needed, free = model.estimate_memory(vocab_size=words)["total"] + buffers, available_memory()
    if free is not None and needed > free:
        raise InvalidInput(f"word2vec with {words:,} words x {model.vector_size:,} dimensions needs about "
                           f"{needed / 2**30:,.1f} GiB of memory, and {free / 2**30:,.1f} GiB is available: "
                           "lower the dimensions (or raise min_count)")


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
    check_params(settings)
    source = ({"corpus_file": str(sentences)} if isinstance(sentences, (str, os.PathLike))
              else {"corpus_iterable": sentences})
    if "corpus_file" in source and not Path(source["corpus_file"]).is_file():
        raise FileNotFoundError(f"corpus file not found: {source['corpus_file']}")
    log.info("word2vec: training with %s", settings)
    # Word2Vec(sentences, ...) = build_vocab + train; build_vocab's steps are taken one by one here so
    # that an empty vocabulary and the memory are checked before prepare_weights allocates [V, D] twice
    model = Word2Vec(**settings)
    model.corpus_total_words, model.corpus_count = model.scan_vocab(**source, trim_rule=None)
    words = model.prepare_vocab()["num_retained_words"]
    if not words:
        raise EmptyVocabulary(f"no word of the corpus ({model.corpus_total_words:,} words) occurs min_count="
                              f"{model.min_count} times or more: lower min_count, or give more text")
    check_memory(model, words)
    model.prepare_weights()
    model.train(**source, total_examples=model.corpus_count, total_words=model.corpus_total_words,
                epochs=model.epochs, start_alpha=model.alpha, end_alpha=model.min_alpha, callbacks=[EpochEnd()])
    return model


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
    """``vectors`` as float16 [V, D]; an InvalidInput (a ValueError) when a value is too large for float16."""
    with np.errstate(over="ignore", invalid="ignore"):
        half = np.asarray(vectors, dtype=np.float16)
    if not np.isfinite(half).all():
        raise InvalidInput("vectors overflow float16 (|value| > 65504) or are not finite; "
                           "cannot ship them in the float16 format")
    return half


def save_shipped(space: Space, folder: str | os.PathLike, meta: dict) -> Path:
    """Write ``space`` in the shipped format: ``vectors.npy`` (float16), ``vocab.txt``, ``meta.json``.

    Parameters
    ----------
    space : Space
        The vectors, in the row order to ship (frequency order); see :func:`to_shipped` to cut and round.
    folder : path
        The folder to write, whole and atomically: the files are written in a temporary folder beside
        it that then replaces it, so a kill never pairs new vectors with an old vocabulary. An existing
        folder holding other files is refused (:func:`embedspace.io.saving.check_destination`).
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
    folder = check_destination(folder, shipped=True)   # the build script rewrites data/word2vec
    vectors = as_float16(space.vectors)  # [V, D]
    bad = [key for key in space.index_to_key if not key or any(c.isspace() for c in key)]
    if bad:
        raise InvalidInput(f"keys that are empty or hold whitespace cannot be written one per line: {bad[:5]}")
    remove_stale_temporaries(Path(folder).parent, pattern=temporaries_of(Path(folder).name))
    meta = {**meta, "vocabulary_size": len(space), "dims": space.dim}
    with atomic_folder(folder) as tmp:
        np.save(tmp / VECTORS, vectors)
        (tmp / VOCAB).write_text("".join(f"{key}\n" for key in space.index_to_key), "utf-8")
        (tmp / META).write_text(json.dumps(meta, indent=2), "utf-8")
    log.info("wrote %d x %d float16 vectors to %s", len(space), space.dim, folder)
    return folder


def load_shipped(folder: str | os.PathLike) -> Space:
    """Read a folder in the shipped format back as a float32 :class:`Space` (see :func:`save_shipped`)."""
    keys, vectors, _ = read_space_dir(folder)  # float16 on disk -> float32 [V, D], validated
    return Space(keys, vectors, origin=str(folder), name="word2vec")

