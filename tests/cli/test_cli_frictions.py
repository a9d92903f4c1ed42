"""Issue 11's frictions through the CLI: held-out probe figures, missing pairs, <unk> words, params of MiniLM."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import cli
from embedspace.io.saving import save_space
from embedspace.space import Space


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def space_dir(tmp_path_factory) -> str:
    """Random vectors where every HIGH word is its LOW word plus one shared offset and noise."""
    rng = np.random.default_rng(2)
    lows = ["man", "boy", "he", "king", "father", "son", "uncle", "actor"]
    highs = ["woman", "girl", "she", "queen", "mother", "daughter", "aunt", "actress"]
    low = rng.normal(size=(len(lows), 12))
    high = low + np.r_[1.5, np.zeros(11)] + rng.normal(scale=0.8, size=low.shape)
    folder = tmp_path_factory.mktemp("frictions") / "pairs"
    save_space(Space(highs + lows, np.vstack([high, low]).astype(np.float32), name="pairs"), folder)
    return str(folder)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def summary(*args) -> dict:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)[-1]


def test_probe_pairs_reports_held_out_figures_and_labels_the_in_sample_ones(space_dir):
    # gender.tsv has 20 pairs; 8 are in this space: 12 are left out with one note
    result = run("probe", "--pairs", "gender", "--space", space_dir)
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and notes[0].startswith("note: 12 of 20 pairs left out, with words not in space 'pairs'")
    lines = result.stdout.splitlines()
    held = next(line for line in lines if line.startswith("pairs of gender.tsv"))
    assert "held out (leave-one-out: each scored along a direction built without it)" in held
    assert any(line.startswith("in sample (") and "optimistic" in line for line in lines)
    data = summary("probe", "--pairs", "gender", "--space", space_dir)
    assert data["held_out"] == "leave-one-out" and data["pairs"] == data["held_out_pairs"] == 8
    assert data["in_sample_effect_size"] > data["effect_size"]  # the in-sample figure flatters the direction
    assert data["in_sample_wins"] >= data["wins"]


def test_probe_pairs_strict_fails_on_the_first_missing_word(space_dir):
    result = run("probe", "--pairs", "gender", "--space", space_dir, "--strict")
    # the error names the word, the space it is missing from, and the shipped spaces that hold it (issue 11)
    assert result.exit_code == 1 and "'her' is not in pairs; it is in minilm" in result.stderr


def test_probe_with_an_expression_keeps_its_single_report(space_dir, tmp_path):
    pairs = tmp_path / "p.tsv"
    pairs.write_text("girl\tboy\nshe\the\n")
    data = summary("probe", "--direction", "woman - man", "--report", pairs, "--space", space_dir)
    assert data["held_out"] is None and "in_sample_wins" not in data and data["pairs"] == 2


def test_probe_with_another_report_file_scores_it_along_the_whole_direction(space_dir, tmp_path):
    built, report = tmp_path / "built.tsv", tmp_path / "report.tsv"
    built.write_text("woman\tman\ngirl\tboy\nshe\the\nqueen\tking\n")
    report.write_text("mother\tfather\naunt\tuncle\n")
    data = summary("probe", "--pairs", built, "--report", report, "--space", space_dir)
    assert data["held_out"] is None and data["held_out_pairs"] == 0 and "in_sample_wins" not in data


def test_next_and_generate_report_unknown_words():
    from embedspace.io.mini_model import mini_dir

    if not (mini_dir() / "config.json").is_file():
        pytest.skip("the mini GPT is not in data/mini")
    result = run("next", "the zorblax said unto the qwfp", "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == ("note: 2 words of the prompt are not in the model's vocabulary and read as "
                                     "<unk>: zorblax, qwfp")
    assert all(row["unknown"] == ["zorblax", "qwfp"] for row in json.loads(result.stdout))
    result = run("generate", "the zorblax said", "-n", "3", "--json")
    assert result.exit_code == 0, result.output
    assert "1 word of the prompt is not in the model's vocabulary" in result.stderr
    assert json.loads(result.stdout)[0]["unknown"] == ["zorblax"]
    known = run("generate", "the king said", "-n", "3")
    assert known.exit_code == 0 and known.stderr == ""


def test_params_of_minilm_has_no_w_u_and_says_so():
    result = run("params", "--preset", "minilm")
    assert result.exit_code == 0, result.output
    first, *table = result.stdout.splitlines()
    assert first.endswith("no W_U (an encoder: no LM head)") and "separate" not in first
    assert not any(line.startswith("W_U") for line in table)
    groups = {row["group"]: row["parameters"] for row in json.loads(run("params", "--preset", "minilm", "--json").stdout)}
    assert "W_U" not in groups and groups["total"] == sum(v for k, v in groups.items() if k != "total")


@pytest.mark.parametrize("args, head, w_u", [
    (("--preset", "gpt2"), "W_U tied to W_E", 0),
    (("--preset", "gpt2", "--untied"), "W_U separate", 768 * 50257),
])
def test_params_of_a_decoder_names_its_w_u(args, head, w_u):
    result = run("params", *args)
    assert result.exit_code == 0 and result.stdout.splitlines()[0].endswith(head)
    groups = {row["group"]: row["parameters"] for row in json.loads(run("params", *args, "--json").stdout)}
    assert groups["W_U"] == w_u


def test_evaluate_states_the_real_vocabulary_and_the_coverage(space_dir, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text(": family\nman woman king queen\nboy girl he she\nman woman prince princess\n")
    result = run("evaluate", "analogies", questions, "--space", space_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == ("2 of 3 questions covered (66.7%); the other 1 has a word outside "
                                              "the space's 16 keys: skipped")
    assert "300000" not in result.stdout and "300,000" not in result.stdout


def test_help_examples_are_kept_verbatim():
    # click re-wraps a paragraph unless it starts with \b: every example line must come out whole, even at 60 columns
    for name in ("probe", "params", "generate", "train-word2vec", "context", "convert", "plot", "evaluate"):
        command = cli.get_command(None, name)
        result = CliRunner().invoke(cli, [name, "--help"], terminal_width=60)
        printed = {line.strip() for line in result.output.splitlines()}
        examples = [line.strip() for line in command.help.partition("Example:")[2].splitlines() if "embedspace " in line]
        assert examples and all(line in printed for line in examples), result.output
