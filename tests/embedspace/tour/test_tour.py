"""The tour runs end to end and writes every file it promises; a missing input is reported, not raised."""
from __future__ import annotations

import re

import pytest

from embedspace.tour.run import (
    SECTIONS,
    Figure,
    Note,
    Section,
    SectionSpec,
    Table,
    Tour,
    TourReport,
    Unavailable,
    run_section,
    run_tour,
    to_html,
    to_markdown,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def minilm_found() -> bool:
    from transformer.minilm_files import ModelNotFound, find_minilm_dir

    try:
        find_minilm_dir()
        return True
    except ModelNotFound:
        return False


@pytest.fixture(scope="module")
def tour_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour")
    calls = []
    report = run_tour(out, progress=lambda i, n, title: calls.append((i, n, title)))
    return report, calls


def test_the_tour_writes_both_reports_and_every_figure_it_names(tour_run):
    report, _ = tour_run
    markdown = report.markdown.read_text(encoding="utf-8")
    page = report.html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    named_md = set(re.findall(r"\]\(([^)]+\.png)\)", markdown))
    named_html = set(re.findall(r'<img src="([^"]+)"', page))
    promised = {path.name for path in report.figures}
    assert named_md == named_html == promised
    for path in report.figures:
        data = path.read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 10_000, path
    assert sorted(p.name for p in report.out_dir.glob("*.png")) == sorted(promised)


def test_no_section_fails_and_each_has_its_intro_and_time(tour_run):
    report, _ = tour_run
    assert [s.title for s in report.sections] == [spec.title for spec in SECTIONS]
    assert not report.failed, [(s.title, s.summary) for s in report.failed]
    markdown = report.markdown.read_text(encoding="utf-8")
    for section in report.sections:
        assert section.status in ("ok", "not available")
        assert f"## {section.title}" in markdown and section.intro in markdown
        assert section.seconds >= 0 and section.summary
    assert "Closing note" in markdown and f"{report.seconds:.1f}" in markdown


def test_progress_is_reported_for_every_section(tour_run):
    _, calls = tour_run
    n = len(SECTIONS)
    assert calls == [(i, n, spec.title) for i, spec in enumerate(SECTIONS, start=1)] + [(n, n, "done")]


def test_the_parameter_tally_shows_gpt3(tour_run):
    report, _ = tour_run
    assert "617,558,016" in report.markdown.read_text(encoding="utf-8")
    assert "617,558,016" in report.summary()


@pytest.mark.minilm
def test_with_minilm_installed_its_sections_run(tour_run):
    if not minilm_found():
        pytest.skip("all-MiniLM-L6-v2 is not installed")
    report, _ = tour_run
    by_title = {s.title: s for s in report.sections}
    for title in ("Neighbours", "Analogies", "A word in context", "Sense separation", "Attention"):
        assert by_title[title].status == "ok", (title, by_title[title].summary)
    assert "attention_car_is_blue.png" in by_title["Attention"].figures
    assert "context_model_drift.png" in by_title["A word in context"].figures


def test_every_available_shipped_space_is_asked(tour_run):
    from embedspace.io.registry import known_spaces

    report, _ = tour_run
    available = [i.name for i in known_spaces() if i.available and i.name in ("word2vec", "minilm", "mini")]
    by_title = {s.title: s for s in report.sections}
    for title in ("Neighbours", "Analogies"):
        table = next(b for b in by_title[title].blocks if isinstance(b, Table))
        assert sorted(h for h in table.headers if h in ("word2vec", "minilm", "mini")) == sorted(available), title
    if "word2vec" in available:
        analogies = next(b for b in by_title["Analogies"].blocks if isinstance(b, Table))
        king = next(row for row in analogies.rows if row[0] == "king - man + woman")
        assert "**queen**" in king[analogies.headers.index("word2vec")]  # queen in word2vec's top 3


# -- sections on their own -------------------------------------------------------------------------------

@pytest.fixture
def tiny_mini(tmp_path, monkeypatch):
    """A random 1-layer word-level GPT in a data folder of its own (it knows 'cat' but not 'tower')."""
    from transformer.checkpoint import save_model
    from transformer.config import TransformerConfig
    from transformer.model import init_params
    from transformer.word_tokenizer import WordTokenizer

    tokenizer = WordTokenizer.build(["and the lord said unto moses . the cat sat with cats and a dog"], 40)
    cfg = TransformerConfig(vocab_size=tokenizer.vocab_size, n_ctx=16, n_embd=8, n_head=2, n_layer=1)
    save_model(tmp_path / "data" / "mini", init_params(cfg, seed=0), cfg)
    tokenizer.save(tmp_path / "data" / "mini" / "vocab.txt")
    monkeypatch.setenv("EMBEDSPACE_DATA", str(tmp_path / "data"))
    return tmp_path / "out"


def run_titled(out_dir, title):
    out_dir.mkdir(exist_ok=True)
    return run_section(Tour(out_dir), next(s for s in SECTIONS if s.title == title))


def test_temperature_section_with_a_mini_model(tiny_mini):
    section = run_titled(tiny_mini, "Temperature")
    assert section.status == "ok", section.summary
    assert section.figures == ["temperatures.png"]
    assert (tiny_mini / "temperatures.png").read_bytes()[:8] == PNG_MAGIC
    table = next(b for b in section.blocks if isinstance(b, Table))
    assert [row[0] for row in table.rows] == ["T = 0.5", "T = 1", "T = 2"]
    assert "<unk>" not in " ".join(row[1] for row in table.rows)


def test_a_word_missing_from_one_space_is_named_in_its_cell(tiny_mini):
    section = run_titled(tiny_mini, "Neighbours")
    assert section.status == "ok", section.summary
    tower = next(b for b in section.blocks if isinstance(b, Table) and "'tower'" in b.caption)
    column = tower.headers.index("mini")
    assert tower.rows[0][column] == "'tower' missing"
    cat = next(b for b in section.blocks if isinstance(b, Table) and "'cat'" in b.caption)
    assert cat.rows[0][cat.headers.index("mini")].endswith(")")  # a neighbour and its cosine


def test_without_a_mini_model_the_temperature_section_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_DATA", str(tmp_path / "empty"))
    section = run_titled(tmp_path, "Temperature")
    assert section.status == "not available"
    assert "mini" in section.summary and not section.figures


def test_a_missing_input_is_reported_not_raised(tmp_path, monkeypatch):
    import embedspace.io.registry

    def no_space(name):
        raise FileNotFoundError(f"no files for {name}")

    monkeypatch.setattr(embedspace.io.registry, "load_space", no_space)
    spec = next(s for s in SECTIONS if s.title == "Neighbours")
    section = run_section(Tour(tmp_path), spec)
    assert section.status == "not available"
    notes = " ".join(b.text for b in section.blocks if isinstance(b, Note))
    assert "no files for word2vec" in notes and "no files for mini" in notes


def test_a_bug_in_one_section_is_recorded_as_an_error(tmp_path):
    def broken(tour, section):
        raise RuntimeError("boom")

    section = run_section(Tour(tmp_path), SectionSpec("Broken", "intro", broken))
    assert section.status == "error" and "RuntimeError: boom" in section.summary


def test_unavailable_in_a_section_body_marks_it_not_available(tmp_path):
    def needs_more(tour, section):
        section.add(Note("partial result"))
        raise Unavailable("the thing is absent")

    section = run_section(Tour(tmp_path), SectionSpec("Partial", "intro", needs_more))
    assert section.status == "not available"
    assert [b.text for b in section.blocks] == ["partial result", "Not available: the thing is absent"]


def test_rendering_escapes_html_and_keeps_tables_and_figures(tmp_path):
    section = Section("A <b> & c", "intro <x>", [
        Table(["word", "score"], [["**queen** (0.71)", 0.5], ["a|b", 1]], caption="cap"),
        Figure("f.png", "a figure"),
        Note("note & more"),
    ], summary="s")
    report = TourReport(tmp_path, [section], 2.5)
    page = to_html(report)
    assert "A &lt;b&gt; &amp; c" in page and "intro &lt;x&gt;" in page
    assert "<td><b>queen</b> (0.71)</td>" in page and "<td>0.500</td>" in page
    assert '<img src="f.png" alt="a figure">' in page and "note &amp; more" in page
    assert '<li><a href="#s1">A &lt;b&gt; &amp; c</a></li>' in page and '<h2 id="s1">' in page
    markdown = to_markdown(report)
    assert "| a\\|b | 1 |" in markdown and "![a figure](f.png)" in markdown
    assert "The tour ran in 2.5 s." in markdown and "| A <b> & c | ok | 0.0 | f.png |" in markdown



def test_typical_cosine_is_the_mean_over_random_distinct_pairs():
    import numpy as np

    from embedspace.space import Space
    from embedspace.tour.run import typical_cosine

    orthogonal = Space([f"w{i}" for i in range(50)], np.eye(50, dtype=np.float32))
    assert typical_cosine(orthogonal) == 0.0
    shared = np.eye(50, dtype=np.float32) + 3.0  # one common component dominates every row
    value = typical_cosine(Space([f"w{i}" for i in range(50)], shared))
    expected = (48 * 9 + 2 * 12) / (49 * 9 + 16)  # rows e_i + 3: (row_i . row_j) / |row|^2
    assert value == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("title", ["The analogy as a picture", "Attention"])
def test_a_figure_section_leaves_the_caller_s_pyplot_figures_alone(tmp_path, title):
    plt = pytest.importorskip("matplotlib.pyplot")
    mine = plt.figure()
    try:
        section = run_titled(tmp_path, title)
        assert section.figures and (tmp_path / section.figures[0]).is_file()
        assert plt.get_fignums() == [mine.number]  # drew nothing on pyplot, closed nothing of ours
    finally:
        plt.close(mine)
