"""The tour: the classic demonstrations on the shipped spaces, side by side, as one report.

:func:`run_tour` runs every section in :data:`SECTIONS` in turn on word2vec (trained here),
MiniLM's W_E and our mini GPT's W_E (each only where available), writes the figures as PNG files,
``report.md`` and a self-contained ``report.html`` into one folder, and returns a
:class:`~embedspace.tour.report.TourReport`.

The package is split by what changes together: the report model (:mod:`embedspace.tour.report`),
what the sections share (:mod:`embedspace.tour.inputs`: the output folder and a
:class:`~embedspace.session.Session`), the sections themselves (:mod:`embedspace.tour.static_sections`,
:mod:`embedspace.tour.picture_sections`, :mod:`embedspace.tour.model_sections`) and their figures
(:mod:`embedspace.tour.figures`), the
rendering (:mod:`embedspace.tour.render`), and here the section list and the runner.

A section whose input is missing (a space, a model, a word list) says so in the report; a missing
word is named in its table cell. Loaded spaces and encoders live in the Session the caller passes
(or one the tour opens and closes itself): nothing is cached globally.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from embedspace.session import Session
from embedspace.tour.inputs import MISSING, Tour
from embedspace.tour.model_sections import (
    section_attention,
    section_context,
    section_parameters,
    section_senses,
    section_temperature,
)
from embedspace.tour.picture_sections import (
    section_analogy_figure,
    section_gender,
    section_named_axes,
    section_pca,
    section_plurality,
)
from embedspace.tour.render import write_report
from embedspace.tour.report import Note, Section, TourReport
from embedspace.tour.static_sections import section_analogies, section_neighbours, section_spaces

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # progress(i, n, title) before section i of n, then (n, n, "done")


@dataclass(frozen=True)
class SectionSpec:
    """A section's title, what the reader should look at, and the function that builds it.

    ``build(tour, section) -> summary`` asks the library, formats the answers as tables, figures
    and notes in ``section``, and returns one line for the terminal. When an input is absent it
    raises :class:`~embedspace.tour.inputs.Unavailable` (or lets a missing file's error through).
    """

    title: str
    intro: str
    build: Callable[[Tour, Section], str]


SECTIONS = (
    SectionSpec("Spaces", "The three shipped spaces: word2vec trained here on offline text, the rows of "
                "all-MiniLM-L6-v2's token embedding matrix W_E (whole words only), and the W_E of the small "
                "GPT trained here. Every later section asks the same question of each one.", section_spaces),
    SectionSpec("Neighbours", "The nearest words by cosine similarity. Look at how each space's training shapes "
                "them: word2vec learns from which words occur near each other in its corpus; a transformer's "
                "W_E row only has to be a useful starting point for the layers above it.", section_neighbours),
    SectionSpec("Analogies", "Vector arithmetic: take king, subtract man, add woman, and look for the nearest "
                "word. The classic demos expect queen, and the same move for the family relations. Italy - Germany "
                "+ Hitler asks for Germany's relation to Hitler applied to Italy; Germany - Japan + sushi asks for "
                "Germany's sushi. Compare the spaces: a corpus of Shakespeare, the Bible and dictionaries knows "
                "little of Hitler or sushi.", section_analogies),
    SectionSpec("The analogy as a picture", "king − man + woman drawn in the plane that contains man, woman and "
                "king: the arrow man → woman copied onto king lands exactly on the star king − man + woman. The "
                "question is where queen is: how far from the star, and how much of that distance lies off the "
                "plane. Queen can be the nearest word by cosine and still be far from the star.",
                section_analogy_figure),
    SectionSpec("The plurality direction", "Subtract cat from cats and you have a direction that, the classic "
                "demos claim, means 'more than one'. Score other words by their dot product with it: each plural "
                "should beat its singular, and the number words should rise in order, one < two < three < four.",
                section_plurality),
    SectionSpec("The gender direction", "The same idea with many pairs: the mean of woman − man, she − he, "
                "actress − actor ... is a gender direction. It is tested on family words it was not built from: "
                "mother should score above father, aunt above uncle.", section_gender),
    SectionSpec("Three dimensions of family", "Male and female family words in 3D, with one axis named: x is the "
                "mean difference female − male of the pairs, y and z the two main directions of what is left. If "
                "the space has one gender offset, every arrow from a male word to its partner points along x; the "
                "table says how closely each pair follows it in the space itself.", section_pca),
    SectionSpec("Named axes", "Instead of letting PCA choose the axes, name them: x is italy − germany, "
                "y is hitler − germany. Countries should spread along x by how Italy-like they are, and leaders "
                "rise along y; if the space encodes 'leader of', each leader sits above its country.",
                section_named_axes),
    SectionSpec("A word in context", "A transformer starts every occurrence of 'model' from the same row of W_E; "
                "each block then mixes in the rest of the sentence. Look at the curves: the two machine-learning "
                "sentences should stay closer to each other than either does to the fashion sentence, and every "
                "occurrence drifts away from the static row as the layers add context.", section_context),
    SectionSpec("Sense separation", "The same test on the bundled sentence set: many ambiguous words, each in "
                "two sentences of one sense and two of another. How often, at each layer, is a word closer to "
                "itself in a same-sense sentence than in a different-sense one?", section_senses),
    SectionSpec("Attention", "Attention decides how much each token reads from every other token. Each panel is "
                "one head's pattern (rows attend to columns, each row sums to 1); in each block we show the head "
                "where 'blue' looks most at 'car', the word it describes.", section_attention),
    SectionSpec("Temperature", "A language model ends with logits, one score per word of its vocabulary; "
                "softmax(logits / T) turns them into next-word probabilities. Below 1 the temperature T sharpens "
                "the distribution towards the favourite, above 1 it flattens it towards the long tail. The mini "
                "GPT trained here continues a King James Bible phrase.", section_temperature),
    SectionSpec("Parameter count", "Where a large language model's parameters live. The embedding matrix is a "
                "lookup table with one row per token; almost everything else is attention and MLP weights, "
                "repeated in every block.", section_parameters),
)


def run_section(tour: Tour, spec: SectionSpec) -> Section:
    """Run one section; a missing input or an unexpected error is recorded, never raised."""
    section = Section(spec.title, spec.intro)
    start = time.perf_counter()
    try:
        section.summary = spec.build(tour, section)
    except MISSING as error:
        section.status = "not available"
        section.summary = f"not available: {error}"
        section.add(Note(f"Not available: {error}"))
    except Exception as error:  # a bug in one section must not lose the rest of the report
        log.exception("tour section %r failed", spec.title)
        section.status = "error"
        section.summary = f"failed: {type(error).__name__}: {error}"
        section.add(Note(f"This section failed: {type(error).__name__}: {error}"))
    section.seconds = time.perf_counter() - start
    log.info("tour section %r: %.2f s (%s)", spec.title, section.seconds, section.status)
    return section


def run_tour(out_dir: str | Path, progress: Progress | None = None, session: Session | None = None) -> TourReport:
    """Run every demonstration and write the report into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Created if needed; receives ``report.md``, ``report.html`` and the PNG figures.
    progress : callable, optional
        Called as ``progress(i, n, title)`` before section ``i`` of ``n`` (1-based), and as
        ``progress(n, n, "done")`` at the end.
    session : Session, optional
        Where the spaces and encoders are loaded (and kept, for the caller to reuse). Without one
        the tour opens its own and closes it at the end.

    Returns
    -------
    TourReport
        The sections (status, time, one-line summary) and where the files are.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    own = session is None
    tour = Tour(out_dir, Session() if own else session)
    try:
        report = run_sections(tour, SECTIONS, progress)
    finally:
        if own:
            tour.session.close()
    write_report(report)
    if progress:
        progress(len(SECTIONS), len(SECTIONS), "done")
    return report


def run_sections(tour: Tour, specs: tuple[SectionSpec, ...], progress: Progress | None) -> TourReport:
    """Every section of ``specs`` in turn, timed, with ``progress`` before each."""
    start = time.perf_counter()
    sections = []
    for i, spec in enumerate(specs, start=1):
        if progress:
            progress(i, len(specs), spec.title)
        sections.append(run_section(tour, spec))
    return TourReport(tour.out_dir, sections, time.perf_counter() - start)
