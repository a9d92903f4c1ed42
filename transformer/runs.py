"""A training run's folder: whose it is, the checkpoints it keeps, and what a killed run left behind.

::

    run_dir/
      run.json        the run's identity (below) and its id, written when the run starts
      step-000200/    checkpoints: model.safetensors, config.json, optimizer.safetensors (AdamW's
                      moments), state.json (step, sampler state, history, identity); the two newest kept
      .lock           held (flock) by the process training in the folder

A run's **identity** is everything that decides its parameters: the model config, the training
settings except ``steps`` (a resumed run may extend, see :data:`EXTENDABLE`), a digest of the
training and validation tokens, and the ``source`` its caller records (for ``train-mini``: the
corpus's sha256 and the tokenizer's settings). A folder holding another run's identity is refused
unless the caller starts over (``restart``), so two runs never mix their checkpoints. Every
checkpoint's ``state.json`` carries the identity too, so a checkpoint resumed into another folder
is checked against the data it is given.

What a killed checkpoint write left behind (:data:`TEMPORARY`) is removed by
``runtime.files.remove_stale_temporaries`` when the folder is next opened.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import shutil
import time
from pathlib import Path

import numpy as np

from runtime.files import atomic_file, remove_stale_temporaries
from transformer import checkpoint
from transformer.errors import TransformerError, UnsupportedCheckpoint

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
LOCK_FILE = ".lock"
STATE_FILE = "state.json"
OPTIMIZER_FILE = "optimizer.safetensors"
KEEP_CHECKPOINTS = 2           # the newest checkpoints kept in a run folder
EXTENDABLE = ("steps",)        # the only training setting a resumed run may change
CHECKPOINT = re.compile(r"^step-(\d{6,})$")
# what an interrupted atomic write leaves beside step-NNNNNN: ".step-NNNNNN.<8 random>.tmp", the same with
# ".<pid>@<host>" before ".tmp" (runtime.files.atomic_folder), or the ".old" copy being removed
TEMPORARY = re.compile(r"^\.(?P<dest>step-\d{6,})\.(?:[a-z0-9_]{8}\.(?:(?P<pid>\d+)@(?P<host>[0-9a-f]{8})\.)?)?(?:tmp|old)$")


class RunMismatch(TransformerError, ValueError):
    """A run folder holds another run (other settings or data), or already holds this one."""


class RunBusy(TransformerError, RuntimeError):
    """Another process is training in the same run folder."""


def token_digest(tokens) -> str:
    """sha256 of a 1-D token array's dtype, length and values (read in blocks: a memmap is not loaded whole).

    Examples
    --------
    >>> token_digest(np.arange(5, dtype=np.int32)) == token_digest(np.arange(5, dtype=np.int32))
    True
    >>> token_digest(np.arange(5, dtype=np.int32)) == token_digest(np.arange(1, 6, dtype=np.int32))
    False
    """
    tokens = np.asarray(tokens) if not isinstance(tokens, np.ndarray) else tokens
    digest = hashlib.sha256(f"{tokens.dtype.str}:{len(tokens)}:".encode())
    block = 1 << 22
    for start in range(0, len(tokens), block):
        digest.update(np.ascontiguousarray(tokens[start:start + block]).tobytes())
    return digest.hexdigest()


def run_identity(cfg, tc, train_tokens, val_tokens, source: dict | None = None) -> dict:
    """The identity of a run (see the module docstring) as a JSON-ready dict.

    ``cfg`` is a :class:`~transformer.config.TransformerConfig`, ``tc`` a
    :class:`~transformer.train.TrainConfig`; ``source`` is what the caller records of where the
    tokens came from.
    """
    training = {k: v for k, v in dataclasses.asdict(tc).items() if k not in EXTENDABLE}
    data = {"train": token_digest(train_tokens), "val": token_digest(val_tokens),
            "train_tokens": len(train_tokens), "val_tokens": len(val_tokens)}
    return {"model": cfg.to_dict(), "training": training, "data": data, "source": source or {}}


def identity_id(identity: dict) -> str:
    """A short name for an identity: the first 16 hex digits of its canonical JSON's sha256."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def differences(recorded: dict, given: dict, limit: int = 3) -> str:
    """What differs between two identities, as ``"lr 0.003 there, 0.01 here"`` phrases (at most ``limit``).

    Examples
    --------
    >>> differences({"training": {"lr": 0.003, "seed": 0}}, {"training": {"lr": 0.01, "seed": 0}})
    'lr 0.003 there, 0.01 here'
    """
    flat_a, flat_b = _flat(recorded), _flat(given)
    keys = [k for k in sorted(set(flat_a) | set(flat_b)) if flat_a.get(k) != flat_b.get(k)]
    phrases = [f"{_name(k)} {_short(flat_a.get(k))} there, {_short(flat_b.get(k))} here" for k in keys[:limit]]
    if len(keys) > limit:
        phrases.append(f"and {len(keys) - limit} more")
    return "; ".join(phrases)


