"""Training our mini GPT on a text file, into a model folder like ``data/mini/``.

A run has three places:

- the corpus, a text file; its sha256 is part of the run's identity (:mod:`transformer.runs`);
- the run folder (default: OUT + ``.run``): ``run.json``, the checkpoints, and the tokenized corpus
  (``vocab.txt``, ``train.npy``, ``val.npy``) with ``tokens.json`` recording the corpus it was made
  from and each file's sha256, so a damaged file is named and another corpus is never used unseen;
- the model folder OUT, written whole at the end (weights float16, config.json, vocab.txt, and
  meta.json naming the run and its folder).

A folder holding another run (or another run's model) is refused unless the caller starts over
(``restart``); a resumed run keeps its settings and may only extend ``steps``.
Everything the CLI needs from :mod:`transformer` for training is re-exported here.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embedspace.errors import EmbedspaceError, FormatError, InvalidInput, MissingFile, NotInstalled
from embedspace.io.mini_model import META_FILE, VOCAB_FILE
from embedspace.io.saving import check_destination
from embedspace.paths import is_within
from embedspace.training.corpus import text_file
from runtime.files import atomic_file, remove_stale_temporaries, temporaries_of
from transformer.backend import DeviceUnavailable, get_xp
from transformer.checkpoint import CONFIG_FILE, save_model
from transformer.config import PRESETS, PUBLISHED_TOTALS, TransformerConfig, count_params
from transformer.runs import STATE_FILE, RunFolder, RunMismatch, latest_checkpoint, read_state
from transformer.train import Progress, TrainConfig, TrainingDiverged, train
from transformer.word_tokenizer import WordTokenizer

log = logging.getLogger(__name__)

__all__ = ["PRESETS", "PUBLISHED_TOTALS", "Progress", "TrainConfig", "TrainingDiverged", "TransformerConfig",
           "count_params", "prepare_corpus", "read_lines", "train_mini"]

TOKENS_FILE = "tokens.json"
TOKEN_FILES = (VOCAB_FILE, "train.npy", "val.npy")
MODEL_FILES = ("model.safetensors", "config.json", VOCAB_FILE, META_FILE)
VAL_FRACTION, SPLIT_SEED = 0.01, 0   # every line is held out for validation with this chance, drawn with this seed


def read_lines(path) -> list[str]:
    """The corpus's non-empty lines; a missing, special or empty file is a clear error."""
    path = text_file(path)
    lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    if not lines:
        raise EmbedspaceError(f"corpus file {path} has no text")
    return lines


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def corpus_source(corpus: Path, vocab_size: int) -> dict:
    """What the run's tokens are made from, as its identity records it: the corpus's sha256 and the tokenizer's settings."""
    return {"corpus_sha256": file_sha256(text_file(corpus)), "vocab_size": vocab_size,
            "val_fraction": VAL_FRACTION, "split_seed": SPLIT_SEED}


def prepare_corpus(corpus, run_dir: Path, source: dict | None):
    """Tokenizer and ``(train_ids, val_ids)`` for ``source``, cached in ``run_dir`` with ``tokens.json``.

    The cache is used when ``tokens.json`` names the same source and every file still has the
    sha256 it records; else the corpus is tokenized again (every ``1 / val_fraction``-th line, drawn
    with the split seed, is held out for validation). ``source`` None (a run from before the
    identities) takes the cache as it is.

    Raises
    ------
    MissingFile
        When the tokens must be made and no corpus is given.
    FormatError
        Naming a damaged cached file when no corpus is given to make it again.
    """
    run_dir = Path(run_dir)
    record = read_token_record(run_dir)
    if record is not None and source in (None, record["source"]):
        loaded, damaged = load_tokens(run_dir, record)
        if loaded is not None:
            return loaded
        if corpus is None:
            raise FormatError(run_dir / damaged, f"{damaged} differs from what {TOKENS_FILE} records (damaged?): "
                              "give the corpus file (--corpus) to tokenize it again")
        log.warning("%s is damaged: tokenizing %s again", run_dir / damaged, corpus)
    elif record is None and source is None and all((run_dir / name).is_file() for name in TOKEN_FILES):
        return load_token_files(run_dir)
    if corpus is None:
        raise MissingFile(f"{run_dir} holds no tokenized corpus for this run: give the corpus file (--corpus)")
    return write_tokens(corpus, run_dir, source)


