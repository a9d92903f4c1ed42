"""The tour: the classic demonstrations on the shipped spaces, side by side, as one report.

:func:`run_tour` runs every section in turn on word2vec (trained here), MiniLM's W_E and our
mini GPT's W_E (each only where available), writes the figures as PNG files, ``report.md`` and
a self-contained ``report.html`` into one folder, and returns a :class:`TourReport`.

Each section is a small function that fills a :class:`Section` with tables, figures and notes.
A section whose input is missing (a space, a model, a word list) says so in the report; a
missing word is named in its table cell. Loaded spaces and encoders are shared by the sections
of one tour and dropped with it (nothing is cached globally).
"""
from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embedspace.errors import EmbedspaceError
from embedspace.paths import wordlists_dir
from embedspace.space import Space

log = logging.getLogger(__name__)

SPACE_NAMES = ("word2vec", "minilm", "mini")  # the shipped spaces, in the order of the tables
ENCODER_NAMES = ("minilm", "mini")


class Unavailable(Exception):
    """A section (or one space in it) cannot run because an input is absent; the message says which."""


# Absent artefacts: a module not installed, a model file not found, a space or a list missing.
MISSING = (ImportError, FileNotFoundError, Unavailable)


# -- the report's building blocks ---------------------------------------------------------------------

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
    """What :func:`run_tour` wrote: the folder, the sections and the time taken."""

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


# -- what the sections share --------------------------------------------------------------------------

