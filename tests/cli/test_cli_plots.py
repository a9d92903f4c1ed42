"""plot, plot-analogy, plot-probe and export-projector through click's CliRunner."""
import csv

import numpy as np
import pytest
from cli_checks import assert_user_error
from click.testing import CliRunner

from cli.main import cli
from cli.plot_commands import spread_option
from embedspace.io.saving import save_space
from embedspace.space import Space

WORDS = ["king", "queen", "man", "woman", "prince", "princess", "cat", "cats", "dog", "dogs"]


@pytest.fixture(scope="module")
def space_dir(tmp_path_factory):
    """A small space folder: a gender direction and a plural direction planted in random vectors."""
    rng = np.random.default_rng(3)
    dim = 12
    gender, plural = rng.normal(size=dim), rng.normal(size=dim)
    rows = {}
    for male, female in [("king", "queen"), ("man", "woman"), ("prince", "princess")]:
        base = rng.normal(size=dim)
        rows[male], rows[female] = base, base + 2 * gender
    for one in ("cat", "dog"):
        base = rng.normal(size=dim)
        rows[one], rows[one + "s"] = base, base + 2 * plural
    folder = tmp_path_factory.mktemp("spaces") / "tiny"
    save_space(Space(list(rows), np.array(list(rows.values()), dtype=np.float32), name="tiny"), folder)
    return str(folder)


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result


def test_spread_option_takes_every_value_up_to_the_next_option():
    assert spread_option(["a", "--axes", "x - y", "z", "--out", "f"], "--axes") == \
        ["a", "--axes", "x - y", "--axes", "z", "--out", "f"]
    assert spread_option(["--axes", "x - y", "--", "w"], "--axes") == ["--axes", "x - y", "--", "w"]
    assert spread_option(["--axes=x", "w"], "--axes") == ["--axes=x", "w"]


def test_plot_pca_writes_the_picture_and_the_coordinates(space_dir, tmp_path):
    out, table = tmp_path / "pca.png", tmp_path / "pca.csv"
    result = run("plot", *WORDS, "--space", space_dir, "--out", out, "--coords-csv", table)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")
    with table.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["key"] for r in rows] == WORDS and set(rows[0]) == {"key", "x", "y", "group"}


def test_plot_named_axes_with_several_values_after_axes(space_dir, tmp_path):
    table = tmp_path / "axes.csv"
    result = run("plot", *WORDS, "--method", "axes", "--axes", "queen - king", "cats - cat", "--space", space_dir,
                 "--out", tmp_path / "axes.svg", "--coords-csv", table)
    assert result.exit_code == 0, result.output
    with table.open(newline="") as f:
        rows = {r["key"]: r for r in csv.DictReader(f)}
    assert "z" not in rows["king"]
    # the planted directions: female words lie further along the first axis, plurals along the second
    assert float(rows["woman"]["x"]) > float(rows["man"]["x"])
    assert float(rows["dogs"]["y"]) > float(rows["dog"]["y"])


def test_plot_3d_tsne(space_dir, tmp_path):
    table = tmp_path / "tsne.csv"
    result = run("plot", *WORDS, "--method", "tsne", "--dims", "3", "--space", space_dir,
                 "--out", tmp_path / "tsne.pdf", "--coords-csv", table)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "tsne.pdf").read_bytes().startswith(b"%PDF")
    assert table.read_text().splitlines()[0] == "key,x,y,z,group"


@pytest.mark.parametrize("args, message", [
    (["--method", "axes"], "needs 2 or 3 axes"),
    (["--axes", "king", "queen"], "--axes goes with --method axes"),
    (["--method", "axes", "--axes", "king", "queen", "--dims", "3"], "--dims 3 but 2 axes"),
])
def test_plot_usage_errors(space_dir, tmp_path, args, message):
    result = run("plot", "king", "queen", "man", *args, "--space", space_dir, "--out", tmp_path / "x.png")
    assert result.exit_code == 2 and message in result.output


def test_plot_user_errors_are_one_line(space_dir, tmp_path):
    # issue 11: a missing word is left out unless --strict, which keeps the one-line error
    result = run("plot", "king", "qeen", "--space", space_dir, "--out", tmp_path / "x.png", "--strict")
    assert_user_error(result, "'qeen' is not in the vocabulary", "queen")
    assert not list(tmp_path.iterdir())


def test_plot_leaves_out_missing_words_with_one_note(space_dir, tmp_path):
    out, csv = tmp_path / "x.png", tmp_path / "x.csv"
    result = run("plot", "king", "qeen", "queen", "man", "zzz", "woman", "--space", space_dir, "--out", out,
                 "--coords-csv", csv)
    assert result.exit_code == 0, result.output
    note = "note: 2 of 6 words left out, not in space 'tiny': qeen, zzz (--strict fails instead)"
    assert result.stderr.splitlines() == [note]
    assert [line.split(",")[0] for line in csv.read_text().splitlines()[1:]] == ["king", "queen", "man", "woman"]


