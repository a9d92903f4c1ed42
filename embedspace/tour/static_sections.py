"""The sections on static spaces: neighbours, analogies, directions and projections, in every shipped space.

Each one asks the library the same question of every available space, puts the answers side by side
(one column or one panel per space) and returns one line for the terminal.
"""
from __future__ import annotations

from embedspace.analysis.answers import ExpectedAnswer, expected_answer
from embedspace.analysis.geometry import typical_cosine
from embedspace.analysis.probes import (
    direction_from_expression,
    direction_from_pairs,
    order_report,
    pair_report,
    read_pairs,
    score,
)
from embedspace.paths import wordlists_dir
from embedspace.tour.figures import panels, probe_figure
from embedspace.tour.inputs import SPACE_NAMES, Tour, Unavailable, missing_words
from embedspace.tour.report import Note, Section, Table, absent, scored
from embedspace.viz.plots import plot_analogy, plot_points
from embedspace.viz.projections import project

NEIGHBOUR_WORDS = ("tower", "cat")
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
NUMBERS = ("one", "two", "three", "four")
PROBE_PAIRS_SHOWN = 5  # singular/plural or male/female pairs drawn in a probe chart
FAMILY = (("man", "woman"), ("king", "queen"), ("boy", "girl"), ("father", "mother"), ("uncle", "aunt"),
          ("prince", "princess"))
NAMED_AXES = ("italy - germany", "hitler - germany")
COUNTRIES_LEADERS = (("germany", "hitler"), ("italy", "mussolini"), ("france", "napoleon"), ("spain", "franco"),
                     ("russia", "stalin"), ("england", "churchill"), ("rome", "caesar"), ("egypt", "pharaoh"))


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


def analogy_cell(answer: ExpectedAnswer, shown: int = 3) -> str:
    """The first ``shown`` answers with the expected one in bold, and where it came if not among them."""
    if answer.missing:
        return absent(answer.missing)
    text = scored(answer.found[:shown], mark=answer.expected)
    if not answer.known:
        return text + f"; no '{answer.expected}' in this space"
    if answer.rank is None:
        return text + f"; {answer.expected} not in top {answer.topn}"
    if answer.rank > shown:
        text += f"; {answer.expected} #{answer.rank}"
    return text


def section_analogies(tour: Tour, section: Section, searched: int = 10) -> str:
    """king - man + woman and friends, in every space."""
    spaces = tour.spaces(section)
    answers = {s.name: [expected_answer(s, expression, expected, topn=searched) for expression, expected in ANALOGIES]
               for s in spaces}
    rows = [[expression, expected, *(analogy_cell(found[i]) for found in answers.values())]
            for i, (expression, expected) in enumerate(ANALOGIES)]
    section.add(Table(["expression", "expected", *answers], rows,
                      caption="Nearest words to the result (input words excluded); the expected answer in bold"))
    section.add(Note("Input words are left out of the answers, as gensim does; otherwise king - man + woman "
                     "usually returns king itself. 'missing' names words a space does not have."))
    counts = [f"{name} {sum(a.correct for a in found if a.askable)}/{sum(a.askable for a in found)}"
              for name, found in answers.items()]
    return "expected answer first: " + ", ".join(counts)


def section_analogy_figure(tour: Tour, section: Section) -> str:
    """The parallelogram of king - man + woman in each space."""
    spaces = tour.usable_spaces(section, ["king", "man", "woman", "queen"])
    fig, axes = panels(len(spaces))
    for space, ax in zip(spaces, axes):
        plot_analogy(space, "king", "man", "woman", expected="queen", ax=ax, title=f"{space.name}: king − man + woman")
    fig.tight_layout()
    section.add(tour.save(fig, "analogy_king_queen.png", "king − man + woman in each space, drawn in the plane "
                          "of the first two principal components of the words involved"))
    return f"parallelogram drawn for {', '.join(s.name for s in spaces)}"


def section_plurality(tour: Tour, section: Section) -> str:
    """The direction cats - cat: singular/plural pairs, and one..four."""
    pairs = [p for p in read_pairs(wordlists_dir() / "plurals.tsv") if p != ("cats", "cat")]  # cats - cat is the probe
    spaces = tour.usable_spaces(section, ["cats", "cat"])
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
    section.add(tour.save(probe_figure(charts, "dot product with cats − cat"), "probe_plurality.png",
                          "Words scored along cats − cat (dot product): plurals should sit above their singulars, "
                          "and one < two < three < four"))
    return "; ".join(summary)


def section_gender(tour: Tour, section: Section) -> str:
    """A gender direction from definitional pairs, scored on held-out family pairs."""
    family = read_pairs(wordlists_dir() / "family.tsv")
    defining = [p for p in read_pairs(wordlists_dir() / "gender.tsv") if p not in family]  # held out: family pairs
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
    section.add(tour.save(probe_figure(charts, "dot product with the gender direction"), "probe_gender.png",
                          "Family words scored along the gender direction (dot product): each female word should "
                          "sit above its male partner"))
    return "; ".join(summary)


def section_pca(tour: Tour, section: Section) -> str:
    """A 3D PCA of male/female word pairs in each space."""
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


def section_named_axes(tour: Tour, section: Section) -> str:
    """Countries and their leaders on the axes italy - germany and hitler - germany."""
    spaces = tour.usable_spaces(section, ["italy", "germany", "hitler"])
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
