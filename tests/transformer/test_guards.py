"""What stops a run: bad settings, a step that cannot fit in memory, and divergence (one line, and the
last good checkpoint really is good)."""
from __future__ import annotations

import dataclasses
import math
import tracemalloc
import warnings

import numpy as np
import pytest

from transformer import checkpoint, guards
from transformer.config import TransformerConfig
from transformer.guards import MAX_WEIGHT, NotEnoughMemory, step_memory
from transformer.model import init_params
from transformer.train import TrainConfig, TrainingDiverged, train

CFG = TransformerConfig(vocab_size=16, n_ctx=8, n_embd=16, n_head=2, n_layer=1)
TC = TrainConfig(steps=12, batch_size=4, lr=1e-2, min_lr=1e-3, warmup_steps=2, eval_every=4, eval_batches=2,
                 checkpoint_every=2, seed=3)
DATA = np.tile(np.arange(16, dtype=np.int32), 64)


@pytest.mark.parametrize("changes, fragment", [
    ({"lr": math.inf, "min_lr": 0.0}, "lr must be a finite number above 0, got inf"),
    ({"lr": math.nan}, "lr must be a finite number above 0, got nan"),
    ({"lr": 0.0, "min_lr": 0.0}, "lr must be a finite number above 0"),
    ({"lr": -1e-3}, "lr must be a finite number above 0"),
    ({"min_lr": math.nan}, "min_lr must be a finite number of at least 0"),
    ({"lr": 20.0}, "lr x weight_decay must stay below 1 (got 20 x 0.1)"),
    ({"eps": 0.0}, "eps must be a finite number above 0"),
    ({"beta2": 1.0}, "beta2 must lie in [0, 1)"),
    ({"grad_clip": math.inf}, "grad_clip must be a finite number"),
    ({"seed": -1}, "seed must be a whole number of at least 0"),
    ({"steps": 0}, "steps must be a whole number of at least 1"),
    ({"batch_size": 2.5}, "batch_size must be a whole number"),
    ({"eval_batches": 0}, "eval_batches must be a whole number of at least 1"),
])
def test_bad_hyper_parameters_are_refused_by_name(changes, fragment):
    with pytest.raises(ValueError) as error:
        TrainConfig(**{**dataclasses.asdict(TrainConfig()), **changes})
    assert fragment in str(error.value)


def test_a_real_divergence_stops_at_once_in_one_line_without_numpy_warnings(tmp_path):
    tc = dataclasses.replace(TC, lr=1e4, min_lr=0.0, weight_decay=0.0)       # every weight moves by ~1e4
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TrainingDiverged) as error:
            train(CFG, DATA, DATA, tc, run_dir=tmp_path)
    message = str(error.value)
    assert message.startswith("training diverged at step 1: a weight reached ") and "\n" not in message
    assert "no checkpoint was written" in message
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not list(tmp_path.glob("step-*"))


def test_exploding_weights_never_reach_a_checkpoint(tmp_path):
    params = init_params(CFG, seed=0)

    def explode(progress):
        if progress.step == 3:                                              # after step 2's checkpoint
            params["wte"] *= 1e7                                            # as after an unstable update

    with pytest.raises(TrainingDiverged, match=r"step 4: a weight reached .* the last good checkpoint is .*step-000002"):
        train(CFG, DATA, DATA, TC, run_dir=tmp_path, params=params, callback=explode)
    assert sorted(p.name for p in tmp_path.glob("step-*")) == ["step-000002"]     # step 4 never written
    good, _ = checkpoint.load_model(tmp_path / "step-000002")
    assert max(float(np.abs(a).max()) for a in checkpoint.flatten(good).values()) <= MAX_WEIGHT
    resumed = train(None, DATA, DATA, run_dir=tmp_path, resume=tmp_path)      # resuming it does not diverge
    assert resumed.step == 12 and np.isfinite(resumed.val_loss)


def test_the_memory_estimate_follows_what_a_step_allocates():
    for cfg, batch in ((TransformerConfig(vocab_size=2048, n_ctx=32, n_embd=64, n_head=4, n_layer=2), 8),
                       (TransformerConfig(vocab_size=64, n_ctx=32, n_embd=128, n_head=2, n_layer=3), 16),
                       (TransformerConfig(vocab_size=512, n_ctx=64, n_embd=32, n_head=8, n_layer=2), 8)):
        tc = TrainConfig(steps=2, batch_size=batch, warmup_steps=1, eval_every=0, eval_batches=2, checkpoint_every=0)
        tracemalloc.start()
        try:
            train(cfg, DATA, DATA, tc, threads=1)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert 0.7 < step_memory(cfg, batch, 2) / peak < 1.5, (cfg, peak)


def test_a_step_that_cannot_fit_is_refused_before_allocating():
    tracemalloc.start()
    try:
        with pytest.raises(NotEnoughMemory) as error:
            train(CFG, DATA, DATA, dataclasses.replace(TC, batch_size=100_000_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20                                                  # no 50 GiB batch was attempted
    assert "100,000,000 sequences x 8 tokens" in str(error.value) and "lower the batch size" in str(error.value)
    assert isinstance(error.value, MemoryError)


def test_the_check_compares_with_what_is_available(monkeypatch):
    needed = step_memory(CFG, TC.batch_size, TC.eval_batches)
    monkeypatch.setattr(guards, "available_memory", lambda: needed - 1)
    with pytest.raises(NotEnoughMemory, match=r"needs about .* MiB of memory, and .* MiB is available"):
        train(CFG, DATA, DATA, TC)
    monkeypatch.setattr(guards, "available_memory", lambda: needed)
    assert train(CFG, DATA, DATA, dataclasses.replace(TC, steps=1)).step == 1
