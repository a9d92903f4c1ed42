"""Our own mini GPT, seen from embedspace: load it, train it, ask it for next tokens, register its space.

The shipped model lives in ``data/mini/`` (``model.safetensors``, ``config.json``, ``vocab.txt``,
``meta.json``); ``$EMBEDSPACE_DATA`` moves the data folder. Its token embedding W_E, restricted to
the words of its vocabulary, is the ``mini`` space, comparable with word2vec's.
Everything the CLI needs from :mod:`transformer` is re-exported here.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from embedspace.errors import EmbedspaceError, NotInstalled
from embedspace.sources import SpaceInfo, data_dir, register_space
from embedspace.space import Space
from transformer.backend import DeviceUnavailable, get_xp
from transformer.checkpoint import load_model, save_model
from transformer.config import PRESETS, PUBLISHED_TOTALS, TransformerConfig, count_params
from transformer.generate import distribution, generate, next_token_logits, top_k
from transformer.train import Progress, TrainConfig, TrainingDiverged, load_checkpoint, train
from transformer.word_tokenizer import PUNCTUATION_NO_SPACE_BEFORE, SPECIALS, WordTokenizer

log = logging.getLogger(__name__)

__all__ = ["PRESETS", "PUBLISHED_TOTALS", "MiniModel", "Progress", "TrainConfig", "TrainingDiverged", "TransformerConfig",
           "count_params", "generate_text", "join_text", "load_mini_model", "mini_space", "next_token_table", "train_mini"]

VOCAB_FILE = "vocab.txt"
META_FILE = "meta.json"


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
    FileNotFoundError
        If the folder lacks a file; the message names it.
    """
    folder = Path(folder) if folder is not None else mini_dir()
    if not (folder / VOCAB_FILE).is_file():
        raise FileNotFoundError(f"{folder} is not a mini model folder: {VOCAB_FILE} is missing "
                                "(data/README.md gives the command that rebuilds data/mini)")
    params, cfg = load_model(folder)
    tokenizer = WordTokenizer.load(folder / VOCAB_FILE)
    if tokenizer.vocab_size != cfg.vocab_size:
        raise EmbedspaceError(f"{folder}: vocab.txt has {tokenizer.vocab_size} tokens but the config "
                              f"says vocab_size={cfg.vocab_size}")
    meta_path = folder / META_FILE
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    return MiniModel(params, cfg, tokenizer, meta, folder)


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


def mini_space(model: MiniModel, limit: int | None = None, keep_all_tokens: bool = False) -> Space:
    """A mini model's W_E as a Space: its word rows (all but the specials with ``keep_all_tokens``)."""
    tokens = model.tokenizer.id_to_token
    rows = [i for i, t in enumerate(tokens) if (keep_all_tokens and t not in SPECIALS) or is_word(t)]
    rows = rows[:limit] if limit else rows
    return Space([tokens[i] for i in rows], model.params["wte"][rows],
                 origin=f"mini GPT W_E ({model.folder})", name="mini")


def describe_mini() -> SpaceInfo:
    """Whether the shipped mini model is there, and its word count (from vocab.txt alone)."""
    folder = mini_dir()
    if not (folder / VOCAB_FILE).is_file() or not (folder / "config.json").is_file():
        return SpaceInfo("mini", False, reason=f"{folder} has no mini model (rebuild: python data/train_mini.py)")
    words = sum(map(is_word, (folder / VOCAB_FILE).read_text(encoding="utf-8").splitlines()))
    dims = json.loads((folder / "config.json").read_text())["n_embd"]
    return SpaceInfo("mini", True, size=words, dims=dims, origin=f"our mini GPT's W_E ({folder})")


register_space("mini", load_mini, describe_mini)


# --- next tokens and generation -----------------------------------------------------------------

def encode_prompt(model: MiniModel, text: str) -> list[int]:
    """``<bos>`` and the prompt's ids; an empty prompt is a ValueError."""
    ids = model.tokenizer.encode(text)
    if not ids:
        raise ValueError("the prompt has no words")
    return [model.tokenizer.bos_id, *ids]


def special_ids(model: MiniModel) -> list[int]:
    """Ids never offered as a next word: ``<unk>`` and ``<bos>``."""
    return [model.tokenizer.unk_id, model.tokenizer.bos_id]


def next_token_table(model: MiniModel, text: str, temperatures: Iterable[float], k: int = 10) -> list[dict]:
    """The ``k`` likeliest next tokens after ``text`` and their probability at each temperature.

    The ranking is the logits' (the same at every T > 0); T = 0 gives the first all the mass.

    Returns
    -------
    ``[{"temperature": T, "tokens": [{"token", "id", "probability"}, ...]}, ...]``
    """
    logits = next_token_logits(model.params, model.cfg, encode_prompt(model, text))
    ranked = [i for i, _ in top_k(distribution(logits, 1.0, suppress=special_ids(model)), k)]  # by logit
    table = []
    for temperature in temperatures:
        probs = distribution(logits, temperature, suppress=special_ids(model))
        rows = [{"token": model.tokenizer.id_to_token[i], "id": i, "probability": float(probs[i])} for i in ranked]
        table.append({"temperature": float(temperature), "tokens": rows})
    return table


