"""The report as Markdown and as one HTML page (the figures are PNG files beside them).

Both add a closing note (every figure and the time each section took). Every text of the report
is data: both renderers escape it (Markdown: a backslash before each character that could start
markup, URL schemes broken, no line breaks; HTML: :func:`html.escape`), and only the ``strong``
flag of a :class:`~embedspace.tour.report.Run` becomes bold. report.html also shows each figure's
interactive views, with the viewer's script included once for the whole page.
"""
from __future__ import annotations

import html
import re

import numpy as np

from embedspace.errors import InvalidInput
from embedspace.tour.report import Figure, Note, Section, Table, Text, TourReport

INTRO = ("This report shows how meaning lives in three embedding spaces shipped with embedspace, "
         "and how a transformer turns a word's static vector into a contextual one.")

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
caption { text-align: left; font-weight: bold; padding: .3em 0; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
figure { margin: 1em 0; }
img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-style: italic; color: #555; }
.views { margin: .5em 0 1.5em; }
.status { color: #a33; }
"""


def cell(value) -> str | Text:
    """A table cell's value as text (floats with 3 decimals); a :class:`Text` stays as it is.

    Examples
    --------
    >>> cell(0.5), cell(float("nan")), cell(3)
    ('0.500', 'n/a', '3')
    """
    if isinstance(value, Text):
        return value
    if isinstance(value, float):
        return "n/a" if np.isnan(value) else f"{value:.3f}"
    return str(value)


# -- escaping ------------------------------------------------------------------------------------------

MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&$!])")  # could start emphasis, code, a link, HTML, an entity, math
URL_SCHEME = re.compile(r"(?i)\b(https?|ftp|mailto|xmpp|javascript|vbscript|data|file)(:)")
BLOCK_START = re.compile(r"^(\s*)([#+=-]|\d+[.)])")  # a heading, a list item or a setext line at a block's start
LINE_BREAK = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def escape_markdown(text: str, block_start: bool = False) -> str:
    r"""``text`` as Markdown that shows exactly these characters and makes no markup, link or HTML.

    A backslash goes before every character that could start markup (CommonMark lets any ASCII
    punctuation be escaped this way), the colon of a URL scheme and the dot of ``www.`` (so no
    autolink forms), and line breaks become spaces; at a block's start, ``#``, ``-``, ``+``, ``=``
    and ``1.`` are escaped too.

    Examples
    --------
    >>> print(escape_markdown("[x](javascript:alert(1)) <script>*a*|b"))
    \[x\](javascript\:alert(1)) \<script\>\*a\*\|b
    >>> print(escape_markdown("# not a heading", block_start=True), escape_markdown("1. two", block_start=True))
    \# not a heading 1\. two
    """
    text = LINE_BREAK.sub(" ", text)
    text = MARKDOWN_SPECIAL.sub(r"\\\1", text)
    text = URL_SCHEME.sub(r"\1\\\2", re.sub(r"(?i)\bwww\.", lambda m: m.group()[:-1] + "\\.", text))
    if block_start:
        text = BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2) if not m.group(2)[0].isdigit()
                               else m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], text)
    return text


def markdown_text(value: str | Text, block_start: bool = False) -> str:
    """A text (or a :class:`Text`'s runs, the strong ones in ``**``) as escaped Markdown."""
    if not isinstance(value, Text):
        return escape_markdown(str(value), block_start)
    parts = []
    for i, run in enumerate(value.runs):
        escaped = escape_markdown(run.text, block_start and i == 0)
        parts.append(f"**{escaped}**" if run.strong and escaped.strip() else escaped)
    return "".join(parts)


def html_text(value: str | Text) -> str:
    """A text (or a :class:`Text`'s runs, the strong ones in ``<b>``) as escaped HTML.

    Examples
    --------
    >>> from embedspace.tour.report import Run
    >>> html_text(Text((Run("queen", strong=True), Run(" & <king>"))))
    '<b>queen</b> &amp; &lt;king&gt;'
    >>> html_text("**not bold**")
    '**not bold**'
    """
    if not isinstance(value, Text):
        return html.escape(str(value))
    return "".join(f"<b>{html.escape(r.text)}</b>" if r.strong else html.escape(r.text) for r in value.runs)


def closing(report: TourReport) -> list[Table | Note]:
    """The closing note: every figure and the time each section took."""
    rows = [[s.title, s.status, f"{s.seconds:.1f}", ", ".join(s.figures)] for s in report.sections]
    rows.append(["total", "", f"{report.seconds:.1f}", f"{len(report.figures)} figures"])
    return [Note(f"The tour ran in {report.seconds:.1f} s."), Table(["section", "status", "seconds", "figures"], rows)]


def with_closing(report: TourReport) -> list[Section]:
    """The report's sections, then the closing note as one more."""
    return [*report.sections, Section("Closing note", "", closing(report))]


# -- Markdown ------------------------------------------------------------------------------------------

def markdown_block(block: Table | Figure | Note) -> str:
    """One block as Markdown (a figure as its PNG: the interactive views are for the HTML page)."""
    if isinstance(block, Note):
        return markdown_text(block.text, block_start=True)
    if isinstance(block, Figure):
        caption = markdown_text(block.caption)
        return f"![{caption}]({block.file})\n\n*{caption}*"
    lines = [f"**{markdown_text(block.caption)}**\n"] if block.caption else []
    lines.append("| " + " | ".join(markdown_text(h) for h in block.headers) + " |")
    lines.append("|" + "---|" * len(block.headers))
    lines += ["| " + " | ".join(markdown_text(cell(v)) for v in row) + " |" for row in block.rows]
    return "\n".join(lines)


def to_markdown(report: TourReport) -> str:
    """The whole report as Markdown."""
    parts = ["# The embedspace tour", INTRO]
    for section in with_closing(report):
        parts.append(f"## {markdown_text(section.title)}")
        if section.intro:
            parts.append(section.intro)
        parts += [markdown_block(b) for b in section.blocks]
    return "\n\n".join(parts) + "\n"


# -- HTML ----------------------------------------------------------------------------------------------

def html_block(block: Table | Figure | Note) -> str:
    """One block as HTML; a figure's interactive views follow its picture."""
    from embedspace.viz.interactive import view_fragment

    if isinstance(block, Note):
        return f"<p>{html_text(block.text)}</p>"
    if isinstance(block, Figure):
        caption = html_text(block.caption)
        views = "".join(view_fragment(view) for view in block.views)
        return (f'<figure><img src="{html.escape(block.file)}" alt="{html.escape(str(block.caption))}">'
                f"<figcaption>{caption}</figcaption></figure>" + (f'<div class="views">{views}</div>' if views else ""))
    head = "".join(f"<th>{html_text(h)}</th>" for h in block.headers)
    body = "".join("<tr>" + "".join(f"<td>{html_text(cell(v))}</td>" for v in row) + "</tr>" for row in block.rows)
    caption = f"<caption>{html_text(block.caption)}</caption>" if block.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def contents(sections: list[Section]) -> str:
    """The page's list of sections, each linked, with the status of those not ``ok``."""
    items = "".join(f'<li><a href="#s{i}">{html.escape(s.title)}</a>'
                    + (f' <span class="status">({html.escape(s.status)})</span>' if s.status != "ok" else "")
                    + "</li>" for i, s in enumerate(sections, start=1))
    return f"<nav><ol>{items}</ol></nav>"


def report_views(report: TourReport) -> list:
    """Every interactive view of the report's figures; their ids must be distinct (InvalidInput otherwise)."""
    views = [view for section in report.sections for block in section.blocks if isinstance(block, Figure)
             for view in block.views]
    ids = [view.view_id for view in views]
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"the report's views need distinct ids, got {sorted(ids)}")
    return views


def to_html(report: TourReport) -> str:
    """The whole report as one HTML page (the figures are PNG files beside it; the viewer's script once)."""
    from embedspace.viz.interactive import page_script

    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>The embedspace tour</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>The embedspace tour</h1>", f"<p>{html.escape(INTRO)}</p>"]
    sections = with_closing(report)
    parts.append(contents(sections))
    for i, section in enumerate(sections, start=1):
        parts.append(f'<h2 id="s{i}">{html.escape(section.title)}</h2>')
        if section.intro:
            parts.append(f"<p>{html.escape(section.intro)}</p>")
        parts += [html_block(b) for b in section.blocks]
    if report_views(report):
        parts.append(page_script())  # once for the page: every view's fragment comes alive on load
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(report: TourReport) -> None:
    """Write report.md and report.html into the report's folder."""
    report.markdown.write_text(to_markdown(report), encoding="utf-8")
    report.html.write_text(to_html(report), encoding="utf-8")
