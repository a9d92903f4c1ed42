"""Training: the loss falls, resume equals an uninterrupted run, NaN stops, Ctrl-C saves, writes are atomic."""
from __future__ import annotations

import dataclasses
import json
import os
import signal

import numpy as np
import pytest

from transformer import checkpoint
from transformer import train as training
from transformer.config import TransformerConfig
from transformer.model import init_params
from transformer.train import AdamW, TrainConfig, TrainingDiverged, clip_gradients, load_checkpoint, train

CFG = TransformerConfig(vocab_size=16, n_ctx=8, n_embd=16, n_head=2, n_layer=1)
TC = TrainConfig(steps=12, batch_size=4, lr=1e-2, min_lr=1e-3, warmup_steps=2, eval_every=4, eval_batches=2,
                 checkpoint_every=4, seed=3)
# a stream with structure: a repeating pattern plus noise, so the loss has something to learn
DATA = np.tile(np.arange(16, dtype=np.int32), 64)
DATA[::7] = np.random.default_rng(0).integers(0, 16, size=DATA[::7].shape)


def checkpoint_names(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("step-"))


def test_loss_decreases_on_a_learnable_stream():
    result = train(CFG, DATA, DATA, dataclasses.replace(TC, steps=60, eval_every=10, checkpoint_every=0))
    first, last = result.history[0]["val_loss"], result.history[-1]["val_loss"]
    assert last < first - 0.5
    assert result.tokens_seen == 60 * 4 * 8 and not result.interrupted


def test_resume_equals_an_uninterrupted_run(tmp_path):
    whole = train(CFG, DATA, DATA, TC, run_dir=tmp_path / "whole")
    assert checkpoint_names(tmp_path / "whole") == ["step-000008", "step-000012"]
    resumed = train(None, DATA, DATA, resume=tmp_path / "whole" / "step-000008", run_dir=tmp_path / "resumed")
    for name, array in checkpoint.flatten(whole.params).items():
        np.testing.assert_array_equal(checkpoint.flatten(resumed.params)[name], array, err_msg=name)
    assert resumed.history == whole.history
    _, cfg, moments, state = load_checkpoint(tmp_path / "resumed")
    assert cfg == CFG and state["step"] == 12 and set(moments) == {"m", "v"}


def test_nan_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path):
    params = init_params(CFG, seed=0)

    def poison(progress):
        if progress.step == 5:
            params["blocks"][0]["mlp"]["c_fc"]["w"][0, 0] = np.nan   # as after an overflow

    with pytest.raises(TrainingDiverged, match=r"step 6.*last good checkpoint is .*step-000004"):
        train(CFG, DATA, DATA, TC, run_dir=tmp_path, params=params, callback=poison)
    assert checkpoint_names(tmp_path) == ["step-000004"]
    good, _ = checkpoint.load_model(tmp_path / "step-000004")
    assert all(np.isfinite(a).all() for a in checkpoint.flatten(good).values())


def test_ctrl_c_finishes_the_step_saves_and_returns(tmp_path):
    def interrupt(progress):
        if progress.step == 3:
            os.kill(os.getpid(), signal.SIGINT)

    result = train(CFG, DATA, DATA, TC, run_dir=tmp_path, callback=interrupt)
    assert result.interrupted and result.step == 3
    assert result.checkpoint == tmp_path / "step-000003"
    assert json.loads((tmp_path / "step-000003" / "state.json").read_text())["step"] == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler     # handler restored


def test_a_failed_write_leaves_no_partial_files(tmp_path, monkeypatch):
    first = checkpoint.save_model(tmp_path / "model", init_params(CFG), CFG)
    before = {p.name: p.read_bytes() for p in first.iterdir()}

    def broken(path, arrays, dtype=None, metadata=None):
        path.write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint, "save_arrays", broken)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save_model(tmp_path / "model", init_params(CFG, seed=1), CFG)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]               # no temporary folder left
    assert {p.name: p.read_bytes() for p in first.iterdir()} == before      # the old model intact


def test_adamw_matches_the_published_update():
    tc = TrainConfig(weight_decay=0.1, beta1=0.9, beta2=0.95, eps=1e-8)
    w, b = np.array([[0.5, -1.0]]), np.array([0.3])
    gw, gb = np.array([[0.2, 0.4]]), np.array([-0.1])
    params = {"w": w.copy(), "b": b.copy()}
    opt = AdamW(params, tc)
    for _ in range(2):
        opt.step(params, {"w": gw.copy(), "b": gb.copy()}, lr=0.01)
    # reference: two AdamW steps written out (decay on matrices only)
    for p, g, decay in ((w, gw, 0.1), (b, gb, 0.0)):
        m = v = 0
        for t in (1, 2):
            m, v = 0.9 * m + 0.1 * g, 0.95 * v + 0.05 * g * g
            p = p * (1 - 0.01 * decay) - 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.95 ** t)) + 1e-8)
        np.testing.assert_allclose(params["w" if decay else "b"], p, rtol=1e-12)


def test_clipping_scales_to_the_global_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0, 4.0]])}
    assert clip_gradients(grads, 1.0) == pytest.approx(5.0)
    assert np.sqrt(sum((g ** 2).sum() for g in grads.values())) == pytest.approx(1.0)


def test_bad_settings_are_named(tmp_path):
    with pytest.raises(ValueError, match="min_lr"):
        TrainConfig(lr=1e-3, min_lr=1e-2)
    with pytest.raises(ValueError, match="need more than 9 tokens"):
        training.get_batch(np.arange(5), 2, 8, np.random.default_rng(0))
    with pytest.raises(FileNotFoundError, match=f"no checkpoint in {tmp_path}: it holds neither"):
        load_checkpoint(tmp_path)