def read_token_record(run_dir: Path) -> dict | None:
    """``tokens.json`` (None when absent or unreadable: the tokens are then made again)."""
    try:
        record = json.loads((run_dir / TOKENS_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(record, dict) and isinstance(record.get("files"), dict) and "source" in record
    return record if ok else None


def load_tokens(run_dir: Path, record: dict):
    """``((tokenizer, train, val), None)`` when every file has its recorded sha256, else ``(None, damaged name)``."""
    for name in TOKEN_FILES:
        path = run_dir / name
        if not path.is_file() or file_sha256(path) != record["files"].get(name):
            return None, name
    return load_token_files(run_dir), None


def load_token_files(run_dir: Path):
    """``(tokenizer, train_ids, val_ids)`` from the cache, the arrays memory-mapped; a bad file is named."""
    arrays = []
    for name in TOKEN_FILES[1:]:
        try:
            arrays.append(np.load(run_dir / name, mmap_mode="r", allow_pickle=False))
        except (ValueError, OSError, EOFError) as error:
            raise FormatError(run_dir / name, f"not a token array ({error}): start over with --restart") from None
    return (WordTokenizer.load(run_dir / VOCAB_FILE), *arrays)


def write_tokens(corpus, run_dir: Path, source: dict):
    """Tokenize ``corpus`` and write the cache: each file atomically, ``tokens.json`` last."""
    lines = read_lines(corpus)
    tokenizer = WordTokenizer.build(lines, source["vocab_size"])
    held_out = np.random.default_rng(source["split_seed"]).random(len(lines)) < source["val_fraction"]
    train_ids = tokenizer.encode_lines(line for line, v in zip(lines, held_out) if not v)
    val_ids = tokenizer.encode_lines(line for line, v in zip(lines, held_out) if v)
    run_dir.mkdir(parents=True, exist_ok=True)
    with atomic_file(run_dir / VOCAB_FILE, "w") as out:
        out.write("\n".join(tokenizer.id_to_token) + "\n")
    for name, ids in zip(TOKEN_FILES[1:], (train_ids, val_ids)):
        with atomic_file(run_dir / name) as out:
            np.save(out, ids)
    record = {"corpus": str(corpus), "source": source,
              "files": {name: file_sha256(run_dir / name) for name in TOKEN_FILES}}
    with atomic_file(run_dir / TOKENS_FILE, "w") as out:
        json.dump(record, out, indent=1)
    return tokenizer, train_ids, val_ids


def clear_tokens(run_dir: Path) -> None:
    """Remove the tokenized corpus (starting over)."""
    for name in (*TOKEN_FILES, TOKENS_FILE):
        (run_dir / name).unlink(missing_ok=True)


def run_folder_for(out: Path, run_dir, resume) -> Path:
    """The run folder: ``run_dir`` if given; else the one ``resume`` names (a checkpoint's parent); else OUT.run."""
    if run_dir is not None:
        return Path(run_dir)
    if resume not in (None, False, True):
        resume = Path(resume)
        return resume.parent if (resume / STATE_FILE).is_file() else resume
    return out.with_name(out.name + ".run")


def check_model_destination(out: Path, run_dir: Path, corpus: Path | None, restart: bool) -> None:
    """Refuse a model folder whose replacement would lose something.

    Refused: a file; the run folder itself, or a folder inside it or holding it; a folder holding the
    corpus or files other than a model's; and, unless ``restart``, a model folder written by another
    run (its meta.json names another run folder, or none).
    """
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"{out} is a file: the model folder to write must be a new folder or a model folder")
    if is_within(out, run_dir) or is_within(run_dir, out):
        raise InvalidInput(f"the model folder {out} and the run folder {run_dir} must be apart")
    check_destination(out, keeps=MODEL_FILES, reading=[corpus] if corpus else [], shipped=True)
    if restart or not (out / META_FILE).is_file():
        return
    try:
        meta = json.loads((out / META_FILE).read_text("utf-8"))
        written_by = meta.get("run_dir")
        if written_by is None and meta.get("checkpoint"):     # written before run folders were recorded
            written_by = str(Path(meta["checkpoint"]).resolve().parent)
    except (OSError, ValueError, AttributeError, TypeError):
        written_by = None
    if written_by != str(run_dir.resolve()):
        raise RunMismatch(f"{out} holds the model of another run ({written_by or 'its run folder is not recorded'}): "
                          "choose another model folder, or replace it with --restart")


def resumed_settings(checkpoint: Path, state: dict, cfg: TransformerConfig | None, tc: TrainConfig | None,
                     steps: int | None) -> tuple[None, TrainConfig | None]:
    """``(cfg, tc)`` to hand :func:`transformer.train.train` when resuming: the checkpoint's shape (a
    given ``cfg`` must match it, its vocabulary size aside: the corpus may have had fewer tokens), and
    ``tc`` or the checkpoint's settings extended to ``steps`` (train refuses any other change).
    """
    if cfg is not None:
        recorded_cfg = TransformerConfig.from_dict(json.loads((checkpoint / CONFIG_FILE).read_text("utf-8")))
        if dataclasses.replace(cfg, vocab_size=recorded_cfg.vocab_size) != recorded_cfg:
            raise InvalidInput(f"a resumed run keeps its model, but the shape given differs from {checkpoint}'s")
    if steps is not None:
        tc = dataclasses.replace(TrainConfig(**state["train_config"]), steps=steps)
    return None, tc


def model_folder(out) -> Path:
    """``out`` as a folder with a name (``.`` and ``..`` resolved: the run folder is named after it)."""
    out = Path(out)
    if out.name in ("", ".", ".."):
        out = out.resolve()
    if not out.name:
        raise InvalidInput(f"{out} cannot be a model folder: give a folder with a name")
    return out


def train_mini(corpus, out, run_dir=None, cfg: TransformerConfig | None = None, tc: TrainConfig | None = None,
               resume: bool | str | Path = False, device: str | None = None, threads: int | None = None,
               callback: Callable[[Progress], None] | None = None, restart: bool = False,
               steps: int | None = None) -> dict:
    """Train a word-level GPT on a text file and write a model folder like ``data/mini/``.

    Parameters
    ----------
    corpus : text file, one sentence or paragraph per line (optional when resuming)
    out : model folder to write (weights float16, config.json, vocab.txt, meta.json), replaced whole at the end
    run_dir : checkpoints and the tokenized corpus (default: ``out`` + ``.run``; when resuming from a
        path, that run folder, or the checkpoint's)
    cfg : the model's shape; its vocab_size sets the tokenizer's (default: the ``mini`` preset; not when resuming)
    tc : training settings (default :class:`TrainConfig`); when resuming, they must be the run's except ``steps``
    resume : True to continue the newest checkpoint of ``run_dir``, or a checkpoint or run folder
    device : "cpu" or "cuda"
    threads : CPU threads, each running a row group of every batch (default: see :func:`transformer.train.train`)
    restart : start over: the run folder's checkpoints and tokens are removed, and another run's model in
        ``out`` may be replaced
    steps : when resuming, extend the run to this many steps (fewer than it has done is refused)

    Returns
    -------
    the meta dict written to ``meta.json`` (tokens seen, validation loss, seconds, interrupted, run).

    Raises
    ------
    RunMismatch
        When ``run_dir`` or ``out`` belongs to another run (see :mod:`transformer.runs`), unless ``restart``.
    """
    try:
        get_xp(device)
    except DeviceUnavailable:
        raise NotInstalled("cupy-cuda12x", "gpu") from None
    if resume and restart:
        raise InvalidInput("--restart starts a new run; it cannot be combined with --resume")
    if steps is not None and (not resume or tc is not None):
        raise InvalidInput("steps extends a resumed run; otherwise give the steps in the TrainConfig")
    out = model_folder(out)
    corpus = text_file(corpus) if corpus is not None else None
    run_dir = run_folder_for(out, run_dir, resume)
    checkpoint_from = latest_checkpoint(run_dir if resume is True else resume) if resume else None
    check_model_destination(out, run_dir, corpus, restart)
    state = read_state(checkpoint_from) if checkpoint_from else None
    if state is not None:
        cfg, tc = resumed_settings(checkpoint_from, state, cfg, tc, steps)
    with RunFolder(run_dir) as folder:
        remove_stale_temporaries(Path(out).parent, pattern=temporaries_of(Path(out).name))
        if restart:
            folder.clear()
            clear_tokens(run_dir)
        recorded = (state or {}).get("identity") or {}
        vocab_size = recorded.get("source", {}).get("vocab_size") or (cfg or PRESETS["mini"]).vocab_size
        source = corpus_source(corpus, vocab_size) if corpus is not None else recorded.get("source")
        folder.check_source(source, resuming=state is not None)
        tokenizer, train_ids, val_ids = prepare_corpus(corpus, run_dir, source)
        if state is None:
            cfg, tc = cfg or PRESETS["mini"], tc or TrainConfig()
            if tokenizer.vocab_size != cfg.vocab_size:   # a small corpus has fewer distinct tokens
                cfg = TransformerConfig.from_dict({**cfg.to_dict(), "vocab_size": tokenizer.vocab_size})
        result = train(cfg, train_ids, val_ids, tc, run_dir=folder, resume=checkpoint_from, device=device,
                       threads=threads, callback=callback, source=source)
        record = read_token_record(run_dir) or {}
        meta = {"corpus": str(corpus or record.get("corpus")), "train_tokens": len(train_ids), "val_tokens": len(val_ids),
                "steps": result.step, "tokens_seen": result.tokens_seen, "val_loss": result.val_loss,
                "seconds": round(result.seconds, 1), "interrupted": result.interrupted, "history": result.history,
                "checkpoint": str(result.checkpoint) if result.checkpoint else None,
                "run": result.run, "run_dir": str(run_dir.resolve())}
        check_model_destination(out, run_dir, corpus, restart)   # again: a long run may have met a new folder
        save_model(out, result.params, result.cfg, dtype=np.float16,
                   extra_files={VOCAB_FILE: "\n".join(tokenizer.id_to_token) + "\n",
                                META_FILE: json.dumps(meta, indent=1) + "\n"})
    return meta
