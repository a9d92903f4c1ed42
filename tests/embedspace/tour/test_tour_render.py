"""The report as Markdown and HTML: text escaped, tables, figures and the closing note kept."""
from __future__ import annotations

from embedspace.tour.render import to_html, to_markdown
from embedspace.tour.report import Figure, Note, Section, Table, TourReport


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


def test_a_section_that_is_not_ok_is_marked_in_the_contents(tmp_path):
    report = TourReport(tmp_path, [Section("Attention", "", status="not available")], 1.0)
    assert '<a href="#s1">Attention</a> <span class="status">(not available)</span>' in to_html(report)
