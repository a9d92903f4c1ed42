"""The chapter's demos on the real shipped spaces, and docs/demos.md's commands run again against their output.

These use the real cache (``minilm``'s candidate matrix is built there once, then memory-mapped), not a
temporary one. The MiniLM ones take the ``minilm`` fixture, which skips them, saying so, where the model
is not installed.
"""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
DEMOS = ROOT / "docs" / "demos.md"
GERMAN_FOODS = [line.split("\t")[0] for line in (ROOT / "data" / "wordlists" / "foods.tsv").read_text().splitlines()
                if line.endswith("\tgermany")]


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def keys(*args: str) -> list[str]:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return [row.get("key", row.get("neighbor")) for row in json.loads(result.stdout)]


# -- the demos, asserted --------------------------------------------------------------------------------------
@pytest.mark.minilm
def test_minilm_answers_every_demo_typed_as_a_viewer_types_it(minilm):  # the fixture skips without MiniLM
    assert keys("neighbors", "tower", "--space", "minilm", "--topn", "2") == ["towers", "skyscraper"]
    for method in ("add", "mul"):
        assert keys("analogy", "King", "Man", "Woman", "--space", "minilm", "--method", method)[0] == "queen"
    assert keys("calc", "uncle - man + woman", "--space", "minilm")[0] == "aunt"
    assert keys("calc", "brother - man + woman", "--space", "minilm")[0] == "sister"
    assert keys("calc", "Italy - Germany + Hitler", "--space", "minilm")[0] == "mussolini"
    top = keys("calc", "Germany - Japan + sushi", "--space", "minilm", "--no-inflections", "--topn", "5")
    assert set(top) & set(GERMAN_FOODS) and not {"german", "germans", "germanic"} & set(top)
    probe = run("probe", "--direction", "cats - cat", "one", "two", "three", "four", "--space", "minilm", "--json")
    scores = [row["score"] for row in json.loads(probe.stdout) if row["section"] == "words"]
    assert len(scores) == 4 and scores == sorted(scores)


def test_word2vec_answers_what_it_holds_and_names_the_space_for_the_rest():
    assert "towers" in keys("neighbors", "tower", "--space", "word2vec", "--topn", "5")
    assert keys("calc", "King - Man + Woman", "--space", "word2vec")[0] == "queen"
    assert keys("calc", "uncle - man + woman", "--space", "word2vec")[0] == "aunt"
    sushi = run("calc", "Germany - Japan + sushi", "--space", "word2vec")
    assert sushi.exit_code == 1 and "Error: 'sushi' is not in word2vec; it is in minilm" in sushi.stderr


def test_mini_post_processed_by_default_answers_its_demos():
    tower = run("neighbors", "tower", "--space", "mini", "--topn", "5", "--json")
    assert "all-but-the-top" in tower.stderr
    assert "castle" in [row["neighbor"] for row in json.loads(tower.stdout)]
    assert keys("calc", "king - man + woman", "--space", "mini")[0] == "queen"
    assert keys("calc", "Brother - Man + Woman", "--space", "mini")[0] == "sister"
    hitler = run("calc", "Italy - Germany + Hitler", "--space", "mini")
    assert hitler.exit_code == 1 and "Error: 'Hitler' is not in mini; it is in" in hitler.stderr


def test_the_raw_mini_plurality_order_is_its_frequency_direction():
    from scipy import stats

    from embedspace.analysis.probes import direction_from_expression, order_report, score_all
    from embedspace.catalog import load_space

    raw, cleaned = load_space("mini", remove_top=0), load_space("mini")
    rank = np.arange(8000)
    for space, expected_rho, ordered in ((raw, 0.9, True), (cleaned, None, False)):
        direction = direction_from_expression(space, "cats - cat")
        rho = stats.spearmanr(rank, score_all(space, direction, restrict_vocab=8000))[0]
        assert (rho > expected_rho) if expected_rho else abs(rho) < 0.2
        assert order_report(space, direction, ["one", "two", "three", "four"]).increasing is ordered


# -- docs/demos.md, run again ---------------------------------------------------------------------------------
def doc_blocks() -> list[tuple[str, list[str]]]:
    """Each ``$ embedspace ...`` block of docs/demos.md: the command and the lines printed."""
    return [(m.group(1), m.group(2).splitlines()) for m in re.finditer(r"```\n\$ (embedspace .*?)\n(.*?)```",
                                                                       DEMOS.read_text(), re.DOTALL)]


def table_rows(lines: list[str]) -> list[list[str]]:
    """The rows of every table in ``lines`` (the lines after a ``----  ----`` rule, up to a blank line)."""
    rows, inside = [], False
    for line in lines:
        if re.fullmatch(r"-+(\s+-+)*", line.strip()):
            inside = True
        elif not line.strip() or ":" in line:
            inside = False
        elif inside:
            rows.append(line.split())
    return rows


def same_row(found: list[str], documented: list[str]) -> bool:
    """Fields equal, numbers within 1e-3."""
    if len(found) != len(documented):
        return False
    for a, b in zip(found, documented):
        try:
            if abs(float(a) - float(b)) > 1e-3:
                return False
        except ValueError:
            if a != b:
                return False
    return True


@pytest.mark.minilm
@pytest.mark.parametrize("command, documented", doc_blocks(), ids=[c for c, _ in doc_blocks()])
def test_every_command_of_the_demos_page_prints_what_it_shows(minilm, command, documented):
    result = run(*shlex.split(command)[1:])
    printed = (result.stderr + result.stdout).splitlines()
    for line in documented:
        if line.startswith(("Error:", "note:", "using space")):
            assert line in printed, f"{command}: {line!r} not printed"
    found, shown = table_rows(printed), table_rows(documented)
    assert len(found) == len(shown) and all(map(same_row, found, shown)), (command, found, shown)
    assert result.exit_code == (1 if any(line.startswith("Error:") for line in documented) else 0)
