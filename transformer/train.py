"""Training a causal LM: AdamW, warm-up + cosine schedule, clipping, checkpoints, resume.

A run folder holds checkpoint folders ``step-000500/`` (``model.safetensors``, ``config.json``,
``optimizer.safetensors`` with AdamW's moments, ``state.json`` with the step, the batch sampler's
random state and the history), each written atomically; the two newest are kept. Resuming from a
checkpoint restores all of it, so the resumed run takes the very same steps as an uninterrupted one.
Ctrl-C (SIGINT) finishes the current step, saves, and returns; a NaN/inf loss stops the run with
:class:`TrainingDiverged`, leaving the last good checkpoint in place.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from runtime.memory import keep_freed_memory
from runtime.threads import Workers, limit_threads, matmul_flops, threads_for
from transformer import checkpoint
from transformer.backend import get_xp, to_device, xp_of
from transformer.config import TransformerConfig
from transformer.errors import InvalidInput, TransformerError
from transformer.model import init_params
from transformer.parallel import ParallelModel

log = logging.getLogger(__name__)

OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "state.json"
KEEP_CHECKPOINTS = 2


class TrainingDiverged(TransformerError, FloatingPointError):
    """The loss or the gradient became NaN or infinite; the message names the last good checkpoint."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train (the model's shape is a :class:`TransformerConfig`)."""

    steps: int = 2000             # optimiser steps in the whole run
    batch_size: int = 32          # sequences per step, each n_ctx tokens long
    lr: float = 3e-3              # peak learning rate, reached after the warm-up
    min_lr: float = 3e-4          # the cosine decays to this at the last step
    warmup_steps: int = 100       # linear warm-up from lr / warmup_steps
    weight_decay: float = 0.1     # AdamW's decoupled decay, on matrices only (not biases or norms)
    beta1: float = 0.9            # AdamW first-moment decay
    beta2: float = 0.95           # AdamW second-moment decay
    eps: float = 1e-8             # AdamW denominator guard
    grad_clip: float = 1.0        # clip the global gradient norm to this (0: no clipping)
    eval_every: int = 200         # validation loss every this many steps (0: only at the end)
    eval_batches: int = 8         # batches in the fixed validation set
    checkpoint_every: int = 500   # checkpoint every this many steps (0: only at the end)
    seed: int = 0                 # seeds initialisation, batch sampling and the validation set

    def __post_init__(self):
        for name in ("steps", "batch_size"):
            if getattr(self, name) < 1:
                raise InvalidInput(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.min_lr <= self.lr:
            raise InvalidInput(f"need 0 <= min_lr <= lr, got min_lr={self.min_lr}, lr={self.lr}")


class Progress(NamedTuple):
    """What the progress callback receives after each step."""

    step: int                     # steps done so far in the run
    steps: int                    # steps in the whole run
    loss: float                   # this step's training loss
    lr: float                     # learning rate used for this step
    tokens_per_s: float           # training throughput since this call to train() began
    val_loss: float | None        # validation loss when it was measured at this step, else None


class TrainResult(NamedTuple):
    """What :func:`train` returns."""

    params: dict                  # the trained parameters (numpy arrays)
    step: int                     # steps done in the run
    history: list                 # [{"step", "loss", "val_loss"?}] at every evaluation
    val_loss: float | None        # the last validation loss
    interrupted: bool             # stopped early by Ctrl-C
    checkpoint: Path | None       # the last checkpoint written
    tokens_seen: int              # training tokens processed in the whole run
    seconds: float                # wall time of the whole run (resumed parts included)


def learning_rate(step: int, tc: TrainConfig) -> float:
    """Linear warm-up to ``tc.lr``, then a cosine decay to ``tc.min_lr`` at the last step.

    Examples
    --------
    >>> tc = TrainConfig(steps=101, lr=1.0, min_lr=0.0, warmup_steps=10)
    >>> [round(learning_rate(s, tc), 3) for s in (0, 9, 55, 100)]
    [0.1, 1.0, 0.5, 0.0]
    """
    if step < tc.warmup_steps:
        return tc.lr * (step + 1) / tc.warmup_steps
    span = max(1, tc.steps - 1 - tc.warmup_steps)
    progress = min(1.0, (step - tc.warmup_steps) / span)
    return tc.min_lr + 0.5 * (tc.lr - tc.min_lr) * (1.0 + math.cos(math.pi * progress))


class AdamW:
    """AdamW (Loshchilov & Hutter) on flat ``{name: array}`` parameters, updated in place."""

    def __init__(self, params: dict, tc: TrainConfig, state: dict | None = None, t: int = 0):
        xp = xp_of(next(iter(params.values())))
        self.tc, self.t = tc, t
        self.m = state["m"] if state else {k: xp.zeros_like(v) for k, v in params.items()}
        self.v = state["v"] if state else {k: xp.zeros_like(v) for k, v in params.items()}

    def step(self, params: dict, grads: dict, lr: float) -> None:
        """One update of every parameter from its gradient, at learning rate ``lr``."""
        tc = self.tc
        self.t += 1
        bias1, bias2 = 1 - tc.beta1 ** self.t, 1 - tc.beta2 ** self.t
        for name, p in params.items():
            g, m, v = grads[name], self.m[name], self.v[name]
            m *= tc.beta1
            m += (1 - tc.beta1) * g                       # m = b1 m + (1 - b1) g
            v *= tc.beta2
            g *= g
            g *= 1 - tc.beta2
            v += g                                        # v = b2 v + (1 - b2) g^2 (g is spent)
            if p.ndim >= 2 and tc.weight_decay:
                p *= 1 - lr * tc.weight_decay             # decoupled weight decay
            denom = xp_of(v).sqrt(v / bias2)
            denom += tc.eps
            g = m / denom
            g *= lr / bias1
            p -= g


def clip_gradients(grads: dict, max_norm: float) -> float:
    """Scale all gradients so their global L2 norm is at most ``max_norm``; returns the norm before."""
    norm = math.sqrt(sum(float(xp_of(g).vdot(g.reshape(-1), g.reshape(-1))) for g in grads.values()))
    if max_norm and norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return norm


def get_batch(data, batch_size: int, n_ctx: int, rng: np.random.Generator):
    """Random windows of a 1-D token array: ``(tokens, targets)`` [B, T], targets shifted by one.

    Examples
    --------
    >>> x, y = get_batch(np.arange(100), 2, 4, np.random.default_rng(0))
    >>> bool((y == x + 1).all()), x.shape
    (True, (2, 4))
    """
    if len(data) < n_ctx + 2:
        raise InvalidInput(f"need more than {n_ctx + 1} tokens to cut windows of {n_ctx}; got {len(data)}")
    starts = rng.integers(0, len(data) - n_ctx - 1, size=batch_size)
    window = np.asarray(data[starts[:, None] + np.arange(n_ctx + 1)], dtype=np.int64)  # [B, T+1]
    return window[:, :-1], window[:, 1:]


def evaluate(model: ParallelModel, batches: list) -> float:
    """Mean loss over fixed ``(tokens, targets)`` batches, without gradients, in the model's row groups."""
    xp = xp_of(model.params["wte"])
    losses = [model.lm_loss(xp.asarray(x), xp.asarray(y), with_grads=False)[0] for x, y in batches]
    return float(np.mean(losses))


def latest_checkpoint(path) -> Path:
    """The checkpoint folder at ``path``, or the newest ``step-*`` folder inside a run folder."""
    path = Path(path)
    if (path / STATE_FILE).is_file():
        return path
    found = sorted(path.glob("step-*[0-9]"))
    if not found:
        raise FileNotFoundError(f"no checkpoint in {path} (expected {STATE_FILE} or step-* folders)")
    return found[-1]


def save_checkpoint(run_dir: Path, params: dict, cfg: TransformerConfig, opt: AdamW, state: dict) -> Path:
    """Write ``run_dir/step-NNNNNN`` atomically and keep only the newest checkpoints."""
    def write(tmp: Path):
        checkpoint.write_model_files(tmp, params, cfg)
        moments = {f"m.{k}": v for k, v in opt.m.items()} | {f"v.{k}": v for k, v in opt.v.items()}
        checkpoint.save_arrays(tmp / OPTIMIZER_FILE, moments)
        (tmp / STATE_FILE).write_text(json.dumps(state, indent=1) + "\n")

    folder = checkpoint.write_atomically(Path(run_dir) / f"step-{state['step']:06d}", write)
    for old in sorted(Path(run_dir).glob("step-*[0-9]"))[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old, ignore_errors=True)
    log.info("checkpoint %s", folder)
    return folder


def load_checkpoint(path) -> tuple[dict, TransformerConfig, dict, dict]:
    """``(flat params, cfg, optimizer moments {"m", "v"}, state)`` from a checkpoint or run folder."""
    folder = latest_checkpoint(path)
    params, cfg = checkpoint.load_model(folder)
    moments = checkpoint.load_arrays(folder / OPTIMIZER_FILE)
    opt_state = {part: {k[2:]: v for k, v in moments.items() if k.startswith(part + ".")} for part in "mv"}
    return checkpoint.flatten(params), cfg, opt_state, json.loads((folder / STATE_FILE).read_text())


class StopFlag:
    """Turns SIGINT into a flag checked between steps (only possible in the main thread)."""

    def __init__(self):
        self.stop = False
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self.handle)
        return self

    def handle(self, signum, frame):
        self.stop = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def train(cfg: TransformerConfig | None, train_tokens, val_tokens, tc: TrainConfig | None = None, run_dir=None,
          resume=None, params: dict | None = None, device: str | None = None, threads: int | None = None,
          callback: Callable[[Progress], None] | None = None) -> TrainResult:
    """Train a causal LM on 1-D token arrays (a ``np.memmap`` is fine) and return the result.

    Parameters
    ----------
    cfg, tc : the model's shape and the training settings; when resuming, ``cfg`` is the
        checkpoint's own and ``tc`` defaults to the checkpoint's (pass one to change, e.g., steps)
    train_tokens, val_tokens : 1-D int arrays of token ids
    run_dir : folder for checkpoints (None: no checkpoints)
    resume : a checkpoint folder or a run folder to continue from
    params : starting parameters (default: :func:`~transformer.model.init_params` with ``tc.seed``)
    device : "cpu" or "cuda" (see :mod:`transformer.backend`)
    threads : CPU threads (default: :func:`runtime.threads.threads_for` the largest product of a
        step: one thread for small models, every core for large ones). Each step's batch is split into
        this many row groups computed side by side, BLAS on one thread each, on a
        :class:`runtime.threads.Workers` pool opened and closed here
        (:meth:`transformer.parallel.ParallelModel.lm_loss`)
    callback : called with a :class:`Progress` after every step
    """
    xp = get_xp(device)
    step, history, opt_state, seconds_before = 0, [], None, 0.0
    if resume is not None:
        flat, cfg, opt_state, state = load_checkpoint(resume)
        tc = tc or TrainConfig(**state["train_config"])
        step, history, seconds_before = state["step"], state["history"], state["seconds"]
        log.info("resuming at step %d of %d", step, tc.steps)
    if tc is None:
        raise InvalidInput("a TrainConfig is needed unless resuming from a checkpoint")
    rng = np.random.default_rng(tc.seed)
    if resume is not None:
        rng.bit_generator.state = state["rng"]
    else:
        flat = checkpoint.flatten(params if params is not None else init_params(cfg, seed=tc.seed))
    flat = to_device(flat, xp)
    opt = AdamW(flat, tc, state=to_device(opt_state, xp) if opt_state else None, t=step)
    nested = checkpoint.unflatten(flat)                      # the same arrays, nested for the model
    val_rng = np.random.default_rng([tc.seed, 1])            # a fixed validation set, apart from training
    val_batches = [get_batch(val_tokens, tc.batch_size, cfg.n_ctx, val_rng) for _ in range(tc.eval_batches)]
    last_checkpoint = latest_checkpoint(resume) if resume is not None else None
    val_loss, interrupted = None, False
    started, tokens_done = time.perf_counter(), 0

    def state_dict():
        return {"step": step, "rng": rng.bit_generator.state, "history": history,
                "seconds": seconds_before + time.perf_counter() - started, "train_config": dataclasses.asdict(tc)}

    def save():
        if run_dir is None:
            return None
        return save_checkpoint(run_dir, to_device(flat, np), cfg, opt, state_dict())

    workspace: dict = {}                                     # each row group's logits buffer, reused every step
    if xp is np:
        keep_freed_memory()
    if threads is None:
        threads = threads_for(matmul_flops(tc.batch_size * cfg.n_ctx, cfg.n_embd, max(cfg.vocab_size, cfg.n_inner)))
    if threads < 1:
        raise InvalidInput(f"threads must be at least 1, got {threads}")
    with StopFlag() as flag, limit_threads(threads), Workers(threads) as workers:
        model = ParallelModel(nested, cfg, workers)          # row groups over the same arrays AdamW updates
        while step < tc.steps:
            tokens, targets = get_batch(train_tokens, tc.batch_size, cfg.n_ctx, rng)
            loss, grads = model.lm_loss(xp.asarray(tokens), xp.asarray(targets), workspace=workspace)
            grads = checkpoint.flatten(grads)
            norm = clip_gradients(grads, tc.grad_clip)
            if not (math.isfinite(loss) and math.isfinite(norm)):
                where = f"the last good checkpoint is {last_checkpoint}" if last_checkpoint else "no checkpoint was written"
                raise TrainingDiverged(f"loss {loss} (gradient norm {norm}) at step {step + 1}: training stopped; {where}")
            lr = learning_rate(step, tc)
            opt.step(flat, grads, lr)
            step += 1
            tokens_done += tokens.size
            val_loss_now = None
            if (tc.eval_every and step % tc.eval_every == 0) or step == tc.steps:
                val_loss = val_loss_now = evaluate(model, val_batches)
                history.append({"step": step, "loss": loss, "val_loss": val_loss})
            if callback is not None:
                rate = tokens_done / max(time.perf_counter() - started, 1e-9)
                callback(Progress(step, tc.steps, loss, lr, rate, val_loss_now))
            if tc.checkpoint_every and step % tc.checkpoint_every == 0 and step < tc.steps:
                last_checkpoint = save()
            if flag.stop:
                interrupted = True
                log.warning("interrupted at step %d: saving and stopping", step)
                break
    last_checkpoint = save() or last_checkpoint
    host = checkpoint.unflatten(to_device(flat, np))
    return TrainResult(host, step, history, val_loss, interrupted, last_checkpoint,
                       step * tc.batch_size * cfg.n_ctx, seconds_before + time.perf_counter() - started)

