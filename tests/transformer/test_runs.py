"""Run folders: one run per folder, a resumed run continues the same run (even after SIGKILL), steps
extend or are refused, an interrupted write leaves nothing half-made, and its leftovers are removed."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from runtime.files import host_tag
from transformer import checkpoint
from transformer.config import TransformerConfig
from transformer.errors import InvalidInput
from transformer.runs import RunBusy, RunFolder, RunMismatch, latest_checkpoint
from transformer.train import TrainConfig, load_checkpoint, train

CFG = TransformerConfig(vocab_size=16, n_ctx=8, n_embd=16, n_head=2, n_layer=1)
TC = TrainConfig(steps=12, batch_size=4, lr=1e-2, min_lr=1e-3, warmup_steps=2, eval_every=4, eval_batches=2,
                 checkpoint_every=4, seed=3)
DATA = np.tile(np.arange(16, dtype=np.int32), 64)
DATA[::7] = np.random.default_rng(0).integers(0, 16, size=DATA[::7].shape)
OTHER_DATA = np.roll(DATA, 5)
ROOT = Path(__file__).resolve().parents[2]


def names(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith("step-"))


def snapshot(folder):
    return {p.name: (p / "model.safetensors").read_bytes() for p in Path(folder).iterdir() if p.name.startswith("step-")}


def assert_same_params(a: dict, b: dict):
    flat_b = checkpoint.flatten(b)
    for name, array in checkpoint.flatten(a).items():
        np.testing.assert_array_equal(flat_b[name], array, err_msg=name)


def test_a_second_run_with_other_settings_is_refused_and_the_first_is_kept(tmp_path):
    train(CFG, DATA, DATA, dataclasses.replace(TC, steps=16), run_dir=tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(RunMismatch, match=r"holds another run \(lr 0.01 there, 0.02 here\).*--restart") as error:
        train(CFG, DATA, DATA, dataclasses.replace(TC, lr=2e-2), run_dir=tmp_path)
    assert "\n" not in str(error.value)
    assert snapshot(tmp_path) == before                                  # nothing of the first run lost


def test_restart_starts_over_and_its_checkpoints_are_the_ones_kept(tmp_path):
    # the hole: the old run's later steps (16) outlived the new run's, which were pruned right after writing
    train(CFG, DATA, DATA, dataclasses.replace(TC, steps=16), run_dir=tmp_path)
    result = train(CFG, DATA, DATA, dataclasses.replace(TC, lr=2e-2), run_dir=tmp_path, restart=True)
    assert names(tmp_path) == ["step-000008", "step-000012"]
    assert result.checkpoint == tmp_path / "step-000012" and result.checkpoint.is_dir()
    _, _, _, state = load_checkpoint(tmp_path)
    assert state["train_config"]["lr"] == 2e-2 and state["run"] == result.run
    assert json.loads((tmp_path / "run.json").read_text())["id"] == result.run


def test_the_same_run_again_without_resume_is_refused(tmp_path):
    train(CFG, DATA, DATA, TC, run_dir=tmp_path)
    with pytest.raises(RunMismatch, match=r"already holds this run, up to step-000012: continue it with --resume"):
        train(CFG, DATA, DATA, TC, run_dir=tmp_path)


def test_other_tokens_are_another_run(tmp_path):
    train(CFG, DATA, DATA, TC, run_dir=tmp_path)
    with pytest.raises(RunMismatch, match=r"holds another run \(train tokens [0-9a-f]{12}\.\.\. there"):
        train(CFG, OTHER_DATA, DATA, TC, run_dir=tmp_path)


def test_a_checkpoint_resumed_with_other_tokens_is_refused(tmp_path):
    train(CFG, DATA, DATA, TC, run_dir=tmp_path / "run")
    with pytest.raises(RunMismatch, match=r"step-000012 belongs to a run with other data or settings"):
        train(None, OTHER_DATA, DATA, resume=tmp_path / "run", run_dir=tmp_path / "elsewhere")


def test_a_resumed_run_keeps_its_settings_and_steps_extend_it_or_are_refused(tmp_path):
    train(CFG, DATA, DATA, TC, run_dir=tmp_path)
    with pytest.raises(InvalidInput, match=r"keeps its settings, but lr 0.01 -> 0.02 differ"):
        train(None, DATA, DATA, dataclasses.replace(TC, lr=2e-2), run_dir=tmp_path, resume=tmp_path)
    with pytest.raises(InvalidInput, match=r"checkpoint is at step 12; steps=10 would end the run before it"):
        train(None, DATA, DATA, dataclasses.replace(TC, steps=10), run_dir=tmp_path, resume=tmp_path)
    with pytest.raises(InvalidInput, match="keeps its model"):
        train(dataclasses.replace(CFG, n_embd=32), DATA, DATA, run_dir=tmp_path, resume=tmp_path)
    longer = train(None, DATA, DATA, dataclasses.replace(TC, steps=20), run_dir=tmp_path, resume=tmp_path)
    assert longer.step == 20 and names(tmp_path) == ["step-000016", "step-000020"]
    assert [h["step"] for h in longer.history] == [4, 8, 12, 16, 20]     # the first run's history, continued


def test_resuming_an_earlier_checkpoint_drops_the_later_ones_it_leaves_behind(tmp_path):
    train(CFG, DATA, DATA, dataclasses.replace(TC, steps=20), run_dir=tmp_path)       # keeps 16 and 20
    resumed = train(None, DATA, DATA, dataclasses.replace(TC, steps=18), run_dir=tmp_path,
                    resume=tmp_path / "step-000016")
    assert names(tmp_path) == ["step-000016", "step-000018"]           # step 20, of the left future, is gone
    assert latest_checkpoint(tmp_path) == resumed.checkpoint == tmp_path / "step-000018"


def test_resume_after_kill_9_continues_the_same_run(tmp_path):
    """A run killed with SIGKILL in the middle of writing a checkpoint, then resumed, equals an uninterrupted one."""
    script = f"""
