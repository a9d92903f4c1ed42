"""The report model: a tour is a list of sections, each a list of tables, figures and notes.

Nothing here draws, computes or writes files: the sections (:mod:`embedspace.tour.static_sections`,
:mod:`embedspace.tour.model_sections`) fill these objects, :mod:`embedspace.tour.render` turns them
into Markdown and HTML.

Markup and data are kept apart: every string in a cell, a note or a caption is text, written as
it is (the renderers escape it), and emphasis is a flag on a :class:`Run` of a :class:`Text`,
never ``**`` inside a string. So a word such as ``**bold**`` or ``<script>`` from a space stays a word.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Run:
    """A piece of text, shown as it is (the renderers escape it); ``strong`` shows it in bold."""

    text: str
    strong: bool = False


@dataclass(frozen=True)
class Text:
    """Text made of runs: what a cell or a note says, with its emphasis kept apart from its characters.

    Examples
    --------
    >>> cell = Text((Run("queen", strong=True), Run(" (0.71)"))) + "; #1"
    >>> cell.plain, [r.strong for r in cell.runs]
    ('queen (0.71); #1', [True, False, False])
    """

    runs: tuple[Run, ...]

    def __add__(self, other: str | Text) -> Text:
        return Text(self.runs + (other.runs if isinstance(other, Text) else (Run(str(other)),)))

    def __radd__(self, other: str) -> Text:
        return Text((Run(str(other)),) + self.runs)

    @property
    def plain(self) -> str:
        """The characters, without emphasis."""
        return "".join(run.text for run in self.runs)

    def __str__(self) -> str:
        return self.plain


Cell = str | int | float | Text  # a table cell: text shown as it is; floats with 3 decimals


@dataclass
class Table:
    """A table: ``rows`` of cells (str, int, float or :class:`Text`; floats are shown with 3 decimals)."""

    headers: list[str]
    rows: list[list[Cell]]
    caption: str = ""


@dataclass
class Figure:
    """A PNG in the report's folder, and optionally interactive views of the same content for report.html.

    ``views`` are :mod:`embedspace.viz.interactive` views (each with an id unique in the report);
    report.md shows the PNG alone.
    """

    file: str
    caption: str
    views: list = field(default_factory=list)


@dataclass
class Note:
    """A short paragraph: a finding, or why something is missing."""

    text: str | Text


@dataclass
class Section:
    """One demonstration: what to look at (``intro``), then tables, figures and notes."""

    title: str
    intro: str
    blocks: list[Table | Figure | Note] = field(default_factory=list)
    status: str = "ok"  # "ok", "not available" (an input is absent) or "error" (a bug: see the log)
    summary: str = ""  # one line for the CLI
    seconds: float = 0.0

    def add(self, block: Table | Figure | Note) -> None:
        """Append a block."""
        self.blocks.append(block)

    @property
    def figures(self) -> list[str]:
        """File names of this section's figures."""
        return [b.file for b in self.blocks if isinstance(b, Figure)]


@dataclass
class TourReport:
    """What :func:`embedspace.tour.run.run_tour` wrote: the folder, the sections and the time taken."""

    out_dir: Path
    sections: list[Section]
    seconds: float

    @property
    def markdown(self) -> Path:
        return self.out_dir / "report.md"

    @property
    def html(self) -> Path:
        return self.out_dir / "report.html"

    @property
    def figures(self) -> list[Path]:
        """Every PNG the report shows."""
        return [self.out_dir / name for section in self.sections for name in section.figures]

    @property
    def failed(self) -> list[Section]:
        """Sections that stopped on an unexpected error (not on a missing input)."""
        return [s for s in self.sections if s.status == "error"]

    def summary(self) -> str:
        """A few lines for the terminal: one per section, then the files written."""
        width = max(len(s.title) for s in self.sections)
        lines = [f"{s.title.ljust(width)}  {s.seconds:5.1f} s  {s.summary}" for s in self.sections]
        lines.append(f"{len(self.figures)} figures, {self.seconds:.1f} s in all")
        lines.append(f"report: {self.html}  (and {self.markdown.name})")
        return "\n".join(lines)


# -- what a cell says ---------------------------------------------------------------------------------

def absent(words: Sequence[str]) -> str:
    """A table cell for a query that cannot be asked.

    Examples
    --------
    >>> absent(["hitler", "mussolini"])
    'missing: hitler, mussolini'
    """
    return "missing: " + ", ".join(words)


def scored(pairs: Sequence[tuple[str, float]], mark: str | None = None) -> Text:
    """``word (0.71)`` pairs as one cell; the word ``mark`` is shown in bold.

    Examples
    --------
    >>> cell = scored([("queen", 0.712), ("princess", 0.6)], mark="queen")
    >>> cell.plain, [r.text for r in cell.runs if r.strong]
    ('queen (0.71), princess (0.60)', ['queen'])
    """
    runs = []
    for i, (word, score) in enumerate(pairs):
        runs += [Run(", ")] if i else []
        runs += [Run(word, strong=word == mark), Run(f" ({score:.2f})")]
    return Text(tuple(runs))
