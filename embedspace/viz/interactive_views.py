"""The interactive counterparts of the pictures: what a projection, an analogy, a probe and a
layer-drift chart become as :mod:`embedspace.viz.interactive` views.

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
from embedspace.viz.interactive import GREY, PALETTE, Arrow, Marker, ScatterView
from embedspace.viz.interactive_charts import BarChart, LineChart


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

    The same words, arrows and star as the picture, placed by the PCA of the same unit vectors; the
    first two components are the picture's plane (the page opens looking down the third), and
    rotating shows how far the parallelogram leaves that plane.

    Examples
    --------
    >>> vectors = np.array([[1, 1, 0.1, 0], [1, 0, 0.1, 0], [0, 1, 0.1, 0.2], [0, 2, 0.2, 0.1]], dtype=np.float32)
    >>> view = analogy_view(Space(["king", "man", "woman", "queen"], vectors), "king", "man", "woman")
    >>> view.title, [m.label for m in view.markers]
    ('king − man + woman ≈ queen', ['king − man + woman: nearest queen (cosine 0.98)'])
    """
    from embedspace.analysis.arithmetic import most_similar
    from embedspace.viz.projections import PCA

    nearest, score = most_similar(space, [a, c], [b], topn=1)[0]
    expected = expected or nearest
    shown = list(dict.fromkeys([b, c, a, expected, nearest]))  # b first: its pair takes the first colour
    unit = space.unit(shown)  # [W, D]
    target = unit[shown.index(a)] - unit[shown.index(b)] + unit[shown.index(c)]  # [D]: a + (c - b)
    rows = np.vstack([unit, target[None, :]])  # [W + 1, D]
    pca = PCA(n_components=min(3, space.dim, rows.shape[0]), random_state=0).fit(rows)
    coords = pca.transform(unit)  # [W, k]
    at = dict(zip(shown, coords))
    star = pca.transform(target[None, :])[0]
    pair_one, pair_two = f"{b} → {c}", f"{a} → {expected}"
    groups = [f"{b}, {c}" if w in (b, c) else f"{a}, {expected}" if w in (a, expected) else "nearest" for w in shown]
    arrows = [Arrow(at[b], at[c], PALETTE[0], label=pair_one), Arrow(at[a], at[expected], PALETTE[1], label=pair_two),
              Arrow(at[a], star, GREY, dashed=True, label=f"{a} + ({c} − {b})")]
    marker = Marker(star, f"{a} − {b} + {c}: nearest {nearest} (cosine {score:.2f})")
    details = [("method", "PCA of the unit vectors of these words and of the star"),
               ("explained variance", ", ".join(f"PC{i + 1} {percent(r)}"
                                                for i, r in enumerate(pca.explained_variance_ratio_))),
               ("star", f"{a} − {b} + {c} of unit vectors, as gensim's most_similar combines them"),
               ("nearest", f"{nearest} (cosine {score:.4f}; {a}, {b}, {c} left out)"), ("space", space.name)]
    return ScatterView(coords, shown, groups=groups, title=title or f"{a} − {b} + {c} ≈ {nearest}",
                       caption="Opens on the plane of the picture (PC1, PC2); drag to see the third component.",
                       axis_labels=pca.axis_labels(), arrows=arrows, markers=[marker], details=details,
                       camera={"azimuth": 0, "elevation": 90, "fit": True}, view_id=view_id)


def probe_view(words: Sequence[str], scores: Sequence[float], groups: Sequence[str] | None = None,
               title: str = "Words along a direction", xlabel: str = "projection onto the direction",
               details: Sequence[tuple[str, str]] = (), view_id: str = "probe") -> BarChart:
    """The interactive :func:`~embedspace.viz.plots.plot_probe`: sorted bars with a tooltip each."""
    return BarChart(words, scores, groups=groups, title=title, xlabel=xlabel, details=details, view_id=view_id)


def drift_view(cosines: Mapping[str, Sequence[float]], title: str = "How the vector changes from layer to layer",
               details: Sequence[tuple[str, str]] = (), view_id: str = "drift") -> LineChart:
    """The interactive :func:`~embedspace.viz.plots.plot_layer_drift`: one line per series over the layers."""
    return LineChart(cosines, title=title, details=details, view_id=view_id)
