"""What stops a training run, before it starts or the moment it goes wrong.

- Before: :func:`check_memory` refuses a step that cannot fit (:func:`step_memory` against the memory
  free where the arrays live), so a huge batch is one clear line instead of a ``MemoryError`` after
  gigabytes were allocated.
- During: a non-finite loss, gradient or validation loss, or a weight beyond :data:`MAX_WEIGHT`
  (:func:`largest_weight`) is :func:`diverged`: one line naming the step and the last good
  checkpoint. The training loop checks after every step, so such weights never reach a checkpoint.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from runtime.memory import available_memory
from transformer.config import TransformerConfig, count_params
from transformer.errors import TransformerError

# The largest |weight| a healthy run reaches, with a wide margin. A trained transformer's weights are of
# order 1-10 (our mini GPT after 26,000 steps: 6.0; all-MiniLM-L6-v2: 7.9). AdamW moves a weight by at
# most about lr per step (Kingma & Ba, section 2.1), so at the default lr a 26,000-step run can move one
# by 78 at most. A weight past 1,000 is over 100x beyond either, and close to what the float16 model
# folder can hold (65,504): the run has diverged, and a checkpoint holding it would diverge again.
MAX_WEIGHT = 1e3


class TrainingDiverged(TransformerError, FloatingPointError):
    """The loss or gradient became NaN/inf, or a weight exploded; the message names the step and the last good checkpoint."""


class NotEnoughMemory(TransformerError, MemoryError):
    """A training step would need more memory than is available (checked before allocating)."""


def step_memory(cfg: TransformerConfig, batch_size: int, eval_batches: int) -> int:
    """Bytes a training step needs, about (within ~30 % of what tracemalloc counts; tested).

    Per token of the batch: each block keeps ~14 [C] rows, 3 [F] rows and 2 [H, T] attention rows for
    backward; the logits and their gradient take 2 [V]. Per parameter: itself, its gradient, AdamW's two
    moments and two temporaries of the update, float32. Plus the int64 windows of the training batch and
    of the fixed validation batches.

    Examples
    --------
    >>> cfg = TransformerConfig(vocab_size=8192, n_ctx=64, n_embd=128, n_head=4, n_layer=4)
    >>> gib(step_memory(cfg, 32, 8))
    '290 MiB'
    """
    tokens = batch_size * cfg.n_ctx
    per_token = cfg.n_layer * (14 * cfg.n_embd + 3 * cfg.n_inner + 2 * cfg.n_head * cfg.n_ctx) + 2 * cfg.vocab_size
    windows = 8 * (eval_batches + 1) * batch_size * (cfg.n_ctx + 1)
    return 4 * (tokens * per_token + 6 * count_params(cfg)["total"]) + windows


def free_memory(xp) -> int | None:
    """Bytes free where the arrays live: host memory for numpy, the GPU's for CuPy (None when unknown)."""
    if xp is np:
        return available_memory()
    try:
        return int(xp.cuda.runtime.memGetInfo()[0])
    except Exception:  # noqa: BLE001 - an array library without this query: no check
        return None


def check_memory(cfg: TransformerConfig, batch_size: int, eval_batches: int, xp=np) -> None:
    """Refuse a run whose step cannot fit, before anything is allocated.

    Raises
    ------
    NotEnoughMemory
        Naming the batch, the memory needed and the memory available.
    """
    needed, free = step_memory(cfg, batch_size, eval_batches), free_memory(xp)
    if free is not None and needed > free:
        raise NotEnoughMemory(
            f"a training step of {batch_size:,} sequences x {cfg.n_ctx} tokens (vocabulary {cfg.vocab_size:,}, "
            f"{count_params(cfg)['total']:,} parameters) needs about {gib(needed)} of memory, and "
            f"{gib(free)} {'is' if xp is np else 'of GPU memory is'} available: lower the batch size")


def gib(n: int) -> str:
    """A byte count in GiB (in MiB below one GiB).

    Examples
    --------
    >>> gib(3 * 2**30), gib(5 * 2**20)
    ('3.0 GiB', '5 MiB')
    """
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.0f} MiB"


def largest_weight(flat: dict) -> float:
    """The largest |weight| of all parameters: nan if any is nan, inf if any is infinite.

    Examples
    --------
    >>> largest_weight({"a": np.array([1.0, -3.0]), "b": np.array([2.0])})
    3.0
    >>> largest_weight({"a": np.array([1.0, np.nan])})
    nan
    """
    worst = 0.0
    for array in flat.values():
        high, low = float(array.max()), float(array.min())    # two passes, no temporary copy
        if math.isnan(high) or math.isnan(low):
            return math.nan
        worst = max(worst, high, -low)
    return worst


def diverged(step: int, what: str, last: Path | None) -> TrainingDiverged:
    """The one-line error of a run that diverged at ``step``, naming the last good checkpoint.

    Examples
    --------
    >>> str(diverged(7, "loss nan", None))
    'training diverged at step 7: loss nan; no checkpoint was written (a lower learning rate may help: start over with --restart)'
    """
    where = f"the last good checkpoint is {last}" if last else "no checkpoint was written"
    return TrainingDiverged(f"training diverged at step {step}: {what}; {where} "
                            "(a lower learning rate may help: start over with --restart)")
