"""The ``context`` and ``tour`` commands through click's CliRunner."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.main import cli

ML = "The engineers trained a machine learning model on the data."
FASHION = "She worked as a fashion model in Paris."


@pytest.fixture(scope="module")
def minilm_available():
    pytest.importorskip("embedspace.contextual.encoders")
    from transformer.minilm_files import ModelNotFound, find_minilm_dir

    try:
        find_minilm_dir()
    except ModelNotFound as error:
        pytest.skip(str(error))


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.minilm
def test_context_json_has_one_cosine_per_layer_for_each_pair(minilm_available):
    result = invoke("context", ML, FASHION, "A simple model of the atom.", "--word", "model", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["word"] == "model" and data["model"] == "minilm"
    assert data["causal"] is False and "both sides" in data["note"]
    n_layers = data["n_layers"]
    assert len(data["pairs"]) == 3  # every pair of three sentences
    for pair in data["pairs"]:
        assert len(pair["cosines"]) == n_layers + 1
        assert all(-1.0 <= c <= 1.0 + 1e-6 for c in pair["cosines"])
        assert len(pair["sentences"]) == 2
    first = data["occurrences"][0]
    assert first["sentence"] == ML and first["pieces"] == ["model"]
    assert len(first["static_cosines"]) == n_layers + 1
    assert [n["layer"] for n in first["neighbours"]] == [0, n_layers]
    assert len(first["neighbours"][0]["words"]) == 5


@pytest.mark.minilm
def test_context_table_names_layers_and_pairs(minilm_available):
    result = invoke("context", ML, FASHION, "--word", "model", "--layer", "2", "--topn", "3")
    assert result.exit_code == 0, result.output
    assert "1 vs 2" in result.output and "W_E vs 1" in result.output
    assert "sentence 2, layer 2 neighbours:" in result.output


@pytest.mark.minilm
def test_context_plot_writes_a_png(minilm_available, tmp_path):
    pytest.importorskip("embedspace.viz.plots")
    path = tmp_path / "drift.png"
    result = invoke("context", ML, FASHION, "--word", "model", "--plot", str(path))
    assert result.exit_code == 0, result.output
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.minilm
def test_context_word_not_in_a_sentence_is_one_clear_error(minilm_available):
    result = invoke("context", ML, "The cat sat on the mat.", "--word", "model")
    assert result.exit_code == 1
    assert "'model'" in result.output and "The cat sat on the mat." in result.output
    assert "Traceback" not in result.output


@pytest.mark.minilm
def test_context_layer_out_of_range_is_one_clear_error(minilm_available):
    result = invoke("context", ML, FASHION, "--word", "model", "--layer", "99")
    assert result.exit_code == 1
    assert "layer 99" in result.output


def test_context_with_the_causal_mini_gpt_ignores_the_right_context():
    from embedspace.io.mini_model import mini_dir

    if not (mini_dir() / "config.json").is_file():
        pytest.skip("the mini GPT is not in data/mini")
    result = invoke("context", "the bank of the river", "the bank of the money", "--word", "bank",
                    "--model", "mini", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["causal"] is True and "causal" in data["note"] and "left" in data["note"]
    cosines = data["pairs"][0]["cosines"]
    assert len(cosines) == data["n_layers"] + 1
    assert cosines == pytest.approx([1.0] * len(cosines), abs=1e-5)  # same left context: same vector


def test_context_needs_a_word_and_a_sentence():
    assert invoke("context", ML).exit_code == 2
    assert invoke("context", "--word", "model").exit_code == 2


def test_tour_command_prints_progress_summary_and_report_path(tmp_path, monkeypatch):
    import embedspace.tour.run

    only = [s for s in embedspace.tour.run.SECTIONS if s.title == "Parameter count"]
    monkeypatch.setattr(embedspace.tour.run, "SECTIONS", tuple(only))
    result = CliRunner().invoke(cli, ["tour", "--out", str(tmp_path / "t")])
    assert result.exit_code == 0, result.stderr
    assert "[1/1] Parameter count" in result.stderr
    assert "617,558,016" in result.stdout and str(tmp_path / "t" / "report.html") in result.stdout
    assert (tmp_path / "t" / "report.md").is_file()


def test_tour_command_exits_1_when_a_section_fails(tmp_path, monkeypatch):
    import embedspace.tour.run

    def broken(tour, section):
        raise RuntimeError("boom")

    monkeypatch.setattr(embedspace.tour.run, "SECTIONS", (embedspace.tour.run.SectionSpec("Broken", "intro", broken),))
    result = CliRunner().invoke(cli, ["tour", "--out", str(tmp_path / "t")])
    assert result.exit_code == 1
    assert "1 section(s) failed: Broken" in result.stderr
    assert (tmp_path / "t" / "report.html").is_file()  # the report is still written


def test_commands_have_help_with_an_example():
    for name in ("context", "tour"):
        result = invoke(name, "--help")
        assert result.exit_code == 0 and "Example:" in result.output
