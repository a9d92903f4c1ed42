"""train-mini's run and model folders through the CLI: runs never mix, nothing is lost, every mistake is one line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import cli
from embedspace.errors import FormatError
from embedspace.io.mini_model import load_mini_model
from embedspace.paths import data_dir
from embedspace.training.mini import prepare_corpus

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ["Once upon a time there was a king.", "The king had a queen, and the queen had a horse.",
          "There was a time when the horse ran!"] * 40
GREEK = ["alpha beta gamma delta, epsilon zeta.", "Eta theta iota kappa lambda mu!"] * 60
TINY = ["--batch-size", "4", "--vocab", "40", "--n-embd", "8", "--n-head", "2", "--n-layer", "1", "--ctx", "8"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_one_line(result, *fragments, exit_code=1):
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("Error: ") and "Traceback" not in result.output, result.output
    for fragment in fragments:
        assert fragment in lines[-1], lines[-1]


@pytest.fixture
def corpora(tmp_path):
    (tmp_path / "corpus.txt").write_text("\n".join(CORPUS))
    (tmp_path / "greek.txt").write_text("\n".join(GREEK))
    return tmp_path / "corpus.txt", tmp_path / "greek.txt"


def train_mini(*args):
    return invoke("train-mini", *TINY, "--checkpoint-every", "2", *args)


def steps_in(run_dir):
    return sorted(p.name for p in Path(run_dir).glob("step-*"))


def test_a_second_run_in_a_reused_out_folder_is_refused_then_restarts_cleanly(tmp_path, corpora):
    corpus, _ = corpora
    first = train_mini("--corpus", corpus, "--out", tmp_path / "m", "--steps", "8")
    assert first.exit_code == 0, first.output
    kept = {p.name: (p / "model.safetensors").read_bytes() for p in (tmp_path / "m.run").glob("step-*")}
    model = (tmp_path / "m" / "model.safetensors").read_bytes()
    other = train_mini("--corpus", corpus, "--out", tmp_path / "m", "--steps", "4", "--lr", "0.01")
    assert_one_line(other, "holds another run (", "lr 0.003 there, 0.01 here", "--restart")
    assert {p.name: (p / "model.safetensors").read_bytes() for p in (tmp_path / "m.run").glob("step-*")} == kept
    assert (tmp_path / "m" / "model.safetensors").read_bytes() == model
    restarted = train_mini("--corpus", corpus, "--out", tmp_path / "m", "--steps", "4", "--lr", "0.01", "--restart")
    assert restarted.exit_code == 0, restarted.output
    printed = Path(restarted.output.split("checkpoint: ")[1].split()[0])
    assert printed.is_dir() and printed.name == "step-000004"                 # the folder it names exists
    assert steps_in(tmp_path / "m.run") == ["step-000002", "step-000004"]      # the old run's step 8 is gone


def test_another_corpus_is_refused_and_never_trained_on_unseen(tmp_path, corpora):
    corpus, greek = corpora
    assert train_mini("--corpus", corpus, "--out", tmp_path / "m", "--steps", "4").exit_code == 0
    tokens = (tmp_path / "m.run" / "train.npy").read_bytes()
    new_run = train_mini("--corpus", greek, "--out", tmp_path / "m", "--steps", "4")
    assert_one_line(new_run, "holds a run made from other data (corpus_sha256")
    resumed = invoke("train-mini", "--resume", tmp_path / "m.run", "--corpus", greek, "--out", tmp_path / "m",
                     "--steps", "6")
    assert_one_line(resumed, "holds a run made from other data")
    assert (tmp_path / "m.run" / "train.npy").read_bytes() == tokens          # the cached tokens untouched
    assert json.loads((tmp_path / "m" / "meta.json").read_text())["corpus"] == str(corpus)


def test_steps_with_resume_extend_the_run_or_are_refused(tmp_path, corpora):
    corpus, _ = corpora
    assert train_mini("--corpus", corpus, "--out", tmp_path / "m", "--steps", "4").exit_code == 0
    longer = invoke("train-mini", "--resume", tmp_path / "m.run", "--out", tmp_path / "m", "--steps", "8")
    assert longer.exit_code == 0, longer.output
    assert "done at step 8" in longer.output and steps_in(tmp_path / "m.run") == ["step-000006", "step-000008"]
    assert json.loads((tmp_path / "m" / "meta.json").read_text())["steps"] == 8
    shorter = invoke("train-mini", "--resume", tmp_path / "m.run", "--out", tmp_path / "m", "--steps", "5")
    assert_one_line(shorter, "the checkpoint is at step 8; steps=5 would end the run before it")
    changed = invoke("train-mini", "--resume", tmp_path / "m.run", "--out", tmp_path / "m", "--lr", "0.1")
    assert changed.exit_code == 2 and "--lr: a resumed run keeps its own settings" in changed.output


def test_resume_after_kill_9_continues_the_same_run(tmp_path, corpora):
    corpus, _ = corpora
    args = ["train-mini", *TINY, "--checkpoint-every", "2", "--steps", "8", "--threads", "1", "--corpus", str(corpus)]
    driver = """