def test_plot_probe_leaves_out_missing_words_unless_strict(space_dir, tmp_path):
    page = tmp_path / "probe.html"
    result = run("plot-probe", "--direction", "queen - king", "man", "zzz", "woman", "--space", space_dir,
                 "--out", page)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["note: 1 of 3 words left out, not in space 'tiny': zzz (--strict fails instead)"]
    text = page.read_text()
    assert "woman" in text and "zzz" not in text
    strict = run("plot-probe", "--direction", "queen - king", "man", "zzz", "--space", space_dir,
                 "--out", tmp_path / "strict.png", "--strict")
    assert_user_error(strict, "'zzz' is not in the vocabulary")
    assert not (tmp_path / "strict.png").exists()


@pytest.mark.parametrize("args, fragment", [
    pytest.param(["king", "queen", "man", "--out", "x.gif"], ".png, .svg or .pdf"),
    pytest.param(["king", "queen", "--method", "tsne", "--out", "x.png"], "at least 4 words"),
])
def test_plot_refusals_are_one_line(space_dir, tmp_path, args, fragment):
    *words, flag, name = args
    assert_user_error(run("plot", *words, flag, tmp_path / name, "--space", space_dir), fragment)
    assert not list(tmp_path.iterdir())


def test_plot_analogy(space_dir, tmp_path):
    out = tmp_path / "analogy.png"
    result = run("plot-analogy", "king", "man", "woman", "--space", space_dir, "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")
    assert_user_error(run("plot-analogy", "king", "man", "wman", "--space", space_dir, "--out", out),
                      "did you mean: woman")


def test_plot_probe(space_dir, tmp_path):
    out = tmp_path / "probe.svg"
    result = run("plot-probe", "--direction", "cats - cat", *WORDS, "--space", space_dir, "--out", out)
    assert result.exit_code == 0, result.output
    svg = out.read_text()
    assert "cats - cat" in svg and "<svg" in svg
    result = run("plot-probe", "--direction", "queen - king", "--measure", "cosine", *WORDS, "--space", space_dir,
                 "--out", out)
    assert result.exit_code == 0 and "cosine with queen - king" in out.read_text()


def test_plot_probe_pairs_draws_every_pair_and_names_the_missing(space_dir, tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("queen\tking\nwoman\tman\nprincess\tprince\nqueens\tkings\n", encoding="utf-8")
    page = tmp_path / "pairs.html"
    result = CliRunner().invoke(cli, ["plot-probe", "--direction", "queen - king", "--pairs", str(pairs), "--names",
                                      "female", "male", "cat", "--space", space_dir, "--out", str(page)])
    assert result.exit_code == 0, result.output
    assert "left out 1 of 4 pairs (tiny lacks a word): queens/kings" in result.stderr
    html = page.read_text(encoding="utf-8")
    assert html.count('class="es-pair"') == 3 and "built from (1 of 1 wins)" in html and "held out (2 of 2 win)" in html
    assert "queen (female)" in html and "cat: " in html  # the pair's members named, the extra word as a point
    picture = tmp_path / "pairs.png"
    result = run("plot-probe", "--direction", "cats - cat", "--pairs", pairs, "--space", space_dir, "--out", picture)
    assert result.exit_code == 0 and picture.read_bytes().startswith(b"\x89PNG")
    result = run("plot-probe", "--direction", "cats - cat", "--space", space_dir, "--out", picture)
    assert result.exit_code == 2 and "give WORDS to score, or --pairs FILE" in result.stderr  # a usage error


def test_plot_probe_bad_direction_is_one_line(space_dir, tmp_path):
    result = run("plot-probe", "--direction", "cats - - cat", "dog", "--space", space_dir, "--out", tmp_path / "p.svg")
    assert_user_error(result, "cats - - cat")


def test_export_projector(space_dir, tmp_path):
    result = run("export-projector", "--space", space_dir, "--limit", "4", tmp_path / "proj")
    assert result.exit_code == 0, result.output
    vectors = (tmp_path / "proj" / "vectors.tsv").read_text().splitlines()
    assert len(vectors) == 4 and len(vectors[0].split("\t")) == 12
    assert (tmp_path / "proj" / "metadata.tsv").read_text() == "king\nqueen\nman\nwoman\n"
    assert "4 vectors of 12 dimensions" in result.output


def test_export_projector_with_a_word_file(space_dir, tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("cat\tanimal\nqueen\troyal\n\n")
    result = run("export-projector", "--space", space_dir, "--words", words, tmp_path / "proj")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "proj" / "metadata.tsv").read_text() == "word\tgroup\ncat\tanimal\nqueen\troyal\n"
    words.write_text("cat\tanimal\nqueen\n")
    assert_user_error(run("export-projector", "--space", space_dir, "--words", words, tmp_path / "other"),
                      "words.txt: give a group on every line")


@pytest.mark.minilm
def test_plot_on_the_shipped_minilm_space(tmp_path):
    out = tmp_path / "minilm.png"
    result = run("plot", "king", "queen", "man", "woman", "paris", "france", "--space", "minilm", "--out", out)
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 10_000
