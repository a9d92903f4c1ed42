"""The sections on static spaces that answer with tables: which spaces, neighbours, analogies.

The sections whose figure is the point (the analogy's plane, pairs along a direction, family words
in 3D, named axes) are in :mod:`embedspace.tour.picture_sections`.

Each one asks the library the same question of every available space, puts the answers side by side
(one column or one panel per space) and returns one line for the terminal.
"""
from __future__ import annotations

from embedspace.analysis.answers import ExpectedAnswer, expected_answer
from embedspace.analysis.geometry import typical_cosine
from embedspace.tour.inputs import SPACE_NAMES, Tour, Unavailable
from embedspace.tour.report import Note, Section, Table, Text, absent, scored

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


def analogy_cell(answer: ExpectedAnswer, shown: int = 3) -> str | Text:
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