import os, signal, sys
from transformer import checkpoint
real = checkpoint.save_arrays
def killed_after_step_6(path, arrays, dtype=None, metadata=None):
    real(path, arrays, dtype, metadata)
    if ".step-000006." in path.parent.name and path.name == "optimizer.safetensors":
        os.kill(os.getpid(), signal.SIGKILL)       # in the middle of writing step 6
checkpoint.save_arrays = killed_after_step_6
from cli.main import cli
cli(sys.argv[1:])
"""
    killed = subprocess.run([sys.executable, "-c", driver, *args, "--out", str(tmp_path / "m")], check=False, cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr
    assert steps_in(tmp_path / "m.run") == ["step-000002", "step-000004"] and not (tmp_path / "m").exists()
    resumed = invoke("train-mini", "--resume", tmp_path / "m.run", "--out", tmp_path / "m", "--threads", "1")
    assert resumed.exit_code == 0, resumed.output
    whole = invoke(*args, "--out", tmp_path / "whole")
    assert whole.exit_code == 0, whole.output
    a, b = load_mini_model(tmp_path / "m"), load_mini_model(tmp_path / "whole")
    for name in ("wte", "wpe"):
        np.testing.assert_array_equal(a.params[name], b.params[name])
    np.testing.assert_array_equal(a.params["blocks"][0]["mlp"]["c_fc"]["w"], b.params["blocks"][0]["mlp"]["c_fc"]["w"])
    meta_a, meta_b = (json.loads((tmp_path / f / "meta.json").read_text()) for f in ("m", "whole"))
    assert meta_a["run"] == meta_b["run"] and meta_a["history"] == meta_b["history"]


def test_an_out_folder_that_is_not_a_model_folder_is_never_replaced(tmp_path, corpora, monkeypatch):
    corpus, _ = corpora
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "letter.txt").write_text("keep me")
    assert_one_line(train_mini("--corpus", corpus, "--out", mine), "holds other files (letter.txt)")
    assert (mine / "letter.txt").read_text() == "keep me"
    monkeypatch.chdir(mine)
    assert_one_line(train_mini("--corpus", corpus, "--out", "."), "holds other files (letter.txt)")
    monkeypatch.chdir(tmp_path)
    assert_one_line(train_mini("--corpus", corpus, "--out", "."), "is a folder holding the source")
    assert_one_line(train_mini("--corpus", corpus, "--out", data_dir() / "mini"), "shipped data")
    assert_one_line(train_mini("--corpus", corpus, "--out", tmp_path / "corpus.txt"), "is a file", exit_code=2)


def test_a_model_folder_of_another_run_needs_restart(tmp_path, corpora):
    corpus, _ = corpora
    assert train_mini("--corpus", corpus, "--out", tmp_path / "m", "--steps", "2").exit_code == 0
    before = (tmp_path / "m" / "meta.json").read_text()
    other = train_mini("--corpus", corpus, "--out", tmp_path / "m", "--run-dir", tmp_path / "other.run", "--steps", "2")
    assert_one_line(other, "holds the model of another run", "--restart")
    assert (tmp_path / "m" / "meta.json").read_text() == before
    again = train_mini("--corpus", corpus, "--out", tmp_path / "m", "--run-dir", tmp_path / "other.run", "--steps", "2",
                       "--restart")
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "m" / "meta.json").read_text())["run_dir"] == str((tmp_path / "other.run").resolve())


def test_messages_name_the_folder_and_the_file(tmp_path, corpora):
    corpus, _ = corpora
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line(invoke("train-mini", "--resume", empty, "--out", tmp_path / "m"), f"no checkpoint in {empty}:")
    assert_one_line(train_mini("--corpus", "/dev/null", "--out", tmp_path / "m"), "/dev/null is a device, not a text file")
    assert_one_line(train_mini("--corpus", tmp_path / "none.txt", "--out", tmp_path / "m"), "corpus file not found")
    assert_one_line(train_mini("--corpus", corpus, "--out", tmp_path / "m", "--lr", "inf"),
                    "lr must be a finite number above 0, got inf")
    assert_one_line(train_mini("--corpus", corpus, "--out", tmp_path / "m", "--batch-size", "100000000"),
                    "needs about", "lower the batch size")


def test_a_damaged_token_file_is_named(tmp_path, corpora):
    corpus, _ = corpora
    assert train_mini("--corpus", corpus, "--out", tmp_path / "m", "--steps", "2").exit_code == 0
    val = tmp_path / "m.run" / "val.npy"
    val.write_bytes(val.read_bytes()[:40])                                   # truncated
    resumed = invoke("train-mini", "--resume", tmp_path / "m.run", "--out", tmp_path / "m", "--steps", "4")
    assert_one_line(resumed, f"{val}: val.npy differs from what tokens.json records", "--corpus")
    (tmp_path / "m.run" / "tokens.json").unlink()
    assert_one_line(invoke("train-mini", "--resume", tmp_path / "m.run", "--out", tmp_path / "m", "--steps", "4"),
                    "holds no tokenized corpus for this run", "--corpus")
    with pytest.raises(FormatError, match=f"{val}: not a token array"):   # a run folder of an older version
        prepare_corpus(None, tmp_path / "m.run", None)
    again = invoke("train-mini", "--resume", tmp_path / "m.run", "--corpus", corpus, "--out", tmp_path / "m",
                   "--steps", "4")                                            # the corpus makes the tokens again
    assert again.exit_code == 0, again.output
    assert "done at step 4" in again.output


def test_a_run_of_an_earlier_version_resumes_into_its_own_model_folder(tmp_path, corpora, monkeypatch):
    corpus, _ = corpora
    monkeypatch.chdir(tmp_path)
    assert train_mini("--corpus", corpus, "--out", "m", "--steps", "4").exit_code == 0
    run = tmp_path / "m.run"                           # as an earlier version left it: no identities recorded
    for name in ("run.json", "tokens.json"):
        (run / name).unlink()
    for state_file in run.glob("step-*/state.json"):
        state = json.loads(state_file.read_text())
        state.pop("identity"), state.pop("run")
        state_file.write_text(json.dumps(state))
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    meta.pop("run"), meta.pop("run_dir")
    (tmp_path / "m" / "meta.json").write_text(json.dumps(meta))     # "checkpoint": "m.run/step-000004"
    resumed = invoke("train-mini", "--resume", "m.run", "--out", "m", "--steps", "6")
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((tmp_path / "m" / "meta.json").read_text())["run_dir"] == str(run.resolve())
    assert (run / "run.json").is_file()