import os, signal, sys
sys.path.insert(0, {str(ROOT / "tests" / "transformer")!r})
import numpy as np
from test_runs import CFG, TC, DATA
from transformer import checkpoint
from transformer.train import train

real = checkpoint.save_arrays
def killed_while_writing_step_8(path, arrays, dtype=None, metadata=None):
    real(path, arrays, dtype, metadata)
    if ".step-000008." in path.parent.name and path.name == "optimizer.safetensors":
        os.kill(os.getpid(), signal.SIGKILL)
checkpoint.save_arrays = killed_while_writing_step_8
train(CFG, DATA, DATA, TC, run_dir={str(tmp_path / "run")!r}, threads=1)
"""
    killed = subprocess.run([sys.executable, "-c", script], check=False, cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert killed.returncode == -9, killed.stderr
    assert names(tmp_path / "run") == ["step-000004"]
    leftovers = [p.name for p in (tmp_path / "run").iterdir() if p.name.startswith(".step-000008.")]
    assert len(leftovers) == 1                                           # the half-written checkpoint, never used
    resumed = train(None, DATA, DATA, run_dir=tmp_path / "run", resume=tmp_path / "run", threads=1)
    whole = train(CFG, DATA, DATA, TC, run_dir=tmp_path / "whole", threads=1)
    assert resumed.step == 12 and resumed.history == whole.history and resumed.run == whole.run
    assert_same_params(resumed.params, whole.params)
    assert names(tmp_path / "run") == ["step-000008", "step-000012"]


def test_an_interrupted_run_leaves_no_temporary_once_it_is_an_hour_old(tmp_path):
    hour_ago = time.time() - 3700
    orphan = tmp_path / ".step-000004.ab12cd34.tmp"                      # transformer.checkpoint's own naming
    tagged = tmp_path / ".step-000004.ab12cd34.999999999@00000000.tmp"   # runtime.files.atomic_folder's naming
    old_copy = tmp_path / ".step-000004.old"
    young = tmp_path / ".step-000008.zz99yy88.tmp"
    live = tmp_path / f".step-000012.qq11ww22.{os.getpid()}@{host_tag()}.tmp"
    foreign = tmp_path / ".notes.ab12cd34.tmp"
    for folder in (orphan, tagged, old_copy, young, live, foreign):
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"half")
        if folder is not young:
            for path in (folder / "model.safetensors", folder):
                os.utime(path, (hour_ago, hour_ago))
    train(CFG, DATA, DATA, TC, run_dir=tmp_path)
    assert not orphan.exists() and not tagged.exists() and not old_copy.exists()
    assert young.exists() and live.exists() and foreign.exists()       # too young, a live process's, not ours


def test_a_failed_checkpoint_write_keeps_the_previous_one_and_no_partial_folder(tmp_path, monkeypatch):
    real = checkpoint.save_arrays

    def disk_full_at_step_8(path, arrays, dtype=None, metadata=None):
        if ".step-000008." in path.parent.name:
            raise OSError("disk full")
        real(path, arrays, dtype, metadata)

    monkeypatch.setattr(checkpoint, "save_arrays", disk_full_at_step_8)
    with pytest.raises(OSError, match="disk full"):
        train(CFG, DATA, DATA, TC, run_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "run.json", "step-000004"]


def test_a_second_process_cannot_train_in_the_same_folder(tmp_path):
    with RunFolder(tmp_path), pytest.raises(RunBusy, match="in use"):
        train(CFG, DATA, DATA, TC, run_dir=tmp_path)
    train(CFG, DATA, DATA, TC, run_dir=tmp_path)                          # released on close


def test_resume_names_the_folder_without_a_checkpoint_itself(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=f"no checkpoint in {empty}: it holds neither"):
        train(None, DATA, DATA, resume=empty)


def test_a_damaged_checkpoint_is_named(tmp_path):
    train(CFG, DATA, DATA, TC, run_dir=tmp_path)
    optimizer = tmp_path / "step-000012" / "optimizer.safetensors"
    optimizer.write_bytes(optimizer.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"step-000012 is not a complete checkpoint \(SafetensorError"):
        train(None, DATA, DATA, resume=tmp_path)
