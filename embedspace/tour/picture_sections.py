"""The sections whose figure is the point: the analogy's plane, pairs along a direction, family words in 3D,
named axes.

Each figure shows what its caption claims and carries the number that checks it, in a table
beside it: the star's distance to queen and how much of it lies off the picture's plane, how
many pairs win (every pair drawn, held-out ones marked), the mean cosine between each pair's arrow and
the named axis. The 3D figures also come as interactive views for report.html, built from the
same geometry (:mod:`embedspace.viz.geometry`).
"""
from __future__ import annotations

from embedspace.analysis.probes import (
    direction_from_expression,
    direction_from_pairs,
    order_report,
    pair_report,
    read_pairs,
)
from embedspace.paths import wordlists_dir
from embedspace.tour.figures import analogy_figure, pair_axes_figure, pairs_figure, panels
from embedspace.tour.inputs import Tour, Unavailable, missing_words
from embedspace.tour.report import Note, Section, Table, absent
from embedspace.viz.geometry import analogy_plane, pair_axes, pair_rows
from embedspace.viz.interactive_views import analogy_plane_view, pair_axes_view
from embedspace.viz.plots import plot_points
from embedspace.viz.projections import project

ANALOGY = ("king", "man", "woman", "queen")  # a - b + c, and the word it should reach
NUMBERS = ("one", "two", "three", "four")
FAMILY = (("man", "woman"), ("king", "queen"), ("boy", "girl"), ("father", "mother"), ("uncle", "aunt"),
          ("prince", "princess"))
NAMED_AXES = ("italy - germany", "hitler - germany")
COUNTRIES_LEADERS = (("germany", "hitler"), ("italy", "mussolini"), ("france", "napoleon"), ("spain", "franco"),
                     ("russia", "stalin"), ("england", "churchill"), ("rome", "caesar"), ("egypt", "pharaoh"))


def section_analogy_figure(tour: Tour, section: Section) -> str:
    """The parallelogram of king - man + woman in each space, in the plane that contains it."""
    a, b, c, expected = ANALOGY
    spaces = tour.usable_spaces(section, ANALOGY)
    planes = {space.name: analogy_plane(space, a, b, c, expected) for space in spaces}
    views = [analogy_plane_view(plane, name, title=f"{name}: {a} − {b} + {c}", view_id=f"analogy-{name}")
             for name, plane in planes.items()]
    section.add(tour.save(analogy_figure(planes), "analogy_king_queen.png",
                          f"{a} − {b} + {c} in each space, drawn in the plane that contains {b}, {c} and {a} "
                          f"(x along {c} − {b}, y along the rest of {a} − {b}; unit vectors, equal scales), so the "
                          f"star {a} + ({c} − {b}) is exact. {expected.capitalize()} is drawn where it projects onto the plane; "
                          "the table gives its true distance to the star and how much of it lies off the plane.",
                          views=views))
    rows = [[name, f"{p.nearest} ({p.score:.2f})", p.distance, p.in_plane, p.off_plane, p.scale]
            for name, p in planes.items()]
    section.add(Table(["space", "nearest to the star (cosine)", f"star to {expected}", "in the plane",
                       "off the plane", f"{b} → {c}"], rows,
                      caption=f"Distances between unit vectors; (star to {expected})² = (in the plane)² + "
                              "(off the plane)²"))
    return "; ".join(f"{name}: star to {expected} {p.distance:.2f} ({p.off_plane:.2f} off the plane)"
                     for name, p in planes.items())


def pair_caption(shown: int, total: int, what: str) -> str:
    """"all 44 pairs shown" or "38 of 44 pairs shown (6 lack a word here: listed above)"."""
    if shown == total:
        return f"all {total} {what} shown"
    return f"{shown} of {total} {what} shown ({total - shown} lack a word here: listed above)"


def lacking(space_name: str, missing: list[tuple[str, str]], what: str) -> Note:
    """A note naming the pairs of which ``space_name`` lacks a word."""
    return Note(f"{space_name} lacks a word of {len(missing)} {what}{'s' if len(missing) != 1 else ''}: "
                + ", ".join(f"{high}/{low}" for high, low in missing) + ".")


def section_plurality(tour: Tour, section: Section) -> str:
    """The direction cats - cat: every singular/plural pair, and one..four."""
    pairs = [p for p in read_pairs(wordlists_dir() / "plurals.tsv") if p != ("cats", "cat")]  # cats - cat is the probe
    spaces = tour.usable_spaces(section, ["cats", "cat"])
    rows, charts, summary = [], [], []
    for space in spaces:
        direction = direction_from_expression(space, "cats - cat")
        found = pair_report(space, direction, pairs)
        numbers = [w for w in NUMBERS if w in space]
        order = order_report(space, direction, numbers) if len(numbers) > 1 else None
        rows.append([space.name, f"{found.wins}/{len(found.rows)}", pair_caption(len(found.rows), len(pairs), "pairs"),
                     found.mean_gap, found.effect_size,
                     ", ".join(f"{w} {s:.2f}" for w, s in order.rows) if order else absent(NUMBERS),
                     order.spearman if order else ""])
        if found.missing:
            section.add(lacking(space.name, found.missing, "pair"))
        drawn = pair_rows(pair_report(space, direction, [("cats", "cat")]).rows + found.rows, direction.pairs)
        extra = order.rows if order else []
        charts.append((f"{space.name}: {found.wins}/{len(found.rows)} plurals win", drawn, extra))
        summary.append(f"{space.name} {found.wins}/{len(found.rows)} plurals win"
                       + (f", one..four rho {order.spearman:.2f}" if order else ""))
    section.add(Table(["space", "plural wins (held out)", "pairs", "mean gap", "Cohen's d", "one, two, three, four",
                       "Spearman rho"], rows,
                      caption=f"Scores are raw dot products with cats − cat; {len(pairs)} singular/plural "
                              "pairs from data/wordlists/plurals.tsv (cats/cat itself left out)"))
    section.add(tour.save(pairs_figure(charts, ("plural", "singular"), "dot product with cats − cat", "one..four"),
                          "probe_plurality.png",
                          "Every singular/plural pair scored along cats − cat (dot product), the plural joined to its "
                          "singular (red: the plural scores lower). The pair the direction was built from is first; "
                          "the rest are held out. "
                          + "; ".join(f"{space.name}: {r[2]}" for space, r in zip(spaces, rows)) + "."))
    return "; ".join(summary)