def generate_text(model: MiniModel, prompt: str, max_tokens: int = 30, temperature: float = 1.0,
                  k: int | None = 40, seed: int | None = 0) -> str:
    """The prompt's continuation (new words only), deterministic for a seed; stops at ``<eos>``."""
    ids = generate(model.params, model.cfg, encode_prompt(model, prompt), max_tokens, temperature, k, seed,
                   suppress=special_ids(model), stop_id=model.tokenizer.eos_id)
    if ids and ids[-1] == model.tokenizer.eos_id:
        ids = ids[:-1]
    return model.tokenizer.decode(ids)


def join_text(prompt: str, continuation: str) -> str:
    """Prompt and continuation as one text, with no space before closing punctuation.

    Examples
    --------
    >>> join_text("the king said", ", where is he?")
    'the king said, where is he?'
    """
    if not continuation:
        return prompt
    glue = "" if continuation[0] in PUNCTUATION_NO_SPACE_BEFORE else " "
    return f"{prompt.rstrip()}{glue}{continuation}"


# --- training -----------------------------------------------------------------------------------

def read_lines(path) -> list[str]:
    """The corpus's non-empty lines; a missing or empty file is a clear error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"corpus file not found: {path}")
    lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    if not lines:
        raise EmbedspaceError(f"corpus file {path} has no text")
    return lines


def prepare_corpus(corpus, run_dir: Path, vocab_size: int, val_fraction: float = 0.01, seed: int = 0):
    """Tokenizer and ``(train_ids, val_ids)``, cached in ``run_dir`` (vocab.txt, train.npy, val.npy).

    Every ``1 / val_fraction``-th line, chosen at random with ``seed``, is held out for validation.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    cached = [run_dir / n for n in (VOCAB_FILE, "train.npy", "val.npy")]
    if all(p.is_file() for p in cached):
        return WordTokenizer.load(cached[0]), np.load(cached[1], mmap_mode="r"), np.load(cached[2], mmap_mode="r")
    if corpus is None:
        raise FileNotFoundError(f"{run_dir} holds no tokenized corpus: give the corpus file")
    lines = read_lines(corpus)
    tokenizer = WordTokenizer.build(lines, vocab_size)
    held_out = np.random.default_rng(seed).random(len(lines)) < val_fraction
    train_ids = tokenizer.encode_lines(line for line, v in zip(lines, held_out) if not v)
    val_ids = tokenizer.encode_lines(line for line, v in zip(lines, held_out) if v)
    tokenizer.save(cached[0])
    np.save(cached[1], train_ids)
    np.save(cached[2], val_ids)
    return tokenizer, train_ids, val_ids


def train_mini(corpus, out, run_dir=None, cfg: TransformerConfig | None = None, tc: TrainConfig | None = None,
               resume: bool | str | Path = False, device: str | None = None, threads: int | None = None,
               callback: Callable[[Progress], None] | None = None) -> dict:
    """Train a word-level GPT on a text file and write a model folder like ``data/mini/``.

    Parameters
    ----------
    corpus : text file, one sentence or paragraph per line
    out : model folder to write (weights float16, config.json, vocab.txt, meta.json)
    run_dir : checkpoints and the tokenized corpus (default: ``out`` + ``.run``)
    cfg : the model's shape; its vocab_size sets the tokenizer's (default: the ``mini`` preset)
    tc : training settings (default :class:`TrainConfig`)
    resume : True to continue the newest checkpoint of ``run_dir``, or a checkpoint folder
    device : "cpu" or "cuda"
    threads : CPU threads, each running a row group of every batch (default: see :func:`transformer.train.train`)

    Returns
    -------
    the meta dict written to ``meta.json`` (tokens seen, validation loss, seconds, interrupted).
    """
    try:
        get_xp(device)
    except DeviceUnavailable:
        raise NotInstalled("cupy-cuda12x", "gpu") from None
    cfg = cfg or PRESETS["mini"]
    out = Path(out)
    run_dir = Path(run_dir) if run_dir is not None else out.with_name(out.name + ".run")
    tokenizer, train_ids, val_ids = prepare_corpus(corpus, run_dir, cfg.vocab_size)
    if tokenizer.vocab_size != cfg.vocab_size:   # a small corpus has fewer distinct tokens
        cfg = TransformerConfig.from_dict({**cfg.to_dict(), "vocab_size": tokenizer.vocab_size})
    checkpoint_from = None
    if resume:
        checkpoint_from = run_dir if resume is True else Path(resume)
        cfg = load_checkpoint(checkpoint_from)[1]
    result = train(cfg, train_ids, val_ids, tc, run_dir=run_dir, resume=checkpoint_from,
                   device=device, threads=threads, callback=callback)
    meta = {"corpus": str(corpus), "train_tokens": len(train_ids), "val_tokens": len(val_ids),
            "steps": result.step, "tokens_seen": result.tokens_seen, "val_loss": result.val_loss,
            "seconds": round(result.seconds, 1), "interrupted": result.interrupted,
            "history": result.history, "checkpoint": str(result.checkpoint) if result.checkpoint else None}
    save_model(out, result.params, cfg, dtype=np.float16,
               extra_files={VOCAB_FILE: "\n".join(tokenizer.id_to_token) + "\n",
                            META_FILE: json.dumps(meta, indent=1) + "\n"})
    return meta
