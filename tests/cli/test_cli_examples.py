"""Every example line in every command's help runs as written, on the shipped data, and exits 0.

Each command's ``Example:`` lines run in order (a later line may use what an earlier one wrote)
through click's CliRunner, in a fresh temporary folder, with ``EMBEDSPACE_CACHE`` in a temporary
folder shared by all commands (the spaces' caches are built once).

Two things the shipped data cannot hold are provided here, and said so in the help text:

- ``corpus.txt``, the user's own text (``# corpus.txt: your text``): a small stand-in corpus;
- a line marked ``# slow: ...`` (minutes as written) runs in a reduced form (:data:`REDUCED`): the same
  command line with one option appended (click keeps the last value) or fewer tour sections.
"""
from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from cli_checks import all_commands
from click.testing import CliRunner

from cli.main import cli
from embedspace.paths import wordlists_dir


def example_lines(path: tuple[str, ...]) -> list[str]:
    """The ``embedspace ...`` lines of a command's ``Example:`` block, as its --help prints them."""
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    block = result.output.partition("Example:")[2].partition("\nOptions:")[0]
    return [line.strip() for line in block.splitlines() if line.strip().startswith("embedspace ")]


SENSES = ("she sat on the bank of the river .", "he put his money in the bank .",
          "the light was bright .", "this box is light to carry .",
          "flowers open in the spring .", "the spring in the clock broke .")  # words the corpus examples follow


def stand_in_corpus() -> str:
    """A small corpus of plain sentences: each demo analogy as a sentence and a few two-sense sentences,
    200 times in a fixed shuffled order."""
    import random

    lines = (wordlists_dir() / "demo_analogies.txt").read_text(encoding="utf-8").splitlines()
    sentences = [f"the {a} is to the {b} as the {c} is to the {d} ." for a, b, c, d in
                 (line.split() for line in lines if line.strip() and not line.startswith(":"))]
    sentences = (sentences + list(SENSES)) * 200
    random.Random(0).shuffle(sentences)
    return "\n".join(sentences) + "\n"


def fewer_training_steps(monkeypatch, args: list[str]) -> list[str]:
    """train-mini: two steps, checkpointed; a resumed run (which keeps its own settings) extends it to four."""
    return ["--steps", "4"] if "--resume" in args else ["--steps", "2", "--checkpoint-every", "1"]


def fewer_tour_sections(monkeypatch, args: list[str]) -> list[str]:
    """The tour with its quickest section only (the tour's own test checks the full run's parts)."""
    import embedspace.tour.run

    quick = tuple(s for s in embedspace.tour.run.SECTIONS if s.title == "Parameter count")
    assert quick, "the tour has no 'Parameter count' section any more: choose another quick one"
    monkeypatch.setattr(embedspace.tour.run, "SECTIONS", quick)
    return []


# command -> what a "# slow" line of its examples gets: options appended, or a function(monkeypatch, args) -> options
REDUCED = {
    ("explore",): ["--limit", "200"],
    ("train-mini",): fewer_training_steps,
    ("distill",): ["--per-word", "2", "--vocab", "20"],
    ("tour",): fewer_tour_sections,
}
INPUTS = {"corpus.txt": stand_in_corpus}  # files the help text says are the user's own

COMMANDS = [path for path in all_commands(cli) if example_lines(path)]


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module", autouse=True)
def minilm_installed():
    from transformer.minilm_files import ModelNotFound, find_minilm_dir

    try:
        find_minilm_dir()
    except ModelNotFound:
        pytest.skip("all-MiniLM-L6-v2 is not installed (the examples use it)")


def test_every_command_with_help_has_examples_here():
    assert len(COMMANDS) == len(all_commands(cli)), "a command's Example: block has no embedspace line"


@pytest.mark.minilm
@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "embedspace")
def test_every_example_runs_as_written(path, tmp_path, cache_root, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(cache_root))
    monkeypatch.chdir(tmp_path)
    for line in example_lines(path):
        args = shlex.split(line, comments=True)[1:]
        for name, make in INPUTS.items():
            if name in args and not Path(name).exists():
                Path(name).write_text(make(), encoding="utf-8")
        if "# slow" in line:
            assert path in REDUCED, f"{line!r} is marked slow but the test knows no reduced form of it"
            reduced = REDUCED[path]
            args += reduced(monkeypatch, args) if callable(reduced) else reduced
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, f"{line}\n{result.output}\n{result.exception!r}"
