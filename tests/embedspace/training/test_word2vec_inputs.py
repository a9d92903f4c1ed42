"""train-word2vec on bad input: one clear line, never a hang, a traceback or gigabytes allocated first;
its output folder is written whole, so a kill never pairs new vectors with an old vocabulary."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import cli
from embedspace import Space
from embedspace.errors import InvalidInput
from embedspace.paths import data_dir
from embedspace.training import word2vec
from embedspace.training.word2vec import EmptyVocabulary, load_shipped, save_shipped, train_model

ROOT = Path(__file__).resolve().parents[3]
SENTENCES = [["the", "king", "rules", "the", "land"], ["the", "queen", "rules", "the", "land"]] * 20
TINY = ["--dims", "8", "--min-count", "1", "--epochs", "1", "--workers", "1"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_one_line(result, *fragments, exit_code=1):
    assert result.exit_code == exit_code, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and "Traceback" not in result.output and "internal error" not in result.output
    for fragment in fragments:
        assert fragment in last, last


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in SENTENCES) + "\n")
    return path


def test_too_few_words_or_a_huge_min_count_is_one_line(tmp_path, corpus):
    few = tmp_path / "few.txt"
    few.write_text("a b c\n")
    assert_one_line(invoke("train-word2vec", few, tmp_path / "w"), "no word of the corpus (3 words) occurs min_count=5")
    assert_one_line(invoke("train-word2vec", corpus, tmp_path / "w", "--min-count", "1000000"),
                    "occurs min_count=1000000 times or more")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(EmptyVocabulary, match=r"\(0 words\)"):
        train_model(empty)
    assert not (tmp_path / "w").exists()


def test_settings_gensim_would_choke_on_are_refused_before_training():
    for name, value in (("window", 10**12), ("negative", 2**40), ("vector_size", 0), ("workers", 10**6),
                        ("seed", -1), ("sample", float("nan")), ("alpha", 0.0), ("epochs", 0), ("sg", 2)):
        with pytest.raises(InvalidInput, match=f"^{name} must be"):
            train_model(SENTENCES, **{name: value})


def test_a_huge_window_is_a_usage_error_not_a_hang(tmp_path, corpus):
    started = time.monotonic()
    result = invoke("train-word2vec", corpus, tmp_path / "w", "--window", "1000000000000")
    assert result.exit_code == 2 and "1000000000000 is not in the range 1<=x<=10000" in result.output
    assert time.monotonic() - started < 60                 # generous: it used to hang forever


def test_vectors_that_cannot_fit_are_refused_before_allocating(monkeypatch, tmp_path, corpus):
    monkeypatch.setattr(word2vec, "available_memory", lambda: 2**30)
    tracemalloc.start()
    try:
        result = invoke("train-word2vec", corpus, tmp_path / "w", "--dims", "100000000", "--min-count", "1")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # (5 words x 2 matrices + 2 workers x 2 buffers) x 1e8 floats x 4 bytes = 5.6e9 bytes
    assert_one_line(result, "word2vec with 5 words x 100,000,000 dimensions needs about 5.2 GiB", "1.0 GiB is available")
    assert peak < 100 * 2**20


def test_the_output_folder_is_written_whole_and_the_old_one_kept_on_failure(tmp_path, monkeypatch):
    keys = ["a", "b"]
    save_shipped(Space(keys, np.ones((2, 3), dtype=np.float32)), tmp_path / "w", {"run": 1})
    before = {p.name: p.read_bytes() for p in (tmp_path / "w").iterdir()}

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(word2vec.np, "save", fail)
    with pytest.raises(OSError, match="disk full"):
        save_shipped(Space(["c", "d", "e"], np.zeros((3, 3), dtype=np.float32)), tmp_path / "w", {"run": 2})
    assert {p.name: p.read_bytes() for p in (tmp_path / "w").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]                 # no temporary left


def test_a_kill_while_writing_leaves_the_old_folder_whole(tmp_path):
    save_shipped(Space(["a", "b"], np.ones((2, 3), dtype=np.float32)), tmp_path / "w", {"run": 1})
    script = f"""
import os, signal
import numpy as np
from embedspace import Space
from embedspace.training import word2vec
real = np.save
def save_then_die(path, array):
    real(path, array)
    os.kill(os.getpid(), signal.SIGKILL)       # new vectors written, vocabulary not yet
word2vec.np.save = save_then_die
word2vec.save_shipped(Space(["c", "d", "e"], np.zeros((3, 3), dtype=np.float32)), {str(tmp_path / "w")!r}, {{"run": 2}})
"""
    killed = subprocess.run([sys.executable, "-c", script], check=False, cwd=ROOT, capture_output=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    old = load_shipped(tmp_path / "w")
    assert old.index_to_key == ["a", "b"] and old.vectors.shape == (2, 3)   # vectors and vocabulary still paired
    leftover = [p for p in tmp_path.iterdir() if p.name.startswith(".w.")]
    assert len(leftover) == 1
    hour_ago = time.time() - 3700
    for path in [*leftover[0].iterdir(), leftover[0]]:
        os.utime(path, (hour_ago, hour_ago))
    save_shipped(Space(["c"], np.zeros((1, 3), dtype=np.float32)), tmp_path / "w", {"run": 3})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]                 # the orphan went with the next write
    assert json.loads((tmp_path / "w" / "meta.json").read_text())["run"] == 3


def test_an_output_folder_holding_other_files_or_shipped_data_is_refused(tmp_path, corpus):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    assert_one_line(invoke("train-word2vec", corpus, mine, *TINY), "holds other files (notes.txt)")
    assert_one_line(invoke("train-word2vec", corpus, tmp_path, *TINY), "is a folder holding the source")
    shipped = data_dir() / "word2vec"
    stamp = {p.name: p.stat().st_mtime_ns for p in shipped.iterdir()}
    assert_one_line(invoke("train-word2vec", corpus, shipped, *TINY), "inside the shipped data")
    assert {p.name: p.stat().st_mtime_ns for p in shipped.iterdir()} == stamp
    assert (mine / "notes.txt").read_text() == "keep"


def test_a_corpus_that_is_not_a_regular_file_is_named(tmp_path):
    assert_one_line(invoke("train-word2vec", "/dev/null", tmp_path / "w"), "/dev/null is a device, not a text file")
