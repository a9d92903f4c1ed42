"""The report as Markdown and as one HTML page (the figures are PNG files beside them).

Both add a closing note (every figure and the time each section took); HTML escapes every text
and turns a cell's ``**word**`` into bold, as Markdown does.
"""
from __future__ import annotations

import html

import numpy as np

from embedspace.tour.report import Figure, Note, Section, Table, TourReport

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
.status { color: #a33; }
"""


def cell(value) -> str:
    """A table cell as text (floats with 3 decimals).

    Examples
    --------
    >>> cell(0.5), cell(float("nan")), cell(3)
    ('0.500', 'n/a', '3')
    """
    if isinstance(value, float):
        return "n/a" if np.isnan(value) else f"{value:.3f}"
    return str(value)


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
    """One block as Markdown."""
    if isinstance(block, Note):
        return block.text
    if isinstance(block, Figure):
        return f"![{block.caption}]({block.file})\n\n*{block.caption}*"
    lines = [f"**{block.caption}**\n"] if block.caption else []
    lines.append("| " + " | ".join(block.headers) + " |")
    lines.append("|" + "---|" * len(block.headers))
    lines += ["| " + " | ".join(cell(v).replace("|", "\\|") for v in row) + " |" for row in block.rows]
    return "\n".join(lines)


def to_markdown(report: TourReport) -> str:
    """The whole report as Markdown."""
    parts = ["# The embedspace tour", INTRO]
    for section in with_closing(report):
        parts.append(f"## {section.title}")
        if section.intro:
            parts.append(section.intro)
        parts += [markdown_block(b) for b in section.blocks]
    return "\n\n".join(parts) + "\n"


# -- HTML ----------------------------------------------------------------------------------------------

def bold_html(text: str) -> str:
    """Escape ``text``, turning ``**word**`` into <b>word</b>.

    Examples
    --------
    >>> bold_html("**queen** & <king>")
    '<b>queen</b> &amp; &lt;king&gt;'
    """
    pieces = html.escape(text).split("**")
    return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(pieces))


def html_block(block: Table | Figure | Note) -> str:
    """One block as HTML."""
    if isinstance(block, Note):
        return f"<p>{bold_html(block.text)}</p>"
    if isinstance(block, Figure):
        caption = html.escape(block.caption)
        return f'<figure><img src="{html.escape(block.file)}" alt="{caption}"><figcaption>{caption}</figcaption></figure>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in block.headers)
    body = "".join("<tr>" + "".join(f"<td>{bold_html(cell(v))}</td>" for v in row) + "</tr>" for row in block.rows)
    caption = f"<caption>{html.escape(block.caption)}</caption>" if block.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def contents(sections: list[Section]) -> str:
    """The page's list of sections, each linked, with the status of those not ``ok``."""
    items = "".join(f'<li><a href="#s{i}">{html.escape(s.title)}</a>'
                    + (f' <span class="status">({html.escape(s.status)})</span>' if s.status != "ok" else "")
                    + "</li>" for i, s in enumerate(sections, start=1))
    return f"<nav><ol>{items}</ol></nav>"


def to_html(report: TourReport) -> str:
    """The whole report as one HTML page (the figures are PNG files beside it)."""
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
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(report: TourReport) -> None:
    """Write report.md and report.html into the report's folder."""
    report.markdown.write_text(to_markdown(report), encoding="utf-8")
    report.html.write_text(to_html(report), encoding="utf-8")
