"""Our own mini GPT's model folder: load it, and its W_E as the ``mini`` space.

The shipped model lives in ``data/mini/`` (``model.safetensors``, ``config.json``, ``vocab.txt``,
``meta.json``); ``$EMBEDSPACE_DATA`` moves the data folder. Its token embedding W_E, restricted to
the words of its vocabulary, is the ``mini`` space, comparable with word2vec's: :func:`load_mini` and
:func:`describe_mini` are its provider (:data:`MINI_PROVIDER`), registered by :mod:`embedspace.catalog`.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import NamedTuple

from embedspace.errors import FormatError, MissingFile
from embedspace.io.registry import Provider, SpaceInfo
from embedspace.paths import data_dir
from embedspace.space import Space
from transformer.checkpoint import load_model
from transformer.config import TransformerConfig
from transformer.word_tokenizer import SPECIALS, WordTokenizer

log = logging.getLogger(__name__)

VOCAB_FILE = "vocab.txt"
META_FILE = "meta.json"
MINI_DIMS_PER_DIRECTION = 25  # a mini model's W_E loses one dominant direction per 25 dims by default (docs/analysis.md)


class MiniModel(NamedTuple):
    """A loaded word-level GPT: its parameters, config, tokenizer and training notes."""

    params: dict                 # nested float32 numpy arrays (see transformer.model)
    cfg: TransformerConfig
    tokenizer: WordTokenizer
    meta: dict                   # meta.json: corpus, tokens seen, validation loss, timings
    folder: Path


def mini_dir() -> Path:
    """The shipped mini model's folder: ``data/mini`` (or ``$EMBEDSPACE_DATA/mini``)."""
    return data_dir() / "mini"


def load_mini_model(folder=None) -> MiniModel:
    """Load a mini model folder (default: the shipped one), weights as float32.

    Raises
    ------
    MissingFile
        If the folder lacks a file (a :class:`FileNotFoundError`); the message names it.
    FormatError
        If its vocab.txt and config.json disagree on the vocabulary size.
    """
    folder = Path(folder) if folder is not None else mini_dir()
    if not (folder / VOCAB_FILE).is_file():
        raise MissingFile(f"{folder} is not a mini model folder: {VOCAB_FILE} is missing "
                          "(data/README.md gives the command that rebuilds data/mini)")
    params, cfg = load_model(folder)
    tokenizer = WordTokenizer.load(folder / VOCAB_FILE)
    if tokenizer.vocab_size != cfg.vocab_size:
        raise FormatError(folder, f"vocab.txt has {tokenizer.vocab_size} tokens but the config says "
                                  f"vocab_size={cfg.vocab_size}")
    return MiniModel(params, cfg, tokenizer, read_meta(folder / META_FILE), folder)


def read_meta(path: Path) -> dict:
    """A model folder's ``meta.json`` (training notes), or ``{}`` when there is none.

    Raises
    ------
    FormatError
        When the file is not a JSON object.
    """
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FormatError(path, f"not valid JSON ({error})") from None
    if not isinstance(meta, dict):
        raise FormatError(path, f"holds a JSON {type(meta).__name__}, not an object")
    return meta


# --- the `mini` space ---------------------------------------------------------------------------

def is_word(token: str) -> bool:
    """True for tokens that contain a letter (not specials, punctuation or bare numbers).

    Examples
    --------
    >>> [t for t in ["king", "<unk>", ",", "42", "o'er"] if is_word(t)]
    ['king', "o'er"]
    """
    return token not in SPECIALS and any(ch.isalpha() for ch in token)


def load_mini(*, limit: int | None = None, keep_all_tokens: bool = False, **_options) -> Space:
    """The ``mini`` space: rows of the shipped model's W_E for its words (frequency order)."""
    return mini_space(load_mini_model(), limit, keep_all_tokens)


def mini_space(model: MiniModel, limit: int | None = None, keep_all_tokens: bool = False,
               name: str = "mini") -> Space:
    """A mini model's W_E as a Space: its word rows (all but the specials with ``keep_all_tokens``).

    The word-level tokenizer lower-cases what it reads, so the space is uncased.
    """
    tokens = model.tokenizer.id_to_token
    rows = [i for i, t in enumerate(tokens) if (keep_all_tokens and t not in SPECIALS) or is_word(t)]
    rows = rows[:limit] if limit else rows
    return Space([tokens[i] for i in rows], model.params["wte"][rows],
                 origin=f"mini GPT W_E ({model.folder})", name=name, cased=False)


def default_remove_top(dims: int) -> int:
    """Dominant directions a mini model's W_E loses by default (all-but-the-top): one per 25 dims.

    Measured on the shipped model (128 dims): 5 directions do best on questions-words, SimLex-999 and
    WordSim-353 together (docs/analysis.md); a tiny model of under 25 dims keeps its raw W_E.

    >>> default_remove_top(128), default_remove_top(8)
    (5, 0)
    """
    return dims // MINI_DIMS_PER_DIRECTION


def is_model_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a mini model (``model.safetensors``, ``config.json`` and ``vocab.txt``)."""
    return all((Path(folder) / name).is_file() for name in ("model.safetensors", "config.json", VOCAB_FILE))


def describe_mini() -> SpaceInfo:
    """Whether the shipped mini model is there, and its word count (from vocab.txt alone)."""
    folder = mini_dir()
    if not (folder / VOCAB_FILE).is_file() or not (folder / "config.json").is_file():
        return SpaceInfo("mini", False, reason=f"{folder} has no mini model (rebuild: python data/train_mini.py)")
    words = sum(map(is_word, (folder / VOCAB_FILE).read_text(encoding="utf-8").splitlines()))
    dims = json.loads((folder / "config.json").read_text())["n_embd"]
    removed = default_remove_top(dims)
    note = f"; top {removed} directions removed by default (all-but-the-top)" if removed else ""
    return SpaceInfo("mini", True, size=words, dims=dims, origin=f"our mini GPT's W_E ({folder}){note}")


MINI_PROVIDER = Provider(load_mini, describe_mini, remove_top=default_remove_top)