class Tour:
    """The state of one tour: the output folder and the spaces and encoders loaded so far."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self._spaces: dict[str, Space | str] = {}  # name -> Space, or why it is unavailable
        self._encoders: dict[str, object] = {}  # name -> Encoder, or why it is unavailable

    def space(self, name: str) -> Space:
        """The shipped space ``name``, loaded once; raises :class:`Unavailable` with the reason."""
        from embedspace.io.registry import load_space

        return load_once(self._spaces, name, load_space, "space")

    def spaces(self, section: Section, names: Sequence[str] = SPACE_NAMES) -> list[Space]:
        """The available spaces among ``names``; one note in ``section`` names the missing ones."""
        found, missing = [], []
        for name in names:
            try:
                found.append(self.space(name))
            except Unavailable as error:
                missing.append((name, str(error)))
        if not found:
            raise Unavailable("; ".join(reason for _, reason in missing))
        if missing:
            section.add(Note(f"Not available here: {', '.join(name for name, _ in missing)} "
                             "(the Spaces section says why)."))
        return found

    def encoder(self, name: str):
        """The encoder ``name`` (``"minilm"`` or ``"mini"``), loaded once; raises :class:`Unavailable`."""
        from embedspace.contextual.encoders import load_encoder

        return load_once(self._encoders, name, load_encoder, "model")

    def save(self, figure, name: str, caption: str) -> Figure:
        """Write a matplotlib figure (or the figure of an axes) as ``name``."""
        from embedspace.viz.plots import save_figure

        save_figure(figure, self.out_dir / name)
        return Figure(name, caption)


def load_once(store: dict, name: str, load: Callable[[str], object], kind: str):
    """``load(name)``, kept in ``store``; a missing input is kept as its reason and raised as :class:`Unavailable`."""
    if name not in store:
        try:
            store[name] = load(name)
        except (*MISSING, EmbedspaceError) as error:
            log.info("%s %s not available: %s", kind, name, error)
            store[name] = f"{type(error).__name__}: {error}"
    found = store[name]
    if isinstance(found, str):
        raise Unavailable(f"{kind} {name!r} is not available ({found})")
    return found


def missing_words(space: Space, words: Sequence[str]) -> list[str]:
    """The words of ``words`` that ``space`` does not have."""
    return [w for w in words if w not in space]


def absent(words: Sequence[str]) -> str:
    """A table cell for a query that cannot be asked."""
    return "missing: " + ", ".join(words)


def scored(pairs: Sequence[tuple[str, float]], mark: str | None = None) -> str:
    """``word (0.71)`` pairs as one cell; ``mark`` is shown in bold."""
    return ", ".join(f"**{w}** ({s:.2f})" if w == mark else f"{w} ({s:.2f})" for w, s in pairs)


# -- sections -----------------------------------------------------------------------------------------

def section_spaces(tour: Tour, section: Section) -> str:
    """Which spaces the tour can use."""
    rows = []
    for name in SPACE_NAMES:
        try:
            space = tour.space(name)
            rows.append([name, "yes", len(space), space.dim, space.origin])
        except Unavailable as error:
            rows.append([name, "no", "", "", str(error)])
    section.add(Table(["space", "available", "words", "dims", "origin"], rows))
    found = [r[0] for r in rows if r[1] == "yes"]
    if not found:
        raise Unavailable("no shipped space is available")
    return "available: " + ", ".join(found)


NEIGHBOUR_WORDS = ("tower", "cat")


def section_neighbours(tour: Tour, section: Section, topn: int = 8) -> str:
    """Nearest words of tower and cat in every space."""
    spaces = tour.spaces(section)
    for word in NEIGHBOUR_WORDS:
        columns = []
        for space in spaces:
            if word in space:
                found = space.similar_by_vector(space[word], topn=topn, exclude=[word])
                columns.append([f"{w} ({s:.2f})" for w, s in found])
            else:
                columns.append([f"'{word}' missing"] + [""] * (topn - 1))
        rows = [[rank + 1] + [c[rank] if rank < len(c) else "" for c in columns] for rank in range(topn)]
        rows.append(["baseline"] + [f"random pairs: {typical_cosine(space):.2f}" for space in spaces])
        section.add(Table(["#"] + [s.name for s in spaces], rows, caption=f"Nearest words of '{word}' (cosine)"))
    section.add(Note("The baseline row is the mean cosine between two words drawn at random from the space's "
                     "10,000 most frequent: a space whose vectors share a large common component has high cosines "
                     "everywhere, and only the ranking of its neighbours means much."))
    return f"neighbours of {', '.join(NEIGHBOUR_WORDS)} in {len(spaces)} spaces"


ANALOGIES = (  # (expression, the answer the classic demos expect)
    ("king - man + woman", "queen"),
    ("uncle - man + woman", "aunt"),
    ("brother - man + woman", "sister"),
    ("nephew - man + woman", "niece"),
    ("father - man + woman", "mother"),
    ("son - man + woman", "daughter"),
    ("italy - germany + hitler", "mussolini"),
    ("germany - japan + sushi", "bratwurst"),
)


def analogy_cell(space: Space, expression: str, expected: str, shown: int = 3, searched: int = 10) -> tuple[str, int]:
    """The top answers to ``expression`` in ``space`` (input words excluded), and the rank of ``expected``.

    The rank is 0 when ``expected`` is not among the first ``searched``; -1 when a word is missing.
    """
    from embedspace.analysis.arithmetic import calc, parse_expression

    lost = missing_words(space, [term.key for term in parse_expression(expression)])
    if lost:
        return absent(lost), -1
    found = calc(space, expression, topn=searched)
    keys = [k for k, _ in found]
    rank = keys.index(expected) + 1 if expected in keys else 0
    text = scored(found[:shown], mark=expected)
    if expected not in space:
        return text + f"; no '{expected}' in this space", -1
    if rank > shown:
        text += f"; {expected} #{rank}"
    elif rank == 0:
        text += f"; {expected} not in top {searched}"
    return text, rank


def section_analogies(tour: Tour, section: Section) -> str:
    """king - man + woman and friends, in every space."""
    spaces = tour.spaces(section)
    rows, ranks = [], {s.name: [] for s in spaces}
    for expression, expected in ANALOGIES:
        row = [expression, expected]
        for space in spaces:
            text, rank = analogy_cell(space, expression, expected)
            row.append(text)
            ranks[space.name].append(rank)
        rows.append(row)
    section.add(Table(["expression", "expected", *ranks], rows,
                      caption="Nearest words to the result (input words excluded); the expected answer in bold"))
    section.add(Note("Input words are left out of the answers, as gensim does; otherwise king - man + woman "
                     "usually returns king itself. 'missing' names words a space does not have."))
    counts = [f"{name} {sum(r == 1 for r in found)}/{sum(r >= 0 for r in found)}" for name, found in ranks.items()]
    return "expected answer first: " + ", ".join(counts)


def panels(count: int, width: float = 6.0, height: float = 5.2, projection: str | None = None):
    """A figure with ``count`` panels side by side, and the list of their axes."""
    from matplotlib.figure import Figure as MatplotlibFigure

    fig = MatplotlibFigure(figsize=(width * count, height))
    return fig, [fig.add_subplot(1, count, i + 1, projection=projection) for i in range(count)]


def usable_spaces(tour: Tour, section: Section, needed: Sequence[str]) -> list[Space]:
    """The spaces that have every word of ``needed``; a note names what the others lack."""
    spaces = []
    for space in tour.spaces(section):
        lost = missing_words(space, needed)
        if lost:
            section.add(Note(f"{space.name}: left out of the figure, it lacks {', '.join(lost)}."))
        else:
            spaces.append(space)
    if not spaces:
        raise Unavailable("no space has all of " + ", ".join(needed))
    return spaces


def section_analogy_figure(tour: Tour, section: Section) -> str:
    """The parallelogram of king - man + woman in each space."""
    from embedspace.viz.plots import plot_analogy

    spaces = usable_spaces(tour, section, ["king", "man", "woman", "queen"])
    fig, axes = panels(len(spaces))
    for space, ax in zip(spaces, axes):
        plot_analogy(space, "king", "man", "woman", expected="queen", ax=ax, title=f"{space.name}: king − man + woman")
    fig.tight_layout()
    section.add(tour.save(fig, "analogy_king_queen.png", "king − man + woman in each space, drawn in the plane "
                          "of the first two principal components of the words involved"))
    return f"parallelogram drawn for {', '.join(s.name for s in spaces)}"


WORDLISTS = wordlists_dir()
NUMBERS = ("one", "two", "three", "four")
PROBE_PAIRS_SHOWN = 5  # singular/plural or male/female pairs drawn in a probe chart


def probe_figure(tour: Tour, charts: list[tuple[str, list[str], np.ndarray, list[str]]], name: str,
                 caption: str, xlabel: str) -> Figure:
    """One probe bar chart per space, side by side: (title, words, scores, groups) each."""
    from embedspace.viz.plots import plot_probe

    tallest = max(len(words) for _, words, _, _ in charts)
    fig, axes = panels(len(charts), width=5.2, height=1.2 + 0.28 * tallest)
    for ax, (title, words, scores, groups) in zip(axes, charts):
        plot_probe(words, scores, groups=groups, ax=ax, title=title, xlabel=xlabel)
    fig.tight_layout()
    return tour.save(fig, name, caption)


def section_plurality(tour: Tour, section: Section) -> str:
    """The direction cats - cat: singular/plural pairs, and one..four."""
    from embedspace.analysis.probes import (
        direction_from_expression,
        order_report,
        pair_report,
        read_pairs,
        score,
    )

    pairs = [p for p in read_pairs(WORDLISTS / "plurals.tsv") if p != ("cats", "cat")]  # cats - cat is the probe
    spaces = usable_spaces(tour, section, ["cats", "cat"])
    rows, charts, summary = [], [], []
    for space in spaces:
        direction = direction_from_expression(space, "cats - cat")
        pairs_found = pair_report(space, direction, pairs)
        numbers = [w for w in NUMBERS if w in space]
        order = order_report(space, direction, numbers) if len(numbers) > 1 else None
        rows.append([space.name, f"{pairs_found.wins}/{len(pairs_found.rows)}"
                     + (f" ({len(pairs_found.missing)} pairs missing)" if pairs_found.missing else ""),
                     pairs_found.mean_gap,
                     pairs_found.effect_size,
                     ", ".join(f"{w} {s:.2f}" for w, s in order.rows) if order else absent(NUMBERS),
                     order.spearman if order else ""])
        shown = pairs_found.rows[:PROBE_PAIRS_SHOWN]
        words = [w for high, low, _, _ in shown for w in (high, low)] + numbers
        groups = ["plural", "singular"] * len(shown) + ["number word"] * len(numbers)
        charts.append((f"{space.name}: along cats − cat", words, score(space, direction, words), groups))
        summary.append(f"{space.name} {pairs_found.wins}/{len(pairs_found.rows)} plurals win"
                       + (f", one..four rho {order.spearman:.2f}" if order else ""))
    section.add(Table(["space", "plural wins", "mean gap", "Cohen's d", "one, two, three, four", "Spearman rho"],
                      rows, caption=f"Scores are raw dot products with cats − cat; {len(pairs)} singular/plural "
                                    "pairs from data/wordlists/plurals.tsv (cats/cat itself left out)"))
    section.add(probe_figure(tour, charts, "probe_plurality.png", "Words scored along cats − cat (dot product): "
                             "plurals should sit above their singulars, and one < two < three < four",
                             "dot product with cats − cat"))
    return "; ".join(summary)


def section_gender(tour: Tour, section: Section) -> str:
    """A gender direction from definitional pairs, scored on held-out family pairs."""
    from embedspace.analysis.probes import direction_from_pairs, pair_report, read_pairs, score

    family = read_pairs(WORDLISTS / "family.tsv")
    defining = [p for p in read_pairs(WORDLISTS / "gender.tsv") if p not in family]  # held out: family pairs
    section.add(Note(f"The direction is the mean of {len(defining)} differences female − male "
                     f"({', '.join(f'{f} − {m}' for f, m in defining[:6])}, ...; data/wordlists/gender.tsv), "
                     f"leaving out the {len(family)} family pairs it is then tested on (data/wordlists/family.tsv)."))
    rows, charts, summary = [], [], []
    for space in tour.spaces(section):
        known = [p for p in defining if p[0] in space and p[1] in space]
        if not known:
            rows.append([space.name, 0, absent(sorted({w for p in defining for w in p})), "", ""])
            continue
        direction = direction_from_pairs(space, known)
        report = pair_report(space, direction, family)
        rows.append([space.name, len(known), f"{report.wins}/{len(report.rows)}"
                     + (f" ({len(report.missing)} pairs missing)" if report.missing else ""),
                     report.mean_gap, report.effect_size])
        shown = report.rows[:PROBE_PAIRS_SHOWN + 1]
        words = [w for female, male, _, _ in shown for w in (female, male)]
        groups = ["female", "male"] * len(shown)
        charts.append((f"{space.name}: along the gender direction", words, score(space, direction, words), groups))
        summary.append(f"{space.name} {report.wins}/{len(report.rows)} female words win")
    section.add(Table(["space", "defining pairs", "female wins (family pairs)", "mean gap", "Cohen's d"], rows,
                      caption="Family pairs scored along the gender direction (dot product)"))
    if not charts:
        raise Unavailable("no space has the defining pairs")
    section.add(probe_figure(tour, charts, "probe_gender.png", "Family words scored along the gender direction "
                             "(dot product): each female word should sit above its male partner",
                             "dot product with the gender direction"))
    return "; ".join(summary)


FAMILY = (("man", "woman"), ("king", "queen"), ("boy", "girl"), ("father", "mother"), ("uncle", "aunt"),
          ("prince", "princess"))


def section_pca(tour: Tour, section: Section) -> str:
    """A 3D PCA of male/female word pairs in each space."""
    from embedspace.viz.plots import plot_points
    from embedspace.viz.projections import project

    spaces = tour.spaces(section)
    fig, axes = panels(len(spaces), width=6.2, height=5.8, projection="3d")
    for space, ax in zip(spaces, axes):
        pairs = [pair for pair in FAMILY if not missing_words(space, pair)]
        lost = [w for pair in FAMILY for w in pair if w not in space]
        if lost:
            section.add(Note(f"{space.name}: lacks {', '.join(lost)} (left out with their partners)."))
        words = [w for pair in pairs for w in pair]
        groups = ["male", "female"] * len(pairs)
        coords, pca = project(space, words, "pca", n_components=3)  # [2P, 3]: male, female, male, ...
        plot_points(coords, words, groups=groups, ax=ax, title=f"{space.name}: family words, PCA",
                    axis_labels=pca.axis_labels())
        male, female = coords[0::2], coords[1::2]  # [P, 3] each
        ax.quiver(*male.T, *(female - male).T, color="0.55", linewidth=1.2, arrow_length_ratio=0.12)
    fig.tight_layout()
    section.add(tour.save(fig, "pca_family_3d.png", "Male and female family words in the first three principal "
                          "components of each space (fitted on these words); grey arrows run from each male "
                          "word to its female partner, parallel where the space has one gender offset"))
    return f"3D PCA of {len(FAMILY)} word pairs in {len(spaces)} spaces"


NAMED_AXES = ("italy - germany", "hitler - germany")
COUNTRIES_LEADERS = (("germany", "hitler"), ("italy", "mussolini"), ("france", "napoleon"), ("spain", "franco"),
                     ("russia", "stalin"), ("england", "churchill"), ("rome", "caesar"), ("egypt", "pharaoh"))


def section_named_axes(tour: Tour, section: Section) -> str:
    """Countries and their leaders on the axes italy - germany and hitler - germany."""
    from embedspace.viz.plots import plot_points
    from embedspace.viz.projections import project

    spaces = usable_spaces(tour, section, ["italy", "germany", "hitler"])
    fig, axes = panels(len(spaces), width=6.2, height=5.4)
    for space, ax in zip(spaces, axes):
        found = [(w, kind) for pair in COUNTRIES_LEADERS for w, kind in zip(pair, ("country", "leader")) if w in space]
        words, groups = [w for w, _ in found], [kind for _, kind in found]
        coords, axes_fit = project(space, words, "axes", axes=list(NAMED_AXES))
        plot_points(coords, words, groups=groups, ax=ax, title=f"{space.name}: named axes",
                    axis_labels=axes_fit.axis_labels())
    fig.tight_layout()
    section.add(tour.save(fig, "named_axes_italy_hitler.png", "Each word's projection onto italy − germany (x) "
                          "and hitler − germany (y)"))
    return f"named axes for {', '.join(s.name for s in spaces)}"


MODEL_SENTENCES = (  # "model" twice in the machine-learning sense, once in the fashion sense
    ("ML 1", "The engineers trained a machine learning model on the data."),
    ("ML 2", "We evaluated the deep learning model on the test set."),
    ("fashion", "She worked as a fashion model in Paris."),
)


def section_context(tour: Tour, section: Section) -> str:
    """"model" in two senses, layer by layer, with the layer-drift chart."""
    from embedspace.contextual.compare import compare_contexts

    labels = [label for label, _ in MODEL_SENTENCES]
    section.add(Table(["label", "sentence"], [list(pair) for pair in MODEL_SENTENCES]))
    results = {}
    for name in ENCODER_NAMES:
        try:
            encoder = tour.encoder(name)
        except Unavailable as error:
            section.add(Note(str(error)))
            continue
        try:
            results[name] = compare_contexts(encoder, [s for _, s in MODEL_SENTENCES], "model", layers=(0, -1))
        except (KeyError, ValueError) as error:  # e.g. a vocabulary without "model"
            section.add(Note(f"{name}: {error}"))
    if not results:
        raise Unavailable("no encoder could place 'model' in the sentences")
    summary = []
    for name, result in results.items():
        curves = drift_curves(result, labels)
        rows = [[layer, *(values[layer] for values in curves.values())] for layer in range(result.n_layers + 1)]
        section.add(Table(["layer", *curves], rows, caption=f"{name}: cosine of 'model' between contexts "
                                                            "and to its static W_E row"))
        section.add(Note(f"{name}: {result.note}."))
        last = result.n_layers
        section.add(Table(["sentence", "layer 0 neighbours", f"layer {last} neighbours"],
                          [[label, scored(o.neighbours[0]), scored(o.neighbours[last])]
                           for label, o in zip(labels, result.occurrences)],
                          caption=f"{name}: nearest W_E words of the contextual vector"))
        same, different = result.pairs[0].cosines[-1], result.pairs[1].cosines[-1]
        summary.append(f"{name} last layer ML/ML {same:.2f} vs ML/fashion {different:.2f}")
    section.add(drift_figure(tour, results, labels))
    return "; ".join(summary)


def drift_curves(result, labels: Sequence[str]) -> dict[str, list[float]]:
    """Named curves for the drift chart and table: each pair of contexts, then each context vs W_E."""
    curves = {f"{labels[p.a]} vs {labels[p.b]}": p.cosines for p in result.pairs}
    for label, occurrence in zip(labels, result.occurrences):
        curves[f"W_E vs {label}"] = occurrence.static_cosines
    return curves


def drift_figure(tour: Tour, results: dict, labels: Sequence[str]) -> Figure:
    """One layer-drift panel per encoder."""
    from matplotlib.figure import Figure as MatplotlibFigure

    from embedspace.viz.plots import plot_layer_drift

    fig = MatplotlibFigure(figsize=(6.5 * len(results), 4.8))
    axes = fig.subplots(1, len(results), squeeze=False)
    for ax, (name, result) in zip(axes[0], results.items()):
        plot_layer_drift(drift_curves(result, labels), ax=ax, title=f"'model' in context: {name}")
    fig.tight_layout()
    return tour.save(fig, "context_model_drift.png",
                     "Cosine of 'model' between contexts (same sense: ML 1 vs ML 2) and to its static W_E row, "
                     "by layer (0 = what enters the first block)")


def section_senses(tour: Tour, section: Section) -> str:
    """Sense separation over the bundled sentence pairs, per layer and encoder."""
    from embedspace.contextual.compare import load_sense_sentences, sense_separation

    items = load_sense_sentences()
    words = sorted({item.word for item in items})
    section.add(Note(f"{len(items)} sentences for {len(words)} words: {', '.join(words)} "
                     "(data/sentences/senses.tsv). A triplet is an anchor sentence, another sentence with the "
                     "same sense of the word, and one with a different sense; it is won at a layer when the "
                     "same-sense sentence puts the word closer to the anchor. Chance is 50 %."))
    results = {}
    for name in ENCODER_NAMES:
        try:
            results[name] = sense_separation(tour.encoder(name), items)
        except (Unavailable, ValueError) as error:  # ValueError: no word of the set in its vocabulary
            section.add(Note(f"{name}: {error}" if isinstance(error, ValueError) else str(error)))
    if not results:
        raise Unavailable("no encoder could score the sentence set")
    depth = max(r.n_layers for r in results.values())
    rows = []
    for layer in range(depth + 1):
        row = [layer]
        for result in results.values():
            inside = layer <= result.n_layers
            row += [f"{result.win_rate[layer]:.0%}" if inside else "", result.mean_gap[layer] if inside else ""]
        rows.append(row)
    headers = ["layer"] + [h for name in results for h in (f"{name} triplets won", f"{name} mean gap")]
    section.add(Table(headers, rows))
    section.add(separation_figure(tour, results))
    for result in results.values():
        section.add(Note(f"{result.model}: {result.n_triplets} triplets; {result.note}."
                         + (f" Left out: {'; '.join(f'{w} ({why})' for w, why in result.skipped.items())}."
                            if result.skipped else "")))
    return ", ".join(f"{r.model} {r.win_rate[-1]:.0%} won at the last layer" for r in results.values())


def separation_figure(tour: Tour, results: dict) -> Figure:
    """The share of triplets won at each layer, one line per encoder, with chance marked."""
    from embedspace.viz.plots import plot_layer_drift

    ax = plot_layer_drift({f"{name} ({r.n_triplets} triplets)": r.win_rate for name, r in results.items()},
                          title="Sense separation: same sense closer than a different sense",
                          ylabel="share of triplets won")
    ax.axhline(0.5, color="0.5", linestyle="--", linewidth=1)
    last = max(r.n_layers for r in results.values())
    ax.annotate("chance", (last, 0.5), xytext=(0, -4), textcoords="offset points", ha="right", va="top",
                color="0.4", fontsize=9)
    ax.set_ylim(0, 1.02)
    return tour.save(ax, "sense_separation.png", "Share of triplets (anchor, same-sense, different-sense sentence) "
                     "in which the same-sense sentence is closer, by layer; 50 % is chance")


ATTENTION_SENTENCE = "The car is blue"


def section_attention(tour: Tour, section: Section) -> str:
    """MiniLM's attention on "The car is blue": per layer, the head where blue looks most at car."""
    from matplotlib.figure import Figure as MatplotlibFigure

    from embedspace.viz.plots import plot_attention

    run = tour.encoder("minilm").run([ATTENTION_SENTENCE])[0]
    tokens, weights = list(run.tokens), np.asarray(run.attentions)  # [L, H, T, T]
    blue, car = tokens.index("blue"), tokens.index("car")
    heads = weights[:, :, blue, car].argmax(axis=1)  # [L]
    n_layers = weights.shape[0]
    columns = 3
    n_rows = -(-n_layers // columns)
    fig = MatplotlibFigure(figsize=(4.2 * columns, 3.9 * n_rows))
    axes = fig.subplots(n_rows, columns, squeeze=False)
    rows = []
    for layer, ax in zip(range(n_layers), axes.flat):
        head = int(heads[layer])
        plot_attention(weights[layer, head], tokens, ax=ax, title=f"block {layer + 1}, head {head}")
        top = int(weights[layer, head, blue].argmax())
        rows.append([layer + 1, head, float(weights[layer, head, blue, car]), tokens[top]])
    for ax in list(axes.flat)[n_layers:]:
        ax.set_visible(False)
    fig.tight_layout()
    section.add(tour.save(fig, "attention_car_is_blue.png",
                          f"MiniLM attention on '{ATTENTION_SENTENCE}': rows attend to columns; in each block, "
                          "the head where 'blue' attends most to 'car'"))
    section.add(Table(["block", "head", "blue -> car", "blue attends most to"], rows,
                      caption="The head of each block in which 'blue' attends most to 'car'"))
    best = max(rows, key=lambda r: r[2])
    return f"strongest blue -> car: block {best[0]}, head {best[1]} ({best[2]:.2f})"


TEMPERATURES = (0.5, 1.0, 2.0)
PROMPT = "and the lord said unto"


def section_temperature(tour: Tour, section: Section) -> str:
    """The mini GPT's next-token distribution after one prompt at T = 0.5, 1, 2."""
    from embedspace.contextual.generation import distributions, generate_text, next_token_table
    from embedspace.io.mini_model import load_mini_model
    from embedspace.viz.plots import plot_temperatures

    model = load_mini_model()
    ax = plot_temperatures(distributions(model, PROMPT, TEMPERATURES), model.tokenizer.id_to_token, top_k=10,
                           title=f"mini GPT: the word after '{PROMPT}'")
    section.add(tour.save(ax, "temperatures.png", f"Probabilities of the ten likeliest words after '{PROMPT}' "
                          "at three temperatures: softmax(logits / T)"))
    table = next_token_table(model, PROMPT, TEMPERATURES, k=5)
    rows = [[f"T = {t['temperature']:g}", ", ".join(f"{r['token']} ({r['probability']:.2f})" for r in t["tokens"]),
             generate_text(model, PROMPT, max_tokens=12, temperature=t["temperature"], seed=0)] for t in table]
    section.add(Table(["temperature", "five likeliest next words", "a continuation (seed 0)"], rows,
                      caption=f"Prompt: '{PROMPT}'"))
    top = table[0]["tokens"][0]
    return f"after '{PROMPT}': {top['token']} ({top['probability']:.2f} at T = {TEMPERATURES[0]:g})"


def typical_cosine(space: Space, n: int = 400, among: int = 10_000, seed: int = 0) -> float:
    """Mean cosine between ``n`` random pairs of distinct words among the ``among`` most frequent."""
    rng = np.random.default_rng(seed)
    size = min(among, len(space))
    first, second = rng.integers(0, size, (2, n))
    from embedspace.contextual.compare import row_cosines

    keep = first != second
    return float(np.mean(row_cosines(space.vectors[first[keep]], space.vectors[second[keep]])))


def section_parameters(tour: Tour, section: Section) -> str:
    """GPT-3's parameter tally beside our two models."""
    from transformer.config import PRESETS, count_params

    names = [n for n in ("gpt3", "gpt2", "minilm", "mini") if n in PRESETS]
    counts = {n: count_params(PRESETS[n]) for n in names}
    groups = list(counts[names[0]])
    rows = [[group] + [f"{counts[n][group]:,}" for n in names] for group in groups]
    section.add(Table(["parameters"] + names, rows))
    gpt3 = counts.get("gpt3")
    if gpt3 is None:
        raise Unavailable("the gpt3 preset is missing")
    cfg = PRESETS["gpt3"]
    section.add(Note(
        f"GPT-3's W_E alone is {cfg.vocab_size:,} tokens x {cfg.n_embd:,} dims = {gpt3['W_E']:,} numbers; "
        f"the whole model has {gpt3['total']:,} parameters ({gpt3['total'] / 1e9:.1f} B; published as 175 B). "
        f"Each of its {cfg.n_layer} blocks holds {(gpt3['attention'] + gpt3['MLP']) / cfg.n_layer / 1e9:.2f} B, "
        f"{gpt3['MLP'] / (gpt3['attention'] + gpt3['MLP']):.0%} of them in the MLP; W_E is "
        f"{gpt3['W_E'] / gpt3['total']:.2%} of the model."))
    return f"GPT-3: W_E = {gpt3['W_E']:,}, total = {gpt3['total'] / 1e9:.1f} B"


@dataclass(frozen=True)
class SectionSpec:
    """A section's title, what the reader should look at, and the function that builds it."""

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
    SectionSpec("The analogy as a picture", "king − man + woman drawn in two dimensions: the arrow man → woman "
                "copied onto king should land near queen. The plane is fitted to these words only, so it shows "
                "their arrangement faithfully but says nothing about the rest of the space.", section_analogy_figure),
    SectionSpec("The plurality direction", "Subtract cat from cats and you have a direction that, the classic "
                "demos claim, means 'more than one'. Score other words by their dot product with it: each plural "
                "should beat its singular, and the number words should rise in order, one < two < three < four.",
                section_plurality),
    SectionSpec("The gender direction", "The same idea with many pairs: the mean of woman − man, she − he, "
                "actress − actor ... is a gender direction. It is tested on family words it was not built from: "
                "mother should score above father, aunt above uncle.", section_gender),
    SectionSpec("Three dimensions of family", "The first three principal components of male and female family "
                "words. Look for a consistent offset between each male word and its female partner: if the "
                "space has a gender direction, the pairs are shifted the same way.", section_pca),
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


def run_tour(out_dir: str | Path, progress: Callable[[int, int, str], None] | None = None) -> TourReport:
    """Run every demonstration and write the report into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Created if needed; receives ``report.md``, ``report.html`` and the PNG figures.
    progress : callable, optional
        Called as ``progress(i, n, title)`` before section ``i`` of ``n`` (1-based), and as
        ``progress(n, n, "done")`` at the end.

    Returns
    -------
    TourReport
        The sections (status, time, one-line summary) and where the files are.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    configure_matplotlib()
    tour = Tour(out_dir)
    start = time.perf_counter()
    sections = []
    for i, spec in enumerate(SECTIONS, start=1):
        if progress:
            progress(i, len(SECTIONS), spec.title)
        sections.append(run_section(tour, spec))
    report = TourReport(out_dir, sections, time.perf_counter() - start)
    write_report(report)
    if progress:
        progress(len(SECTIONS), len(SECTIONS), "done")
    return report


def configure_matplotlib() -> None:
    """Draw off-screen (the tour never opens a window)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        log.info("matplotlib is not installed: the tour will have no figures")


# -- writing the report -------------------------------------------------------------------------------

INTRO = ("This report shows how meaning lives in three embedding spaces shipped with embedspace, "
         "and how a transformer turns a word's static vector into a contextual one.")


def cell(value) -> str:
    """A table cell as text (floats with 3 decimals)."""
    if isinstance(value, float):
        return "n/a" if np.isnan(value) else f"{value:.3f}"
    return str(value)


def closing(report: TourReport) -> list[Table | Note]:
    """The closing note: every figure and the time each section took."""
    rows = [[s.title, s.status, f"{s.seconds:.1f}", ", ".join(s.figures)] for s in report.sections]
    rows.append(["total", "", f"{report.seconds:.1f}", f"{len(report.figures)} figures"])
    return [Note(f"The tour ran in {report.seconds:.1f} s."), Table(["section", "status", "seconds", "figures"], rows)]


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
    for section in [*report.sections, Section("Closing note", "", closing(report))]:
        parts.append(f"## {section.title}")
        if section.intro:
            parts.append(section.intro)
        parts += [markdown_block(b) for b in section.blocks]
    return "\n\n".join(parts) + "\n"


def bold_html(text: str) -> str:
    """Escape ``text``, turning ``**word**`` into <b>word</b>."""
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


def to_html(report: TourReport) -> str:
    """The whole report as one HTML page (the figures are PNG files beside it)."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>The embedspace tour</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>The embedspace tour</h1>", f"<p>{html.escape(INTRO)}</p>"]
    sections = [*report.sections, Section("Closing note", "", closing(report))]
    contents = "".join(f'<li><a href="#s{i}">{html.escape(s.title)}</a>'
                       + (f' <span class="status">({html.escape(s.status)})</span>' if s.status != "ok" else "")
                       + "</li>" for i, s in enumerate(sections, start=1))
    parts.append(f"<nav><ol>{contents}</ol></nav>")
    for i, section in enumerate(sections, start=1):
        parts.append(f'<h2 id="s{i}">{html.escape(section.title)}</h2>')
        if section.intro:
            parts.append(f"<p>{html.escape(section.intro)}</p>")
        parts += [html_block(b) for b in section.blocks]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(report: TourReport) -> None:
    """Write report.md and report.html."""
    report.markdown.write_text(to_markdown(report), encoding="utf-8")
    report.html.write_text(to_html(report), encoding="utf-8")
