"""The report as Markdown and HTML: text escaped (hostile words stay words), tables, figures, views and the closing note kept."""
from __future__ import annotations

import html

import numpy as np
import pytest

from embedspace.errors import InvalidInput
from embedspace.session import Session
from embedspace.space import Space
from embedspace.tour.inputs import Tour
from embedspace.tour.render import to_html, to_markdown
from embedspace.tour.report import Figure, Note, Run, Section, Table, Text, TourReport


def test_rendering_escapes_html_and_keeps_tables_and_figures(tmp_path):
    bold = Text((Run("queen", strong=True), Run(" (0.71)")))  # bold is a run's flag, not ** in a string (issue 13)
    section = Section("A <b> & c", "intro <x>", [
        Table(["word", "score"], [[bold, 0.5], ["a|b", 1], ["**not bold**", 2]], caption="cap"),
        Figure("f.png", "a figure"),
        Note("note & more"),
    ], summary="s")
    report = TourReport(tmp_path, [section], 2.5)
    page = to_html(report)
    assert "A &lt;b&gt; &amp; c" in page and "intro &lt;x&gt;" in page
    assert "<td><b>queen</b> (0.71)</td>" in page and "<td>0.500</td>" in page
    assert "<td>**not bold**</td>" in page
    assert '<img src="f.png" alt="a figure">' in page and "note &amp; more" in page
    assert '<li><a href="#s1">A &lt;b&gt; &amp; c</a></li>' in page and '<h2 id="s1">' in page
    markdown = to_markdown(report)
    assert "| **queen** (0.71) | 0.500 |" in markdown and "| \\*\\*not bold\\*\\* | 2 |" in markdown
    assert "| a\\|b | 1 |" in markdown and "![a figure](f.png)" in markdown
    # the section's title is text too: escaped in the closing table (it was written raw before issue 13)
    assert "The tour ran in 2.5 s." in markdown and "| A \\<b\\> \\& c | ok | 0.0 | f.png |" in markdown


def test_a_section_that_is_not_ok_is_marked_in_the_contents(tmp_path):
    report = TourReport(tmp_path, [Section("Attention", "", status="not available")], 1.0)
    assert '<a href="#s1">Attention</a> <span class="status">(not available)</span>' in to_html(report)


# -- hostile words from a space: shown as words in both reports, never as markup (issue 13, item 11) ----------

HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "**bold**",
           "<b>b</b>", "a|b", "`code`", "&amp;", "http://evil.example", "x_y_", "~~gone~~", "$x$"]
AT_BLOCK_START = ["# heading", "- item", "1. item", "> quote", "+ plus", "===", "<div>"]


class HostileTour(Tour):
    """A Tour whose three spaces are one tiny space of hostile words beside the words the sections ask for."""

    def __init__(self, out_dir):
        super().__init__(out_dir, Session())
        words = HOSTILE + ["tower", "cat", "king", "man", "woman", "queen", "uncle", "aunt"]
        rng = np.random.default_rng(0)
        self.hostile = {name: Space(words, rng.normal(size=(len(words), 6)).astype(np.float32), name=name)
                        for name in ("word2vec", "minilm", "mini")}

    def space(self, name):
        return self.hostile[name]


def commonmark(markdown: str) -> str:
    """report.md as a CommonMark renderer (markdown-it-py, tables on) turns it into HTML."""
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").enable("table").render(markdown)


@pytest.fixture
def hostile_report(tmp_path):
    from embedspace.tour.static_sections import section_analogies, section_neighbours

    tour = HostileTour(tmp_path)
    sections = []
    for build in (section_neighbours, section_analogies):
        sections.append(Section(build.__name__, ""))
        build(tour, sections[-1])
    tour.session.close()
    sections.append(Section("notes", "", [Note(word) for word in HOSTILE + AT_BLOCK_START]))
    return TourReport(tmp_path, sections, 1.0)


def test_hostile_words_are_text_in_report_md(hostile_report):
    markdown = to_markdown(hostile_report)
    cells = " ".join(str(c) for s in hostile_report.sections for b in s.blocks if isinstance(b, Table)
                     for row in b.rows for c in row)
    assert sum(word in cells for word in HOSTILE) >= 6  # the tiny space's answers are hostile words
    rendered = commonmark(markdown)
    for tag in ("<script", "<img", "<b>", "<div", "<ul", "<ol", "<blockquote", "<code", "<a ", "<del", "<em>"):
        assert tag not in rendered, tag
    assert rendered.count("<h1>") == 1 and rendered.count("<h2>") == 4  # the report's own headings only
    assert "<strong>bold</strong>" not in rendered and "<hr" not in rendered
    for word in HOSTILE + AT_BLOCK_START:  # each word shows exactly as it is
        assert f"<p>{html.escape(word, quote=False)}</p>" in rendered, word
    tables = [b for s in hostile_report.sections for b in s.blocks if isinstance(b, Table)]
    closing_rows = len(hostile_report.sections) + 2  # a row per section, the total, the header
    assert rendered.count("<table>") == len(tables) + 1  # no hostile cell broke a table (nor its rows)
    assert rendered.count("<tr>") == sum(len(t.rows) + 1 for t in tables) + closing_rows


def test_hostile_words_are_text_in_report_html(hostile_report):
    page = to_html(hostile_report)
    assert "<script" not in page and "<img" not in page and "<b>b</b>" not in page
    assert "<b>bold</b>" not in page and html.escape("<script>alert(1)</script>") in page
    for word in HOSTILE + AT_BLOCK_START:
        assert f"<p>{html.escape(word)}</p>" in page, word


def test_views_of_a_report_need_distinct_ids(tmp_path):
    from embedspace.viz.interactive import ScatterView

    view = ScatterView(np.eye(3), ["a", "b", "c"], view_id="same")
    report = TourReport(tmp_path, [Section("s", "", [Figure("a.png", "a", [view]), Figure("b.png", "b", [view])])],
                        1.0)
    with pytest.raises(InvalidInput, match="distinct ids"):
        to_html(report)


def test_report_html_shows_each_figure_s_views_after_it_with_the_script_once(tmp_path):
    from embedspace.viz.interactive import ScatterView

    views = [ScatterView(np.eye(3), ["a", "b", "c"], view_id=f"v{i}") for i in range(3)]
    report = TourReport(tmp_path, [Section("s", "", [Figure("a.png", "a", views[:2]), Figure("b.png", "b", views[2:])])],
                        1.0)
    page = to_html(report)
    assert page.count("createREGL=") == 1 and page.count('class="es-view"') == 3
    assert page.index('src="a.png"') < page.index('id="v0"') < page.index('id="v1"') < page.index('src="b.png"')
    assert "es-view" not in to_markdown(report) and "![a](a.png)" in to_markdown(report)
