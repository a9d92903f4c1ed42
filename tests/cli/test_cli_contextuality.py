"""contextuality, senses and distill through click's CliRunner, on the tiny corpus and the mini model."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import cli
from embedspace.catalog import load_space

TINY = Path(__file__).parents[1] / "fixtures" / "corpus" / "tiny.txt"
FAST = ["--corpus", str(TINY), "--model", "mini", "--max-tokens", "32", "--group-size", "5"]


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path / "cache"))
    return CliRunner()


def invoke(runner, *args):
    return runner.invoke(cli, list(args), catch_exceptions=False)


def test_contextuality_prints_a_table_per_word_and_resumes(runner, tmp_path):
    result = invoke(runner, "contextuality", "bank", "river", *FAST, "--per-word", "8")
    assert result.exit_code == 0, result.output
    assert "bank: 8 occurrence(s) in 8 sentence(s) (of 10 usable lines holding it)" in result.output
    assert "river: 5 occurrence(s)" in result.output and "self-sim" in result.output
    runs = list((tmp_path / "cache" / "occurrences").iterdir())
    assert len(runs) == 1 and (runs[0] / "manifest.json").is_file()
    again = invoke(runner, "contextuality", "bank", "river", *FAST, "--per-word", "8")
    assert again.stdout == result.stdout  # the same run folder, read again: nothing scanned or extracted
    assert "scanning corpus" in result.output and "scanning corpus" not in again.output


def test_contextuality_json_and_plot(runner, tmp_path):
    plot = tmp_path / "curves.png"
    result = invoke(runner, "contextuality", "bank", "light", *FAST, "--json", "--plot", str(plot),
                    "--measure", "mev", "--adjusted")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [w["word"] for w in data["words"]] == ["bank", "light"] and len(data["anisotropy"]) == 5
    assert all(len(w["mev_adjusted"]) == 5 for w in data["words"])
    assert plot.stat().st_size > 1000


def test_senses_shows_clusters_with_examples_and_neighbours(runner, tmp_path):
    plot = tmp_path / "senses.png"
    result = invoke(runner, "senses", "bank", *FAST, "--layer", "2", "--max-clusters", "3", "--plot", str(plot))
    assert result.exit_code == 0, result.output
    assert "'bank' at layer 2 of mini: 10 occurrences" in result.output
    assert "sense 1:" in result.output and "mini W_E:" in result.output and "word2vec:" in result.output
    assert plot.is_file()
    data = json.loads(invoke(runner, "senses", "bank", *FAST, "--layer", "2", "--json").stdout)
    assert sum(c["size"] for c in data["clusters"]) == 10 and data["k"] == len(data["clusters"])


@pytest.mark.filterwarnings("ignore::scipy.stats.ConstantInputWarning")  # a 7-word vocabulary covers 1 pair
def test_distill_writes_a_space_usable_as_space_and_evaluates_it(runner, tmp_path):
    out = tmp_path / "distilled"
    words = tmp_path / "words.txt"
    words.write_text("bank\nriver\nking\nNew York\n")
    result = invoke(runner, "distill", *FAST, "--layer", "1", "--out", str(out), "--vocab", "5", "--words",
                    str(words), "--evaluate", "--json")
    assert result.exit_code == 0, result.output
    space = load_space(out)
    assert {"bank", "river", "king", "the"} <= set(space.index_to_key) and "new york" not in space
    assert space.dim == 128
    table = json.loads(result.stdout)
    assert [r["space"] for r in table["rows"]] == ["distilled L1", "isolated L1", "mini W_E", "word2vec"]
    neighbours = invoke(runner, "neighbors", "bank", "--space", str(out), "--json")
    assert neighbours.exit_code == 0 and "river" in neighbours.output
    half = tmp_path / "half"
    invoke(runner, "distill", *FAST, "--layer", "1", "--out", str(half), "--vocab", "5", "--words", str(words),
           "--float16")
    assert np.load(half / "vectors.npy").dtype == np.float16
    np.testing.assert_allclose(load_space(half).vectors, space.vectors, atol=1e-2)


@pytest.mark.parametrize("args, message", [
    (["contextuality", "New York", *FAST], "not one word"),
    (["contextuality", "bank", "--corpus", str(TINY), "--model", "gpt9"], "unknown model"),
    (["contextuality", "bank", *FAST, "--engine", "ray", "--workers", "0"], "--workers"),
    (["senses", "bank", *FAST, "--layer", "9"], "layer 9 does not exist"),
])
def test_user_errors_are_one_line(runner, args, message):
    result = runner.invoke(cli, args)
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output


def test_a_missing_default_corpus_says_how_to_build_it(runner):
    result = runner.invoke(cli, ["contextuality", "bank", "--model", "mini"])
    assert result.exit_code == 2 and "build_word2vec.py --corpus-only" in result.output
