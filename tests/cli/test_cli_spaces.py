"""The space commands through click's CliRunner: output, --json, and one-line errors."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_checks import assert_user_error
from click.testing import CliRunner
from gensim.models import KeyedVectors

from cli.main import cli
from embedspace.catalog import load_space
from transformer.minilm_files import ModelNotFound, find_minilm_dir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vectors"
TINY = str(FIXTURES / "tiny.bin")


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path / "cache"))


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_neighbors_json_matches_gensim():
    result = run("neighbors", "cat", "car", "--space", TINY, "--topn", "3", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    kv = KeyedVectors.load_word2vec_format(TINY, binary=True)
    for word in ("cat", "car"):
        ours = [(r["neighbor"], r["cosine"]) for r in rows if r["word"] == word]
        theirs = kv.most_similar(word, topn=3)
        assert [k for k, _ in ours] == [k for k, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
        assert [r["rank"] for r in rows if r["word"] == word] == [1, 2, 3]


def test_neighbors_table():
    result = run("neighbors", "cat", "--space", TINY, "-n", "2")
    assert result.exit_code == 0
    header, _rule, *rows = result.stdout.splitlines()
    assert header.split() == ["word", "rank", "neighbor", "cosine"] and len(rows) == 2
    assert rows[0].split()[:3] == ["cat", "1", KeyedVectors.load_word2vec_format(TINY, binary=True).most_similar("cat")[0][0]]


def test_unknown_word_is_one_line_with_suggestions():
    assert_user_error(run("neighbors", "catt", "--space", TINY), "'catt' is not in the vocabulary", "cat")


def test_unknown_space_and_bad_file_are_one_line(tmp_path):
    assert_user_error(run("neighbors", "cat", "--space", "nowhere"), "'nowhere' is neither a space name")
    bad = tmp_path / "bad.txt"
    bad.write_text("cat 1 2\ndog 1\n")
    assert_user_error(run("info", "--space", str(bad)), "bad.txt, line 2: wrong field count")


def test_pickle_needs_trust_pickle():
    kv = str(FIXTURES / "tiny.kv")
    assert_user_error(run("info", "--space", kv), "pickle", "--trust-pickle")
    result = run("info", "--space", kv, "--trust-pickle", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["size"] == 12


def test_usage_errors_exit_2():
    assert run("neighbors", "--space", TINY).exit_code == 2  # no word
    assert run("neighbors", "cat", "--space", TINY, "--topn", "0").exit_code == 2
    assert run("info", "--space", TINY, "--format", "csv").exit_code == 2
    assert run("info", "--space", TINY, "--limit", "0").exit_code == 2


def test_info_json_and_limit():
    result = run("info", "--space", TINY, "--limit", "5", "--json")
    info = json.loads(result.stdout)
    assert (info["size"], info["dims"], info["dtype"], info["first_keys"]) == (5, 6, "float32", ["cat", "dog", "horse", "car", "truck"])
    text = str(FIXTURES / "tiny.txt")
    assert json.loads(run("info", "--space", text, "--json").stdout)["memory_mapped"] is False  # read, cached
    assert json.loads(run("info", "--space", text, "--json").stdout)["memory_mapped"] is True  # from the cache


def test_format_option_is_applied(tmp_path):
    path = tmp_path / "odd.txt"
    path.write_text("3 1\n")
    assert json.loads(run("info", "--space", str(path), "--format", "glove", "--json").stdout)["first_keys"] == ["3"]


def test_spaces_lists_availability(monkeypatch, tmp_path):
    monkeypatch.setenv("EMBEDSPACE_DATA", str(tmp_path))
    result = run("spaces", "--json")
    spaces = {s["name"]: s for s in json.loads(result.stdout)}
    assert {"minilm", "word2vec"} <= set(spaces)
    assert spaces["word2vec"]["available"] is False and "vectors.npy" in spaces["word2vec"]["reason"]
    table = run("spaces").stdout
    assert "word2vec" in table and "no" in table


def test_default_space_is_named_on_stderr(monkeypatch, tmp_path):
    monkeypatch.setenv("EMBEDSPACE_MINILM", "/nonexistent/minilm")  # MiniLM not found
    folder = tmp_path / "word2vec"
    folder.mkdir()
    np.save(folder / "vectors.npy", np.eye(3, dtype=np.float16))
    (folder / "vocab.txt").write_text("a\nb\nc\n")
    monkeypatch.setenv("EMBEDSPACE_DATA", str(tmp_path))
    result = run("neighbors", "a", "--json")
    assert result.exit_code == 0
    assert "using space 'word2vec' (the default" in result.stderr
    assert [r["neighbor"] for r in json.loads(result.stdout)] == ["b", "c"]


@pytest.mark.parametrize("dest", ["out.bin", "out.txt", "out.vec", "folder"])
def test_convert_round_trips(tmp_path, dest):
    result = run("convert", TINY, str(tmp_path / dest), "--limit", "7")
    assert result.exit_code == 0, result.output
    converted = load_space(tmp_path / dest)
    original = load_space(TINY, limit=7)
    assert converted.index_to_key == original.index_to_key
    np.testing.assert_array_equal(converted.vectors, original.vectors)


def test_convert_refuses_an_unknown_suffix(tmp_path):
    assert_user_error(run("convert", TINY, str(tmp_path / "out.csv")), "cannot tell the format")


@pytest.mark.minilm
def test_neighbors_tower_on_minilm_we():
    try:
        find_minilm_dir()
    except ModelNotFound:
        pytest.skip("all-MiniLM-L6-v2 is not installed")
    result = run("neighbors", "tower", "--space", "minilm-we", "--json")
    assert result.exit_code == 0, result.output
    neighbours = [row["neighbor"] for row in json.loads(result.stdout)]
    assert {"towers", "skyscraper"} <= set(neighbours)


def test_reading_a_large_file_shows_progress_on_stderr(monkeypatch):
    from embedspace.io import formats

    monkeypatch.setattr(formats, "PROGRESS_EVERY", 3)
    result = run("info", "--space", str(FIXTURES / "tiny.txt"), "--json")
    assert result.exit_code == 0
    assert "reading" in result.stderr and json.loads(result.stdout)["size"] == 12
