"""explore, and --out FILE.html on plot, plot-analogy, plot-probe and context --plot, through CliRunner."""
import base64
import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import cli
from embedspace.io.export import write_coordinates_csv
from embedspace.io.saving import save_space
from embedspace.space import Space

WORDS = ["king", "queen", "man", "woman", "prince", "princess", "cat", "cats", "dog", "dogs"]


@pytest.fixture(scope="module")
def space_dir(tmp_path_factory):
    """A small space folder: the words above plus filler, random vectors."""
    rng = np.random.default_rng(8)
    keys = WORDS + [f"filler{i}" for i in range(40)]
    folder = tmp_path_factory.mktemp("spaces") / "small"
    save_space(Space(keys, rng.normal(size=(len(keys), 16)).astype(np.float32), name="small"), folder)
    return str(folder)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def payload(path) -> dict:
    found = re.search(r'<script type="application/json" class="es-data">(.*?)</script>', path.read_text(), re.DOTALL)
    return json.loads(found.group(1))


def test_plot_html_writes_a_3d_page_with_the_projections_parameters(space_dir, tmp_path):
    out = tmp_path / "royals.html"
    result = run("plot", *WORDS[:6], "--dims", "3", "--space", space_dir, "--out", out)
    assert result.exit_code == 0, result.output
    data, text = payload(out), out.read_text()
    assert data["dims"] == 3 and data["words"] == WORDS[:6] and data["axes"][0].startswith("PC1 (")
    assert "explained variance" in text and "<dt>seed</dt><dd>0</dd>" in text


def test_plot_html_with_named_axes_labels_them_with_their_direction(space_dir, tmp_path):
    out = tmp_path / "axes.html"
    result = run("plot", *WORDS, "--method", "axes", "--axes", "woman - man", "queen - king", "--space", space_dir,
                 "--out", out)
    assert result.exit_code == 0, result.output
    assert payload(out)["axes"] == ["woman - man", "queen - king"]


def test_plot_analogy_and_plot_probe_html(space_dir, tmp_path):
    analogy, probe = tmp_path / "analogy.html", tmp_path / "probe.html"
    assert run("plot-analogy", "king", "man", "woman", "--space", space_dir, "--out", analogy).exit_code == 0
    data = payload(analogy)
    assert len(data["arrows"]) == 3 and data["markers"][0]["label"].startswith("king − man + woman: nearest")
    result = run("plot-probe", "--direction", "cats - cat", *WORDS, "--space", space_dir, "--out", probe)
    assert result.exit_code == 0, result.output
    assert probe.read_text().count('class="es-bar"') == len(WORDS)


def test_explore_stores_every_point_and_the_neighbors_commands_answers(space_dir, tmp_path):
    out = tmp_path / "space.html"
    result = run("explore", space_dir, "--out", out, "--neighbours", "5")
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "50 points" in result.output
    data = payload(out)
    assert data["n"] == 50 and len(data["words"]) == 50
    index = np.frombuffer(base64.b64decode(data["neighbours"]["index"]), "<i4").reshape(50, 5)
    scores = np.frombuffer(base64.b64decode(data["neighbours"]["score"]), "<f4").reshape(50, 5)
    answer = json.loads(run("neighbors", "cats", "--space", space_dir, "--topn", "5", "--json").output)
    row = data["words"].index("cats")
    assert [data["words"][j] for j in index[row]] == [r["neighbor"] for r in answer]
    np.testing.assert_allclose(scores[row], [r["cosine"] for r in answer], atol=1e-5)


def test_explore_with_a_word_list_colours_groups_and_with_limit(space_dir, tmp_path):
    listed = tmp_path / "words.tsv"
    listed.write_text("king\troyal\nqueen\troyal\ncat\tanimal\ndog\tanimal\n")
    out = tmp_path / "groups.html"
    result = run("explore", space_dir, "--words", listed, "--out", out, "--dims", "2", "--neighbours", "3")
    assert result.exit_code == 0, result.output
    data = payload(out)
    assert data["dims"] == 2 and data["words"][:4] == ["king", "queen", "cat", "dog"]
    assert data["groups"]["names"] == ["royal", "animal"]
    limited = tmp_path / "limited.html"
    assert run("explore", space_dir, "--limit", "20", "--out", limited).exit_code == 0
    assert payload(limited)["n"] == 20


def test_explore_shows_given_coordinates_as_they_are(space_dir, tmp_path):
    coords = np.array([[10.0, 20.0, 30.0], [-1.0, 0.5, 2.0], [3.0, 3.0, 3.0]])
    table = write_coordinates_csv(tmp_path / "xyz.csv", ["cat", "dog", "king"], coords, groups=["a", "a", "b"])
    out = tmp_path / "given.html"
    result = run("explore", space_dir, "--coords", table, "--out", out)
    assert result.exit_code == 0, result.output
    data = payload(out)
    np.testing.assert_allclose(np.frombuffer(base64.b64decode(data["coords"]), "<f4").reshape(3, 3), coords)
    assert data["groups"]["names"] == ["a", "b"] and "coordinates given as they are" in out.read_text()


@pytest.mark.parametrize("args, message", [
    (["--out", "x.png"], ".html file"),
    (["--out", "x.html", "--method", "axes"], "--method axes goes with 2 or 3 --axes"),
    (["--out", "x.html", "--method", "pca", "--coords", "COORDS"], "leave out --method"),
])
def test_explore_usage_errors_are_one_line(space_dir, tmp_path, args, message):
    coords = tmp_path / "c.csv"
    coords.write_text("cat,1,2\n")
    result = run("explore", space_dir, *[str(coords) if a == "COORDS" else a for a in args])
    assert result.exit_code == 2 and message in result.output


def test_explore_unknown_word_with_strict_is_a_one_line_error_with_suggestions(space_dir, tmp_path):
    # issue 11: without --strict a missing word is left out (next test); --strict keeps the old failure
    listed = tmp_path / "words.txt"
    listed.write_text("king\nkinng\n")
    result = run("explore", space_dir, "--words", listed, "--out", tmp_path / "x.html", "--strict")
    assert result.exit_code == 1 and "'kinng' is not in the vocabulary" in result.output and "king" in result.output
    assert not (tmp_path / "x.html").exists()


def test_explore_leaves_out_missing_words_with_one_note(space_dir, tmp_path):
    listed = tmp_path / "words.txt"
    listed.write_text("king\troyal\nkinng\troyal\nqueen\troyal\nman\tpeople\nzzz\tpeople\nwoman\tpeople\n")
    result = run("explore", space_dir, "--words", listed, "--out", tmp_path / "x.html")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert notes == ["note: 2 of 6 words left out, not in space 'small': kinng, zzz (--strict fails instead)"]
    assert "(4 points" in result.stdout


def test_context_plot_html_writes_the_drift_chart(tmp_path):
    out = tmp_path / "drift.html"
    result = run("context", "the king is here", "a king was there", "--word", "king", "--model", "mini",
                 "--plot", out)
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert 'data-kind="chart"' in text and "1 vs 2, layer 0:" in text and "the king is here" in text


def test_explore_leaves_out_repeated_words_and_says_so(space_dir, tmp_path):
    listed = tmp_path / "words.tsv"
    listed.write_text("king\troyal\ncat\tanimal\nking\tother\n")
    out = tmp_path / "twice.html"
    result = run("explore", space_dir, "--words", listed, "--out", out, "--neighbours", "2", "--dims", "2")
    assert result.exit_code == 0, result.output
    assert "1 repeated words left out" in result.output
    data = payload(out)
    assert data["n"] == 2 and data["groups"]["names"] == ["royal", "animal"]
