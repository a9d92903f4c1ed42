"""The interactive counterparts of the pictures: what a projection, an analogy, pairs along an axis, a
probe and a layer-drift chart become as :mod:`embedspace.viz.interactive` views.

A view and its picture share their geometry through :mod:`embedspace.viz.geometry` (the analogy's
plane, the pairs' named axis, the order of a pair chart's rows), so both show the same numbers.

Each builder returns a view (write it with :func:`embedspace.viz.interactive.write_page`, or put
its :func:`~embedspace.viz.interactive.view_fragment` in a report). The page says how the picture
was made: :func:`projection_details` lists a projection's method and parameters (seed, perplexity,
each component's share of the variance, the named axes).

Examples
--------
>>> space = Space(["a", "b", "c", "d"], np.eye(4, dtype=np.float32))
>>> from embedspace.viz.projections import project
>>> coords, pca = project(space, ["a", "b", "c", "d"], "pca", n_components=3)
>>> view = points_view(coords, ["a", "b", "c", "d"], pca, title="four words")
>>> view.dims, view.axis_labels[0].startswith("PC1"), dict(view.details)["method"]
(3, True, 'PCA (centred)')
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from embedspace.space import Space
from embedspace.viz.interactive import Arrow, Marker, ScatterView
from embedspace.viz.interactive_charts import BarChart, LineChart, PairChart
from embedspace.viz.page_parts import GREY, PALETTE


def percent(share: float) -> str:
    """``0.4123`` -> ``"41.2%"``."""
    return f"{100 * share:.1f}%"


def projection_details(projection) -> list[tuple[str, str]]:
    """The method and parameters of a fitted projection of :mod:`embedspace.viz.projections`, as (name, value).

    Examples
    --------
    >>> from embedspace.viz.projections import PCA
    >>> X = np.random.default_rng(0).normal(size=(20, 4)) * [3, 2, 1, 0.1]
    >>> [name for name, _ in projection_details(PCA(n_components=2, random_state=0).fit(X))]
    ['method', 'explained variance', 'seed', 'unit vectors']
    """
    from embedspace.viz.projections import PCA, TSNE, UMAP, NamedAxes

    kind = type(projection)
    if kind is PCA:
        ratios = projection.explained_variance_ratio_
        shares = ", ".join(f"PC{i + 1} {percent(r)}" for i, r in enumerate(ratios))
        method = "PCA (centred)" if projection.center else "PCA without centring (truncated SVD)"
        rows = [("method", method), ("explained variance", f"{shares}; together {percent(float(np.sum(ratios)))}")]
    elif kind is TSNE:
        asked = "" if projection.perplexity_ == projection.perplexity else f" (asked {projection.perplexity:g})"
        rows = [("method", "t-SNE (scikit-learn)"), ("perplexity", f"{projection.perplexity_:.3g}{asked}"),
                ("metric", projection.metric), ("iterations", str(projection.max_iter or "scikit-learn's default"))]
    elif kind is UMAP:
        rows = [("method", "UMAP (umap-learn)"), ("neighbours", str(projection.n_neighbors_)),
                ("min_dist", f"{projection.min_dist:g}"), ("metric", projection.metric)]
    elif kind is NamedAxes:
        rows = [("method", "named axes: each coordinate is a projection onto a unit direction"),
                ("axes", "; ".join(projection.labels_)),
                ("orthogonalised", "yes (Gram-Schmidt, in order)" if projection.orthogonalize else "no")]
    else:
        return [("method", kind.__name__)]
    if kind is not NamedAxes:
        rows.append(("seed", str(projection.random_state)))
    rows.append(("unit vectors", "yes (rows scaled to length 1 first)" if projection.normalize else "no"))
    return rows


def points_view(coords: np.ndarray, words: Sequence[str], projection=None, groups: Sequence[str] | None = None,
                title: str = "", caption: str = "", details: Sequence[tuple[str, str]] = (),
                arrows: Sequence[Arrow] = (), view_id: str = "points") -> ScatterView:
    """The interactive :func:`~embedspace.viz.plots.plot_points`: labelled words, coloured by group.

    ``projection`` (fitted, optional) names the axes and gives the method and parameters.
    """
    axis_labels = projection.axis_labels() if projection is not None else None
    described = (projection_details(projection) if projection is not None else []) + list(details)
    return ScatterView(coords, words, groups=groups, title=title or f"{len(words)} words", caption=caption,
                       axis_labels=axis_labels, details=described, arrows=arrows, view_id=view_id)


def analogy_view(space: Space, a: str, b: str, c: str, expected: str | None = None, title: str | None = None,
                 view_id: str = "analogy") -> ScatterView:
    """The interactive :func:`~embedspace.viz.plots.plot_analogy`, in 3D.

    The same plane as the picture (:func:`embedspace.viz.geometry.analogy_plane`: x along c − b,
    y along the part of a − b orthogonal to it, so the parallelogram is exact), and a third axis
    along the part of the expected word that lies off that plane. The page opens looking down
    that axis, which is the picture; rotating shows how far the expected word is from the plane.

    Examples
    --------
    >>> vectors = np.array([[1, 1, 0.1, 0], [1, 0, 0.1, 0], [0, 1, 0.1, 0.2], [0, 2, 0.2, 0.1]], dtype=np.float32)
    >>> view = analogy_view(Space(["king", "man", "woman", "queen"], vectors), "king", "man", "woman")
    >>> view.title, [m.label for m in view.markers]
    ('king − man + woman ≈ queen', ['king − man + woman: nearest queen (cosine 0.98)'])
    """
    from embedspace.viz.geometry import analogy_plane

    return analogy_plane_view(analogy_plane(space, a, b, c, expected), space.name, title=title, view_id=view_id)


def analogy_plane_view(plane, space_name: str = "", title: str | None = None,
                       view_id: str = "analogy") -> ScatterView:
    """:func:`analogy_view` of an :class:`~embedspace.viz.geometry.AnalogyPlane` already computed.

    Examples
    --------
    >>> from embedspace.viz.geometry import analogy_plane
    >>> vectors = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 0], [0, 1, 1]], dtype=np.float32)
    >>> plane = analogy_plane(Space(["king", "man", "woman", "queen"], vectors), "king", "man", "woman")
    >>> view = analogy_plane_view(plane, "toy", view_id="analogy-toy")
    >>> view.labels, np.allclose(view.markers[0].at, plane.star)
    (['man', 'woman', 'king', 'queen'], True)
    """
    a, b, c, expected, nearest, at = plane.a, plane.b, plane.c, plane.expected, plane.nearest, plane.at
    shown = list(dict.fromkeys([b, c, a, expected, nearest]))  # b first: its pair takes the first colour
    groups = [f"{b}, {c}" if w in (b, c) else f"{a}, {expected}" if w in (a, expected) else "nearest" for w in shown]
    arrows = [Arrow(at[b], at[c], PALETTE[0], label=f"{b} → {c} (length {plane.scale:.2f})"),
              Arrow(at[a], at[expected], PALETTE[1], label=f"{a} → {expected}"),
              Arrow(at[a], plane.star, GREY, dashed=True, label=f"{a} + ({c} − {b})")]
    marker = Marker(plane.star, f"{a} − {b} + {c}: nearest {nearest} (cosine {plane.score:.2f})")
    details = [("method", (f"the plane of the analogy: origin {b}, x along {c} − {b}, y along the part of {a} − {b} "
                          f"orthogonal to it, z along the part of {expected} off that plane (unit vectors, "
                          "the space's own lengths)")),
               ("star", f"{a} − {b} + {c} of unit vectors, as gensim's most_similar combines them"),
               ("distance", plane.statement),
               ("nearest", f"{nearest} (cosine {plane.score:.4f}; {a}, {b}, {c} left out)")]
    details += [("space", space_name)] if space_name else []
    return ScatterView(np.array([at[w] for w in shown]), shown, groups=groups,
                       title=title or f"{a} − {b} + {c} ≈ {nearest}",
                       caption=f"Opens on the plane of the analogy (the picture); drag to see how far {expected} "
                               f"lies off it. {plane.statement[0].upper()}{plane.statement[1:]}.",
                       axis_labels=plane.axis_labels, arrows=arrows, markers=[marker], details=details,
                       camera={"azimuth": 0, "elevation": 90, "fit": True}, view_id=view_id)


def pair_axes_view(placed, names: tuple[str, str] = ("low", "high"), title: str = "", caption: str = "",
                   details: Sequence[tuple[str, str]] = (), view_id: str = "pairs") -> ScatterView:
    """Word pairs along a named axis, an arrow from each low word to its high partner, in 3D.

    ``placed`` is a :class:`embedspace.viz.geometry.PairAxes` (what the picture draws too);
    ``names`` name the two members (``("male", "female")``), coloured as groups.

    Examples
    --------
    >>> from embedspace.viz.geometry import pair_axes
    >>> vectors = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)
    >>> placed = pair_axes(Space(["m1", "f1", "m2", "f2", "m3", "f3"], vectors), [("m1", "f1"), ("m2", "f2"), ("m3", "f3")])
    >>> view = pair_axes_view(placed, ("male", "female"))
    >>> len(view.arrows), view.axis_labels[0], dict(view.details)["mean cosine"] == placed.statement
    (3, 'mean pair difference', True)
    """
    arrows = [Arrow(start, end, GREY) for start, end in placed.arrows]
    described = [("method", (f"x: projection onto the unit {placed.axis_labels[0]}; y, z: the first two principal "
                            "components of the words once x is taken out")),
                 ("mean cosine", placed.statement), *details]
    return ScatterView(placed.coords, placed.words, groups=[names[0], names[1]] * len(placed.pairs),
                       title=title or f"{len(placed.pairs)} pairs", caption=caption,
                       axis_labels=placed.axis_labels, arrows=arrows, details=described, view_id=view_id)


def probe_view(words: Sequence[str], scores: Sequence[float], groups: Sequence[str] | None = None,
               title: str = "Words along a direction", xlabel: str = "projection onto the direction",
               details: Sequence[tuple[str, str]] = (), view_id: str = "probe") -> BarChart:
    """The interactive :func:`~embedspace.viz.plots.plot_probe`: sorted bars with a tooltip each."""
    return BarChart(words, scores, groups=groups, title=title, xlabel=xlabel, details=details, view_id=view_id)


def pairs_view(rows: Sequence, names: tuple[str, str] = ("high", "low"), extra: Sequence[tuple[str, float]] = (),
               extra_name: str = "other words", title: str = "Pairs along a direction",
               xlabel: str = "projection onto the direction", details: Sequence[tuple[str, str]] = (),
               view_id: str = "pairs") -> PairChart:
    """The interactive :func:`~embedspace.viz.plots.plot_pairs`: every pair on a row, with tooltips.

    ``rows`` come from :func:`embedspace.viz.geometry.pair_rows`, as for the picture.

    Examples
    --------
    >>> from embedspace.viz.geometry import pair_rows
    >>> chart = pairs_view(pair_rows([("cats", "cat", 0.5, 0.1), ("dogs", "dog", 0.2, 0.3)], [("cats", "cat")]),
    ...                    names=("plural", "singular"))
    >>> [(r.high, r.held_out, r.wins) for r in chart.rows]
    [('cats', False, True), ('dogs', True, False)]
    """
    return PairChart(rows, names=names, extra=extra, extra_name=extra_name, title=title, xlabel=xlabel,
                     details=details, view_id=view_id)


def drift_view(cosines: Mapping[str, Sequence[float]], title: str = "How the vector changes from layer to layer",
               details: Sequence[tuple[str, str]] = (), view_id: str = "drift") -> LineChart:
    """The interactive :func:`~embedspace.viz.plots.plot_layer_drift`: one line per series over the layers."""
    return LineChart(cosines, title=title, details=details, view_id=view_id)