def _flat(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _name(key: str) -> str:
    part, _, field = key.partition(".")
    if part == "data" and field in ("train", "val"):
        return f"{field} tokens"
    return field or part


def _short(value) -> str:
    text = "(none)" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 16 else text[:12] + "..."


def checkpoint_step(folder: Path) -> int | None:
    """The step of a ``step-NNNNNN`` folder name, else None."""
    match = CHECKPOINT.match(Path(folder).name)
    return int(match.group(1)) if match else None


class RunFolder:
    """One run's folder, opened (created, locked, tidied) for the time a process trains in it.

    What the caller opens, the caller closes: use it as a context manager. Opening removes the
    temporary folders an interrupted checkpoint write left behind once they are an hour old, and
    takes an exclusive lock so that a second process cannot train in the same folder at once.
    """

    def __init__(self, path):
        self.path = Path(path)
        self._lock = None

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        """Create the folder if needed, take its lock, remove an interrupted run's stale temporaries."""
        if self.path.exists() and not self.path.is_dir():
            raise RunMismatch(f"{self.path} is a file, not a run folder")
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = take_lock(self.path / LOCK_FILE)
        remove_stale_temporaries(self.path, pattern=TEMPORARY)

    def close(self) -> None:
        """Release the lock."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def recorded(self) -> dict | None:
        """The contents of ``run.json``, or None when the folder has none."""
        path = self.path / RUN_FILE
        if not path.is_file():
            return None
        try:
            recorded = json.loads(path.read_text("utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise RunMismatch(f"{path} is damaged ({error}): start over with --restart") from None
        if not isinstance(recorded, dict) or not isinstance(recorded.get("identity"), dict):
            raise RunMismatch(f"{path} holds no run identity: start over with --restart")
        return recorded

    def checkpoints(self) -> list[Path]:
        """The checkpoint folders, oldest step first."""
        found = [p for p in self.path.iterdir() if checkpoint_step(p) is not None and (p / STATE_FILE).is_file()]
        return sorted(found, key=checkpoint_step)

    def claim(self, identity: dict, resuming: bool) -> str:
        """Make the folder this run's (writing ``run.json``) or refuse it; returns the run's id.

        A folder without checkpoints is anyone's: its ``run.json`` is replaced. One with checkpoints
        belongs to the run recorded in it.

        Raises
        ------
        RunMismatch
            When the folder holds another run, or (when not resuming) already holds checkpoints of this one.
        """
        recorded, found = self.recorded(), self.checkpoints()
        run_id = identity_id(identity)
        if recorded is None or (recorded["identity"] != identity and not found):   # nothing of another run to lose
            if found and not resuming:
                raise RunMismatch(f"{self.path} holds checkpoints (up to {found[-1].name}) of a run whose settings "
                                  "were not recorded: continue it with --resume, or start over with --restart")
            with atomic_file(self.path / RUN_FILE, "w") as out:
                json.dump({"id": run_id, "identity": identity, "created": time.strftime("%Y-%m-%d %H:%M:%S")},
                          out, indent=1)
            return run_id
        if recorded["identity"] != identity:
            raise RunMismatch(f"{self.path} holds another run ({differences(recorded['identity'], identity)}): "
                              "continue it with --resume, choose another run folder, or start over with --restart")
        if found and not resuming:
            raise RunMismatch(f"{self.path} already holds this run, up to {found[-1].name}: continue it with "
                              "--resume, or start over with --restart")
        return run_id

    def check_source(self, source: dict | None, resuming: bool) -> None:
        """Before the caller rewrites what the tokens come from: refuse if the folder's checkpoints were made
        from another ``source`` (or, when not resuming, from a source not recorded). See :meth:`claim`.
        """
        found = self.checkpoints()
        recorded = self.recorded() if found else None
        if found and recorded is None and not resuming:
            raise RunMismatch(f"{self.path} holds checkpoints (up to {found[-1].name}) of a run whose settings "
                              "were not recorded: continue it with --resume, or start over with --restart")
        if recorded is not None and source is not None and recorded["identity"].get("source") != source:
            there = {"source": recorded["identity"].get("source") or {}}
            raise RunMismatch(f"{self.path} holds a run made from other data ({differences(there, {'source': source})}):"
                              " continue it with --resume and its own corpus, choose another run folder, "
                              "or start over with --restart")

    def clear(self) -> list[str]:
        """Start over: remove ``run.json`` and every checkpoint (nothing else); returns the names removed."""
        removed = []
        for path in sorted(self.path.iterdir()):
            if path.name == RUN_FILE or checkpoint_step(path) is not None:
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
                removed.append(path.name)
        if removed:
            log.warning("started over in %s: removed %s", self.path, ", ".join(removed))
        return removed

    def prune(self, step: int, keep: int) -> None:
        """After writing ``step``: keep the ``keep`` newest checkpoints up to it, and none beyond it.

        A checkpoint of a later step is from a future this run has left (it was resumed from an
        earlier one); keeping it would make it "the newest" and mix the two.
        """
        found = self.checkpoints()
        earlier = [p for p in found if checkpoint_step(p) <= step]
        later = [p for p in found if checkpoint_step(p) > step]
        for old in earlier[:-keep] + later:
            shutil.rmtree(old, ignore_errors=True)
        if later:
            log.warning("removed %s: left behind when the run was resumed from an earlier step",
                        ", ".join(p.name for p in later))


def take_lock(path: Path):
    """An open file holding an exclusive ``flock`` on ``path`` (released when closed, or when the process dies)."""
    handle = open(path, "a+")  # noqa: SIM115 - held open for the lock's lifetime, closed by RunFolder.close
    try:
        import fcntl
    except ImportError:  # no flock on this system: no lock (a second process is not detected)
        return handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise RunBusy(f"{path.parent} is in use: another process is training in it") from None
    return handle


# -- the checkpoints a run folder holds ---------------------------------------------------------------

class NoCheckpoint(TransformerError, FileNotFoundError):
    """A folder given to resume from holds no checkpoint."""


def latest_checkpoint(path) -> Path:
    """The checkpoint folder at ``path``, or the newest ``step-*`` checkpoint inside a run folder.

    Raises
    ------
    NoCheckpoint
        Naming ``path`` itself when it is neither.
    """
    path = Path(path)
    if (path / STATE_FILE).is_file():
        return path
    if not path.is_dir():
        raise NoCheckpoint(f"no checkpoint at {path}: it is not a folder")
    found = RunFolder(path).checkpoints()
    if not found:
        raise NoCheckpoint(f"no checkpoint in {path}: it holds neither {STATE_FILE} nor step-* checkpoint folders")
    return found[-1]


def save_checkpoint(folder: RunFolder, params: dict, cfg, moments: dict, state: dict) -> Path:
    """Write ``step-NNNNNN`` in the run folder atomically; keep the newest checkpoints up to this step.

    ``moments`` is AdamW's ``{"m": {name: array}, "v": {name: array}}``; ``state`` goes to state.json.
    """
    def write(tmp: Path):
        checkpoint.write_model_files(tmp, params, cfg)
        checkpoint.save_arrays(tmp / OPTIMIZER_FILE, {f"{part}.{k}": v for part in "mv" for k, v in moments[part].items()})
        (tmp / STATE_FILE).write_text(json.dumps(state, indent=1) + "\n")

    written = checkpoint.write_atomically(folder.path / f"step-{state['step']:06d}", write)
    folder.prune(state["step"], KEEP_CHECKPOINTS)
    log.info("checkpoint %s", written)
    return written


def read_state(path) -> dict:
    """The ``state.json`` of a checkpoint (or of a run folder's newest), without loading its arrays.

    Raises
    ------
    UnsupportedCheckpoint
        When it cannot be read as a JSON object.
    """
    folder = latest_checkpoint(path)
    try:
        state = json.loads((folder / STATE_FILE).read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise UnsupportedCheckpoint(f"{folder}/{STATE_FILE} cannot be read ({str(error)[:80]})") from None
    if not isinstance(state, dict):
        raise UnsupportedCheckpoint(f"{folder}/{STATE_FILE} is not a JSON object")
    return state


def load_checkpoint(path) -> tuple[dict, object, dict, dict]:
    """``(flat params, cfg, optimizer moments {"m", "v"}, state)`` from a checkpoint or run folder.

    Raises
    ------
    NoCheckpoint
        When ``path`` holds none.
    UnsupportedCheckpoint
        Naming a damaged or incomplete checkpoint (a truncated file, a missing field).
    """
    from safetensors import SafetensorError

    folder = latest_checkpoint(path)
    try:
        params, cfg = checkpoint.load_model(folder)
        moments = checkpoint.load_arrays(folder / OPTIMIZER_FILE)
        state = json.loads((folder / STATE_FILE).read_text("utf-8"))
        missing = [key for key in ("step", "rng", "history", "seconds", "train_config") if key not in state]
    except (SafetensorError, ValueError, TypeError, UnicodeDecodeError, FileNotFoundError) as error:
        raise UnsupportedCheckpoint(f"{folder} is not a complete checkpoint ({type(error).__name__}: "
                                    f"{str(error)[:80]})") from None
    if missing:
        raise UnsupportedCheckpoint(f"{folder}/{STATE_FILE} lacks {', '.join(missing)}")
    opt_state = {part: {k[2:]: v for k, v in moments.items() if k.startswith(part + ".")} for part in "mv"}
    return checkpoint.flatten(params), cfg, opt_state, state
