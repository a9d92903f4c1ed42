"""Training a causal LM: AdamW, warm-up + cosine schedule, clipping, checkpoints, resume.

A run folder (:mod:`transformer.runs`) records the run's identity in ``run.json`` and holds checkpoint
folders ``step-000500/`` (``model.safetensors``, ``config.json``, ``optimizer.safetensors`` with AdamW's
moments, ``state.json`` with the step, the batch sampler's random state, the history and the identity),
each written atomically; the two newest up to the current step are kept. A folder holding another run
is refused unless the caller starts over (``restart``). Resuming from a checkpoint restores all of it, so the resumed run takes
the very same steps as an uninterrupted one; it keeps its settings, except that ``steps`` may grow.
Ctrl-C (SIGINT) finishes the current step, saves, and returns. A NaN/inf loss or gradient, or a weight
beyond :data:`~transformer.guards.MAX_WEIGHT`, stops the run with :class:`TrainingDiverged` naming the step
and the last good checkpoint: such weights never reach a checkpoint. A step that cannot fit in memory is
refused before anything is allocated (:class:`~transformer.guards.NotEnoughMemory`).
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import numbers
import signal
import threading
import time
import warnings
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
from transformer.errors import InvalidInput, UnsupportedCheckpoint
from transformer.guards import MAX_WEIGHT, TrainingDiverged, check_memory, diverged, largest_weight
from transformer.model import init_params
from transformer.parallel import ParallelModel
from transformer.runs import (
    EXTENDABLE,
    NoCheckpoint,
    RunFolder,
    RunMismatch,
    differences,
    identity_id,
    latest_checkpoint,
    load_checkpoint,
    run_identity,
    save_checkpoint,
)

__all__ = ["MAX_WEIGHT", "AdamW", "NoCheckpoint", "Progress", "TrainConfig", "TrainResult", "TrainingDiverged",
           "clip_gradients", "get_batch", "latest_checkpoint", "learning_rate", "load_checkpoint", "train"]

log = logging.getLogger(__name__)

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
        for name, least in (("steps", 1), ("batch_size", 1), ("eval_batches", 1), ("warmup_steps", 0),
                            ("eval_every", 0), ("checkpoint_every", 0), ("seed", 0)):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < least:
                raise InvalidInput(f"{name} must be a whole number of at least {least}, got {value!r}")
        for name, positive in (("lr", True), ("eps", True), ("min_lr", False), ("weight_decay", False),
                               ("grad_clip", False)):
            value = getattr(self, name)
            if not (isinstance(value, numbers.Real) and math.isfinite(value) and (value > 0 if positive else value >= 0)):
                raise InvalidInput(f"{name} must be a finite number {'above' if positive else 'of at least'} 0, got {value!r}")
        for name in ("beta1", "beta2"):
            if not (isinstance(getattr(self, name), numbers.Real) and 0 <= getattr(self, name) < 1):
                raise InvalidInput(f"{name} must lie in [0, 1), got {getattr(self, name)!r}")
        if self.min_lr > self.lr:
            raise InvalidInput(f"need min_lr <= lr, got min_lr={self.min_lr}, lr={self.lr}")
        if self.lr * self.weight_decay >= 1:   # decoupled decay multiplies each matrix by 1 - lr * weight_decay
            raise InvalidInput(f"lr x weight_decay must stay below 1 (got {self.lr:g} x {self.weight_decay:g}): "
                               "each step multiplies every weight matrix by 1 - lr x weight_decay")


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
    cfg: TransformerConfig | None = None   # the model's shape (a resumed run's is its checkpoint's)
    run: str | None = None        # the run's id (transformer.runs.identity_id of its identity)


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


def resumed_settings(state: dict, tc: TrainConfig | None) -> TrainConfig:
    """The settings a resumed run goes on with: the checkpoint's, with ``steps`` extended if ``tc`` says so.

    Raises
    ------
    InvalidInput
        When ``tc`` changes anything else, or gives fewer steps than the checkpoint has done.
    """
    try:
        recorded = TrainConfig(**state["train_config"])
    except TypeError as error:   # a field this version does not know
        raise UnsupportedCheckpoint(f"the checkpoint's train_config does not fit: {error}") from None
    if tc is None:
        return recorded
    changed = [f"{f.name} {getattr(recorded, f.name)!r} -> {getattr(tc, f.name)!r}" for f in dataclasses.fields(tc)
               if f.name not in EXTENDABLE and getattr(recorded, f.name) != getattr(tc, f.name)]
    if changed:
        raise InvalidInput(f"a resumed run keeps its settings, but {', '.join(changed)} differ from the checkpoint's: "
                           "only steps may change (start a new run with --restart to change the rest)")
    if tc.steps < state["step"]:
        raise InvalidInput(f"the checkpoint is at step {state['step']}; steps={tc.steps} would end the run before it "
                           f"(give at least {state['step']} to extend it)")
    return tc


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
          callback: Callable[[Progress], None] | None = None, source: dict | None = None,
          restart: bool = False) -> TrainResult:
    """Train a causal LM on 1-D token arrays (a ``np.memmap`` is fine) and return the result.

    Parameters
    ----------
    cfg, tc : the model's shape and the training settings; when resuming, ``cfg`` is the
        checkpoint's own and ``tc`` defaults to the checkpoint's (pass one to extend ``steps``;
        any other change is refused)
    train_tokens, val_tokens : 1-D int arrays of token ids
    run_dir : folder for checkpoints, a path or an open :class:`~transformer.runs.RunFolder`
        (None: no checkpoints). A folder holding another run, or this run's checkpoints when not
        resuming, is refused (:class:`~transformer.runs.RunMismatch`)
    resume : a checkpoint folder or a run folder to continue from
    params : starting parameters (default: :func:`~transformer.model.init_params` with ``tc.seed``)
    device : "cpu" or "cuda" (see :mod:`transformer.backend`)
    threads : CPU threads (default: :func:`runtime.threads.threads_for` the largest product of a
        step: one thread for small models, every core for large ones). Each step's batch is split into
        this many row groups computed side by side, BLAS on one thread each, on a
        :class:`runtime.threads.Workers` pool opened and closed here
        (:meth:`transformer.parallel.ParallelModel.lm_loss`)
    callback : called with a :class:`Progress` after every step
    source : what the tokens came from, recorded in the run's identity (resuming: the checkpoint's)
    restart : start over in ``run_dir``: its checkpoints and ``run.json`` are removed first

    Raises
    ------
    TrainingDiverged
        At the first non-finite loss, gradient or validation loss, or weight beyond :data:`MAX_WEIGHT`.
    NotEnoughMemory, InvalidInput, RunMismatch, NoCheckpoint
        Before training, for a run that cannot fit, bad settings, another run's folder, nothing to resume.
    """
    if restart and resume is not None:
        raise InvalidInput("restart starts a new run; it cannot be combined with resume")
    xp = get_xp(device)
    step, history, opt_state, seconds_before, recorded = 0, [], None, 0.0, None
    if resume is not None:
        resume = latest_checkpoint(resume)
        flat, resumed_cfg, opt_state, state = load_checkpoint(resume)
        if cfg is not None and cfg != resumed_cfg:
            raise InvalidInput(f"a resumed run keeps its model; {resume} holds another shape "
                               f"({differences({'model': resumed_cfg.to_dict()}, {'model': cfg.to_dict()})})")
        cfg, tc = resumed_cfg, resumed_settings(state, tc)
        step, history, seconds_before, recorded = state["step"], state["history"], state["seconds"], state.get("identity")
        source = source if source is not None or recorded is None else recorded["source"]
        log.info("resuming at step %d of %d", step, tc.steps)
    if tc is None or cfg is None:
        raise InvalidInput("a TransformerConfig and a TrainConfig are needed unless resuming from a checkpoint")
    for name, tokens in (("training", train_tokens), ("validation", val_tokens)):
        if len(tokens) < cfg.n_ctx + 2:
            raise InvalidInput(f"{len(tokens)} {name} tokens are too few to cut windows of {cfg.n_ctx}: "
                               f"need more than {cfg.n_ctx + 1}")
    if threads is None:
        threads = threads_for(matmul_flops(tc.batch_size * cfg.n_ctx, cfg.n_embd, max(cfg.vocab_size, cfg.n_inner)))
    if threads < 1:
        raise InvalidInput(f"threads must be at least 1, got {threads}")
    check_memory(cfg, tc.batch_size, tc.eval_batches, xp)
    identity = run_identity(cfg, tc, train_tokens, val_tokens, source)
    if recorded is not None and recorded != identity:
        raise RunMismatch(f"{resume} belongs to a run with other data or settings ({differences(recorded, identity)}): "
                          "resume it with the corpus it was trained on")
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
    last_checkpoint = resume
    val_loss, interrupted = None, False
    started, tokens_done = time.perf_counter(), 0

    def state_dict():
        return {"step": step, "rng": rng.bit_generator.state, "history": history, "identity": identity,
                "run": identity_id(identity), "seconds": seconds_before + time.perf_counter() - started,
                "train_config": dataclasses.asdict(tc)}

    workspace: dict = {}                                     # each row group's logits buffer, reused every step
    if xp is np:
        keep_freed_memory()
    with contextlib.ExitStack() as stack:
        folder = None
        if run_dir is not None:
            folder = run_dir if isinstance(run_dir, RunFolder) else stack.enter_context(RunFolder(run_dir))
            if restart:
                folder.clear()
            folder.claim(identity, resuming=resume is not None)

        def save():
            return None if folder is None else save_checkpoint(folder, to_device(flat, np), cfg, {"m": opt.m, "v": opt.v}, state_dict())

        # numpy's overflow warnings (here and in the row groups' threads) are replaced by the checks below
        stack.enter_context(warnings.catch_warnings())
        warnings.filterwarnings("ignore", "(overflow|invalid value|divide by zero) encountered", RuntimeWarning)
        flag = stack.enter_context(StopFlag())
        stack.enter_context(limit_threads(threads))
        model = ParallelModel(nested, cfg, stack.enter_context(Workers(threads)))  # row groups over AdamW's arrays
        while step < tc.steps:
            tokens, targets = get_batch(train_tokens, tc.batch_size, cfg.n_ctx, rng)
            loss, grads = model.lm_loss(xp.asarray(tokens), xp.asarray(targets), workspace=workspace)
            grads = checkpoint.flatten(grads)
            norm = clip_gradients(grads, tc.grad_clip)
            if not (math.isfinite(loss) and math.isfinite(norm)):
                raise diverged(step + 1, f"loss {loss:.4g}, gradient norm {norm:.4g}", last_checkpoint)
            lr = learning_rate(step, tc)
            opt.step(flat, grads, lr)
            step += 1
            worst = largest_weight(flat)
            if not worst <= MAX_WEIGHT:
                raise diverged(step, f"a weight reached {worst:.4g} (the bound is {MAX_WEIGHT:g})", last_checkpoint)
            tokens_done += tokens.size
            val_loss_now = None
            if (tc.eval_every and step % tc.eval_every == 0) or step == tc.steps:
                val_loss = val_loss_now = evaluate(model, val_batches)
                if not math.isfinite(val_loss):
                    raise diverged(step, f"validation loss {val_loss:.4g}", last_checkpoint)
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
    return TrainResult(host, step, history, val_loss, interrupted, last_checkpoint, step * tc.batch_size * cfg.n_ctx,
                       seconds_before + time.perf_counter() - started, cfg, identity_id(identity))
