"""The geometry a figure and its interactive twin share: the plane of an analogy, pairs along a named axis,
and the rows of a pair chart.

Each picture in :mod:`embedspace.viz.plots` and its page in :mod:`embedspace.viz.interactive_views`
call the same function here, so both draw the same coordinates and state the same numbers:

- :func:`analogy_plane`: ``a - b + c`` in the plane that contains b, c and a (origin b, axes
  ``c - b`` and the part of ``a - b`` orthogonal to it), so the parallelogram is drawn exactly;
  a third axis is the part of the expected word that lies off that plane.
- :func:`pair_axes`: word pairs with one axis the mean pair difference (a named direction) and
  the other two the top principal components of what is left.
- :func:`pair_rows`: the rows of a pair chart (each pair on one row, the pairs the direction was
  built from first, then the held-out ones, each group sorted by gap).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embedspace.errors import InvalidInput
from embedspace.space import Space
from embedspace.viz.named_axes import gram_schmidt

OFF_PLANE = 1e-9  # a residual shorter than this is "in the plane"


@dataclass(frozen=True)
class AnalogyPlane:
    """``a - b + c`` in the plane of b, c and a; every length is one of the space's (unit vectors).

    Attributes
    ----------
    a, b, c, expected, nearest : str
    score : float
        Cosine between the star and ``nearest`` (a, b and c left out, as gensim's most_similar).
    words : list of str [W]
        a, b, c, expected, nearest, without repeats.
    coords : ndarray [W, 3]
        x along ``c - b``, y along the part of ``a - b`` orthogonal to it (b at the origin), z along
        the part of ``expected`` off the plane (0 for every word when ``expected`` lies in it).
    star : ndarray [3]
        ``a - b + c``: exactly ``coords[a] + coords[c] - coords[b]``, with z = 0.
    distance, in_plane, off_plane : float
        Distance from the star to ``expected`` in the space, and its parts in and off the plane
        (``distance**2 == in_plane**2 + off_plane**2``).
    scale : float
        Length of ``c - b`` (man -> woman), for comparison.
    """

    a: str
    b: str
    c: str
    expected: str
    nearest: str
    score: float
    words: list[str]
    coords: np.ndarray
    star: np.ndarray
    distance: float
    in_plane: float
    off_plane: float
    scale: float

    @property
    def at(self) -> dict[str, np.ndarray]:
        """Each word's coordinates [3]."""
        return dict(zip(self.words, self.coords))

    @property
    def axis_labels(self) -> list[str]:
        """Names of the three axes."""
        return [f"{self.c} − {self.b}", f"{self.a} − {self.b}, the part orthogonal to it",
                f"{self.expected} off the plane"]

    @property
    def statement(self) -> str:
        """The distance from the star to the expected word, split into its parts in and off the plane.

        Examples
        --------
        >>> vectors = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 0], [0, 1, 1]], dtype=np.float32)
        >>> plane = analogy_plane(Space(["king", "man", "woman", "queen"], vectors), "king", "man", "woman")
        >>> plane.statement
        'star → queen: 1.26 (1.04 in this plane, 0.71 off it; man → woman is 1.41)'
        """
        return (f"star → {self.expected}: {self.distance:.2f} ({self.in_plane:.2f} in this plane, "
                f"{self.off_plane:.2f} off it; {self.b} → {self.c} is {self.scale:.2f})")


def analogy_plane(space: Space, a: str, b: str, c: str, expected: str | None = None) -> AnalogyPlane:
    """``a - b + c`` (of unit vectors) drawn in the plane that contains b, c and a.

    The origin is b; the first axis is ``c - b``, the second the part of ``a - b`` orthogonal to it
    (Gram-Schmidt), so both are in the space's own units and the star ``a - b + c`` lands exactly at
    ``a + (c - b)``. The third axis is the part of ``expected - b`` off that plane: how far the
    expected word is from the picture's plane. ``expected`` defaults to the word nearest the star.

    Raises
    ------
    InvalidInput
        When ``c - b`` and ``a - b`` are parallel (no plane), or a word is unknown (UnknownKeyError).

    Examples
    --------
    >>> s = np.sqrt(0.5)  # king - man + woman is exactly queen here
    >>> vectors = np.array([[s, s, 0, 0], [s, 0, s, 0], [0, 0, s, s], [0, s, 0, s]], dtype=np.float32)
    >>> plane = analogy_plane(Space(["king", "man", "woman", "queen"], vectors), "king", "man", "woman")
    >>> plane.nearest, np.allclose(plane.star, plane.at["queen"]), round(plane.distance, 6), plane.words
    ('queen', True, 0.0, ['king', 'man', 'woman', 'queen'])
    """
    nearest, score = space.most_similar([a, c], [b], topn=1)[0]
    expected = expected or nearest
    words = list(dict.fromkeys([a, b, c, expected, nearest]))
    unit = dict(zip(words, space.unit(words).astype(np.float64)))  # word -> [D]
    plane = gram_schmidt(np.stack([unit[c] - unit[b], unit[a] - unit[b]]), [f"{c} - {b}", f"{a} - {b}"])  # [2, D]
    relative = np.stack([unit[w] - unit[b] for w in words])  # [W, D], b at the origin
    flat = relative @ plane.T  # [W, 2]
    off = relative[words.index(expected)] - flat[words.index(expected)] @ plane  # [D], expected's residual
    off_plane = float(np.linalg.norm(off))
    depth = relative @ (off / off_plane) if off_plane > OFF_PLANE else np.zeros(len(words))  # [W]
    coords = np.column_stack([flat, depth])  # [W, 3]
    star = np.append(flat[words.index(a)] + flat[words.index(c)], 0.0)  # [3]: a + (c - b), b being 0
    distance = float(np.linalg.norm(unit[expected] - (unit[a] - unit[b] + unit[c])))
    in_plane = float(np.linalg.norm(flat[words.index(expected)] - star[:2]))
    return AnalogyPlane(a, b, c, expected, nearest, float(score), words, coords, star, distance, in_plane,
                        off_plane, float(np.linalg.norm(unit[c] - unit[b])))


@dataclass(frozen=True)
class PairAxes:
    """Word pairs placed with one named axis: the mean pair difference, then two principal components.

    Attributes
    ----------
    pairs : list of (str, str) [P]
        ``(low, high)``: (male, female), the arrow's start and end.
    words : list of str [2P]
        low, high, low, high, ...
    coords : ndarray [2P, 3]
        x: each word's projection onto the unit mean difference (``high - low`` averaged over the pairs);
        y, z: the top two principal components of what is left of the words once x is taken out.
    axis_labels : list of str [3]
    cosines : ndarray [P]
        Cosine, in the space, between each pair's difference ``high - low`` and the axis.
    drawn_cosines : ndarray [P]
        The same cosine between the arrows as drawn (in the 3 coordinates).
    """

    pairs: list[tuple[str, str]]
    words: list[str]
    coords: np.ndarray
    axis_labels: list[str]
    cosines: np.ndarray
    drawn_cosines: np.ndarray

    @property
    def arrows(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(start, end) of each pair's arrow, low -> high, in the drawn coordinates."""
        return [(self.coords[2 * i], self.coords[2 * i + 1]) for i in range(len(self.pairs))]

    @property
    def statement(self) -> str:
        """The mean cosine between each pair's difference and the axis, in the space and as drawn."""
        return (f"mean cos(pair, axis): {np.mean(self.cosines):.2f} in the space, "
                f"{np.mean(self.drawn_cosines):.2f} as drawn")


def pair_axes(space: Space, pairs: Sequence[tuple[str, str]], axis_name: str = "mean pair difference") -> PairAxes:
    """Place ``pairs`` ``(low, high)`` with the mean difference ``high - low`` as the first axis.

    The other two axes are the first two principal components (centred, of the raw vectors) of
    the words once their component along the first axis is removed, so the arrows low -> high are
    parallel in the picture as far as the pairs share that offset; :attr:`PairAxes.cosines` says how
    far they do in the space itself.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> base = rng.normal(size=(4, 6))
    >>> offset = np.array([0, 0, 0, 0, 0, 2.0])
    >>> space = Space(["m1", "f1", "m2", "f2", "m3", "f3", "m4", "f4"],
    ...               np.vstack([[b, b + offset] for b in base]).reshape(8, 6).astype(np.float32))
    >>> placed = pair_axes(space, [("m1", "f1"), ("m2", "f2"), ("m3", "f3"), ("m4", "f4")])
    >>> placed.cosines.round(3).tolist(), placed.coords.shape
    ([1.0, 1.0, 1.0, 1.0], (8, 3))
    """
    from embedspace.viz.projections import PCA

    if len(pairs) < 2:
        raise InvalidInput(f"a pair view needs at least 2 pairs, got {len(pairs)}")
    pairs = [(str(low), str(high)) for low, high in pairs]
    words = [w for pair in pairs for w in pair]
    vectors = space[words].astype(np.float64)  # [2P, D]
    differences = vectors[1::2] - vectors[0::2]  # [P, D]: high - low
    axis = gram_schmidt(differences.mean(axis=0)[None, :], [axis_name])[0]  # [D], unit
    along = vectors @ axis  # [2P]
    rest = vectors - np.outer(along, axis)  # [2P, D], orthogonal to the axis
    components = min(2, len(words) - 1, space.dim - 1)
    pca = PCA(n_components=components, random_state=0).fit(rest)
    coords = np.column_stack([along, pca.transform(rest)])  # [2P, 1 + components]
    if coords.shape[1] < 3:
        coords = np.column_stack([coords, np.zeros((len(words), 3 - coords.shape[1]))])
    drawn = coords[1::2] - coords[0::2]  # [P, 3]
    labels = [axis_name] + [f"PC{i + 1} of the rest" for i in range(components)]
    labels += [f"dimension {i + 1}" for i in range(len(labels), 3)]
    return PairAxes(pairs, words, coords, labels, cosines(differences, axis), cosines(drawn, np.eye(3)[0]))


def cosines(rows: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Cosine of each row [N, D] with ``direction`` [D] (0 for a zero row)."""
    norms = np.linalg.norm(rows, axis=1) * np.linalg.norm(direction)  # [N]
    return np.divide(rows @ direction, norms, out=np.zeros(len(rows)), where=norms > 0)


@dataclass(frozen=True)
class PairRow:
    """One row of a pair chart: the pair, its scores, and the group it is shown in."""

    high: str
    low: str
    high_score: float
    low_score: float
    held_out: bool  # True: not used to build the direction

    @property
    def gap(self) -> float:
        return self.high_score - self.low_score

    @property
    def wins(self) -> bool:
        """The high member scores higher."""
        return self.gap > 0


def pair_rows(rows: Sequence[tuple[str, str, float, float]],
              built_from: Sequence[tuple[str, str]] = ()) -> list[PairRow]:
    """The rows of a pair chart, top to bottom: the pairs of ``built_from`` first, then the held-out ones.

    ``rows`` are ``(high, low, high's score, low's score)`` (what
    :func:`embedspace.analysis.probes.pair_report` gives); a pair is held out unless it is in
    ``built_from`` (either order). Each group is sorted by gap, largest first, so the pairs the
    direction fails on are at the bottom of their group.

    Examples
    --------
    >>> [(r.high, r.held_out) for r in pair_rows([("dogs", "dog", 0.2, 0.1), ("cats", "cat", 0.5, 0.0),
    ...                                            ("cars", "car", 0.9, 0.0)], built_from=[("cats", "cat")])]
    [('cats', False), ('cars', True), ('dogs', True)]
    """
    used = {frozenset(pair) for pair in built_from}
    made = [PairRow(h, lo, float(hs), float(ls), frozenset((h, lo)) not in used) for h, lo, hs, ls in rows]
    return sorted(made, key=lambda r: (r.held_out, -r.gap))


def pair_groups(rows: Sequence[PairRow], extra: Sequence[tuple[str, float]] = (),
                extra_name: str = "other words") -> list[tuple[str, list]]:
    """The headed groups of a pair chart, top to bottom: (heading, members).

    The members are :class:`PairRow` s (the pairs the direction was built from, then the held-out
    ones; each heading says how many of its pairs the high member wins), then the ``extra`` words
    under ``extra_name``.

    Examples
    --------
    >>> rows = pair_rows([("dogs", "dog", 0.2, 0.3), ("cats", "cat", 0.5, 0.0)], built_from=[("cats", "cat")])
    >>> [(heading, len(members)) for heading, members in pair_groups(rows, [("one", 0.1)], "numbers")]
    [('built from (1 of 1 wins)', 1), ('held out (0 of 1 wins)', 1), ('numbers', 1)]
    """
    built = [r for r in rows if not r.held_out]
    held = [r for r in rows if r.held_out]
    groups = []
    for name, members in (("built from", built), ("held out", held)):
        if members:
            wins = sum(r.wins for r in members)
            groups.append((f"{name} ({wins} of {len(members)} win{'s' if len(members) == 1 else ''})", members))
    if extra:
        groups.append((extra_name, [word for word, _ in extra]))
    return groups
