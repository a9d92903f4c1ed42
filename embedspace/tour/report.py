"""The report model: a tour is a list of sections, each a list of tables, figures and notes.

Nothing here draws, computes or writes files: the sections (:mod:`embedspace.tour.static_sections`,
:mod:`embedspace.tour.model_sections`) fill these objects, :mod:`embedspace.tour.render` turns them
into Markdown and HTML.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Table:
    """A table: ``rows`` of cells (str, int or float; floats are shown with 3 decimals)."""

    headers: list[str]
    rows: list[list]
    caption: str = ""


@dataclass
class Figure:
    """A PNG in the report's folder."""

    file: str
    caption: str


@dataclass
class Note:
    """A short paragraph: a finding, or why something is missing."""

    text: str


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


def scored(pairs: Sequence[tuple[str, float]], mark: str | None = None) -> str:
    """``word (0.71)`` pairs as one cell; ``mark`` is shown in bold.

    Examples
    --------
    >>> scored([("queen", 0.712), ("princess", 0.6)], mark="queen")
    '**queen** (0.71), princess (0.60)'
    """
    return ", ".join(f"**{w}** ({s:.2f})" if w == mark else f"{w} ({s:.2f})" for w, s in pairs)