def section_gender(tour: Tour, section: Section) -> str:
    """A gender direction from definitional pairs, scored on held-out family pairs; every pair drawn."""
    family = read_pairs(wordlists_dir() / "family.tsv")
    defining = [p for p in read_pairs(wordlists_dir() / "gender.tsv") if p not in family]  # held out: family pairs
    section.add(Note(f"The direction is the mean of {len(defining)} differences female − male "
                     f"({', '.join(f'{f} − {m}' for f, m in defining[:6])}, ...; data/wordlists/gender.tsv), "
                     f"leaving out the {len(family)} family pairs it is then tested on (data/wordlists/family.tsv)."))
    rows, charts, summary = [], [], []
    for space in tour.spaces(section):
        known = [p for p in defining if p[0] in space and p[1] in space]
        if not known:
            rows.append([space.name, 0, absent(sorted({w for p in defining for w in p})), "", "", ""])
            continue
        direction = direction_from_pairs(space, known)
        report = pair_report(space, direction, family)
        rows.append([space.name, len(known), f"{report.wins}/{len(report.rows)}",
                     pair_caption(len(report.rows), len(family), "family pairs"), report.mean_gap, report.effect_size])
        if report.missing:
            section.add(lacking(space.name, report.missing, "family pair"))
        drawn = pair_rows(pair_report(space, direction, known).rows + report.rows, known)
        charts.append((f"{space.name}: {report.wins}/{len(report.rows)} held-out pairs win", drawn, []))
        summary.append(f"{space.name} {report.wins}/{len(report.rows)} female words win")
    section.add(Table(["space", "defining pairs", "female wins (family pairs)", "family pairs", "mean gap",
                       "Cohen's d"], rows, caption="Family pairs scored along the gender direction (dot product)"))
    if not charts:
        raise Unavailable("no space has the defining pairs")
    section.add(tour.save(pairs_figure(charts, ("female", "male"), "dot product with the gender direction"),
                          "probe_gender.png",
                          "Every pair scored along the gender direction (dot product), the female word joined to its "
                          "male partner (red: the female word scores lower): first the defining pairs the direction "
                          "was built from, then the held-out family pairs it is tested on. "
                          + "; ".join(f"{r[0]}: {r[3]}" for r in rows if r[3]) + "."))
    return "; ".join(summary)


def section_pca(tour: Tour, section: Section) -> str:
    """Male/female family words in 3D: x the mean female − male difference, y and z what is left."""
    placed, rows, views = {}, [], []
    for space in tour.spaces(section):
        pairs = [pair for pair in FAMILY if not missing_words(space, pair)]
        lost = [w for pair in FAMILY for w in pair if w not in space]
        if lost:
            section.add(Note(f"{space.name}: lacks {', '.join(lost)} (left out with their partners)."))
        if len(pairs) < 2:
            section.add(Note(f"{space.name}: left out of the figure, it has fewer than 2 of the pairs."))
            continue
        found = placed[space.name] = pair_axes(space, pairs, axis_name="mean female − male")
        rows.append([space.name, len(pairs), float(found.cosines.mean()), float(found.drawn_cosines.mean()),
                     float(found.cosines.min())])
        views.append(pair_axes_view(found, ("male", "female"), title=f"{space.name}: family words",
                                    details=[("space", space.name)], view_id=f"family-{space.name}"))
    if not placed:
        raise Unavailable("no space has two of the family pairs")
    section.add(tour.save(pair_axes_figure(placed, ("male", "female"), "family words"), "pca_family_3d.png",
                          "Male and female family words: x is each space's mean female − male difference (the gender "
                          "direction of these pairs), y and z the first two principal components of what is left. "
                          "Grey arrows run from each male word to its partner; they point along x as far as the pairs "
                          "share one offset. Mean cosine between a pair's difference and x: "
                          + "; ".join(f"{name} {p.cosines.mean():.2f} in the space ({p.drawn_cosines.mean():.2f} as "
                                      "drawn)" for name, p in placed.items()) + ".", views=views))
    section.add(Table(["space", "pairs", "mean cos(pair, x) in the space", "as drawn", "lowest in the space"], rows,
                      caption="How parallel the pairs are: cosine between each pair's difference female − male and "
                              "the axis x (their mean)"))
    return "; ".join(f"{name}: mean cos(pair, axis) {p.cosines.mean():.2f}" for name, p in placed.items())


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
