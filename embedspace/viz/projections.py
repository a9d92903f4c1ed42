"""Projections of word vectors to 2 or 3 dimensions, picked by name: :func:`project`, :func:`make_projection`.

- :class:`~embedspace.viz.layouts.PCA`, :class:`~embedspace.viz.layouts.TSNE`,
  :class:`~embedspace.viz.layouts.UMAP`: projections learned from the rows (:mod:`embedspace.viz.layouts`);
- :class:`~embedspace.viz.named_axes.NamedAxes`: each axis a direction you name
  (:mod:`embedspace.viz.named_axes`).

All four are importable from here too.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from embedspace.errors import InvalidInput
from embedspace.space import Space
from embedspace.viz.layouts import PCA, TSNE, UMAP, clip_perplexity
from embedspace.viz.named_axes import NamedAxes

__all__ = ["METHODS", "PCA", "TSNE", "UMAP", "NamedAxes", "clip_perplexity", "make_projection", "project"]

METHODS = ("pca", "tsne", "umap", "axes")


def make_projection(method: str, n_components: int = 2, axes: Sequence[str | np.ndarray] = (),
                    space: Space | None = None, random_state: int | None = 0, **options):
    """The projection called ``method`` (one of :data:`METHODS`), ready to fit.

    ``axes`` and ``space`` serve ``"axes"``; ``options`` go to the projection's constructor.
    """
    method = method.lower()
    if method == "pca":
        return PCA(n_components=n_components, random_state=random_state, **options)
    if method == "tsne":
        return TSNE(n_components=n_components, random_state=random_state, **options)
    if method == "umap":
        return UMAP(n_components=n_components, random_state=random_state, **options)
    if method == "axes":
        if not axes:
            raise InvalidInput("the 'axes' method needs axes, e.g. \"italy - germany\" \"hitler - germany\"")
        return NamedAxes(axes, space=space, random_state=random_state, **options)
    raise InvalidInput(f"unknown projection method {method!r}; choose one of {', '.join(METHODS)}")


def project(space: Space, words: Sequence[str], method: str = "pca", n_components: int = 2,
            axes: Sequence[str | np.ndarray] = (), random_state: int | None = 0, **options):
    """Coordinates [N, n_components] of ``words`` of ``space``, and the fitted projection.

    With ``method="axes"`` there is one coordinate per axis and ``n_components`` is ignored.

    Examples
    --------
    >>> space = Space(["a", "b", "c", "d"], np.eye(4, dtype=np.float32))
    >>> coords, pca = project(space, ["a", "b", "c"], "pca")
    >>> coords.shape, len(pca.axis_labels())
    ((3, 2), 2)
    """
    rows = space[list(words)]  # [N, D]; an unknown word raises, naming it
    projection = make_projection(method, n_components, axes=axes, space=space,
                                 random_state=random_state, **options)
    return projection.fit_transform(rows), projection
