"""Training our mini GPT on a text file, into a model folder like ``data/mini/``.

Everything the CLI needs from :mod:`transformer` for training is re-exported here.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embedspace.errors import EmbedspaceError, NotInstalled
from embedspace.io.mini_model import META_FILE, VOCAB_FILE
from transformer.backend import DeviceUnavailable, get_xp
from transformer.checkpoint import save_model
from transformer.config import PRESETS, PUBLISHED_TOTALS, TransformerConfig, count_params
from transformer.train import Progress, TrainConfig, TrainingDiverged, load_checkpoint, train
from transformer.word_tokenizer import WordTokenizer

log = logging.getLogger(__name__)

__all__ = ["PRESETS", "PUBLISHED_TOTALS", "Progress", "TrainConfig", "TrainingDiverged", "TransformerConfig",
           "count_params", "prepare_corpus", "read_lines", "train_mini"]

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
