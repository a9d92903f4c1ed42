"""Learned projections of word vectors to 2 or 3 dimensions, scikit-learn style: PCA, t-SNE, UMAP.

Every projection stores its parameters in ``__init__`` (a dataclass's), learns in ``fit`` (which returns
``self``), keeps what it learned in attributes ending in ``_``, and maps rows with
``transform`` / ``fit_transform``. Inputs are arrays [N, D] or a :class:`~embedspace.space.Space`
(all of its rows).

- :class:`PCA`: the top principal components, as the classic 3D demos do: numpy's exact SVD for up to
  :data:`SMALL_PCA` rows (a plot's words: scikit-learn is not even imported), scikit-learn's PCA beyond.
- :class:`TSNE`: scikit-learn's t-SNE, with the perplexity clipped for few points.
- :class:`UMAP`: umap-learn (the optional extra ``embedspace[umap]``).

Directions you name are :mod:`embedspace.viz.named_axes`; :func:`embedspace.viz.projections.project`
picks a projection by name.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from embedspace.errors import InvalidInput, NotInstalled
from embedspace.space import Space, unit_rows
from runtime.threads import controller, limit_threads

log = logging.getLogger(__name__)

MIN_TSNE_POINTS = 4  # with fewer, t-SNE's neighbourhoods are meaningless
MIN_UMAP_POINTS = 4
SMALL_LAYOUT = 1000  # below this many points, PCA and t-SNE run BLAS on one thread (see layout_threads)
# Up to this many rows, PCA is numpy's exact SVD: importing scikit-learn (and scipy) took ~6 s of a 6-word
# `embedspace plot` on the busy 2-core machine; an exact SVD of [1000, 384] takes ~0.1 s on one thread.
SMALL_PCA = 1000


def as_matrix(X: np.ndarray | Space, normalize: bool = False) -> np.ndarray:
    """The rows of ``X`` as a float array [N, D] (a Space gives its vectors), unit length if ``normalize``."""
    rows = X.vectors if isinstance(X, Space) else np.asarray(X)
    if not np.issubdtype(rows.dtype, np.floating):
        rows = rows.astype(np.float64)
    if rows.ndim != 2:
        raise InvalidInput(f"expected a 2-D array [N, D] of vectors, got shape {rows.shape}")
    if not np.all(np.isfinite(rows)):
        raise InvalidInput("the vectors contain NaN or infinite values")
    return unit_rows(rows) if normalize else rows


@dataclass(eq=False)
class PCA:
    """The top principal components of the rows (numpy's SVD for a few rows, scikit-learn's PCA for many).

    Up to :data:`SMALL_PCA` rows the axes come from numpy's exact SVD, as scikit-learn's PCA computes
    them for small inputs (its "full" solver; the same axes up to sign, which :func:`fix_signs` fixes);
    beyond, scikit-learn's PCA (centred) or TruncatedSVD (not centred) with their own solvers.

    Parameters
    ----------
    n_components : int
        Output dimensions (2 or 3 for plots).
    center : bool
        Subtract the mean row first (true PCA, the top eigenvectors of the covariance).
        ``False`` keeps the origin: the top right singular vectors of the raw rows
        (scikit-learn's TruncatedSVD), which is what "directions from the origin" plots want.
    normalize : bool
        Scale every row to unit length before anything else (cosine geometry).
    random_state : int or None
        Seed for the randomized solvers (the result is deterministic for a given seed).

    Attributes
    ----------
    components_ : ndarray [n_components, D]
        Orthonormal axes, largest variance first.
    mean_ : ndarray [D]
        The mean subtracted (zeros when ``center=False``).
    explained_variance_ratio_ : ndarray [n_components]
        Share of the variance (of the second moment when not centring) along each axis.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 5)) * [10, 3, 1, 0.1, 0.1]
    >>> pca = PCA(n_components=2, random_state=0).fit(X)
    >>> pca.transform(X).shape, round(float(abs(pca.components_[0, 0])), 2)
    ((50, 2), 1.0)
    """

    n_components: int = 2
    center: bool = True
    normalize: bool = False
    random_state: int | None = None

    def fit(self, X, y=None) -> PCA:
        """Learn the axes from ``X`` [N, D]; returns ``self``."""
        rows = as_matrix(X, self.normalize)
        check_components(self.n_components, rows.shape)
        if not self.center and self.n_components >= rows.shape[1]:
            raise InvalidInput(f"PCA without centring needs n_components < {rows.shape[1]} dimensions")
        with layout_threads(rows.shape[0]):
            if rows.shape[0] <= SMALL_PCA:
                self.mean_, components, self.explained_variance_ratio_ = svd_axes(rows, self.n_components,
                                                                                  self.center)
            else:
                model = self._fit_model(rows)
                components, self.explained_variance_ratio_ = model.components_, model.explained_variance_ratio_
        self.components_ = fix_signs(components)
        return self

    def _fit_model(self, rows: np.ndarray):
        """scikit-learn's PCA (centred) or TruncatedSVD (not centred), fitted; sets ``mean_``."""
        if self.center:
            from sklearn.decomposition import PCA as SkPCA

            model = SkPCA(n_components=self.n_components, random_state=self.random_state).fit(rows)
            self.mean_ = model.mean_
            return model
        from sklearn.decomposition import TruncatedSVD

        model = TruncatedSVD(n_components=self.n_components, algorithm="arpack",
                             random_state=self.random_state).fit(rows)
        self.mean_ = np.zeros(rows.shape[1], dtype=rows.dtype)
        return model

    def transform(self, X) -> np.ndarray:
        """Coordinates of the rows of ``X`` along the learned axes: [N, D] -> [N, n_components]."""
        rows = as_matrix(X, self.normalize)
        return (rows - self.mean_) @ self.components_.T  # [N, D] @ [D, k]

    def fit_transform(self, X, y=None) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def axis_labels(self) -> list[str]:
        """``["PC1 (41%)", ...]``: the axes with their share of the variance."""
        return [f"PC{i + 1} ({ratio:.0%})" for i, ratio in enumerate(self.explained_variance_ratio_)]


def svd_axes(rows: np.ndarray, k: int, center: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean [D], axes [k, D], explained ratios [k])`` of ``rows`` [N, D] by numpy's exact SVD.

    Centred: the ratios are the axes' share of the variance (scikit-learn's PCA). Not centred: the
    mean is zeros and the ratios are the variance of the coordinates along each axis over the total
    variance of the rows (scikit-learn's TruncatedSVD). The axes' signs are LAPACK's.

    Examples
    --------
    >>> X = np.array([[0., 0.], [2., 1.], [4., 2.]])
    >>> mean, axes, ratios = svd_axes(X, 1)
    >>> mean, np.abs(axes).round(3), ratios.round(6)
    (array([2., 1.]), array([[0.894, 0.447]]), array([1.]))
    """
    mean = rows.mean(axis=0) if center else np.zeros(rows.shape[1], dtype=rows.dtype)  # [D]
    centred = rows - mean  # [N, D]
    _, singular, right = np.linalg.svd(centred, full_matrices=False)  # [min(N, D)], [min(N, D), D]
    axes = right[:k]  # [k, D]
    if center:
        shares = singular[:k] ** 2, np.sum(singular**2)
    else:
        shares = np.var(centred @ axes.T, axis=0), np.sum(np.var(rows, axis=0))  # [N, D] @ [D, k] -> [N, k]
    variance, total = shares
    ratios = variance / total if total > 0 else np.zeros_like(variance)
    return mean, axes, ratios


def fix_signs(components: np.ndarray) -> np.ndarray:
    """Flip each axis [k, D] so its largest-magnitude entry is positive (a deterministic sign)."""
    biggest = components[np.arange(components.shape[0]), np.argmax(np.abs(components), axis=1)]
    return components * np.where(biggest < 0, -1.0, 1.0)[:, None]


def check_components(n_components: int, shape: tuple[int, int]) -> None:
    """Raise :class:`InvalidInput` when ``n_components`` cannot be learned from ``shape`` [N, D]."""
    n, d = shape
    if n_components < 1:
        raise InvalidInput(f"n_components must be at least 1, got {n_components}")
    if n_components > min(n, d):
        raise InvalidInput(f"PCA to {n_components} dimensions needs at least {n_components} words of at least "
                         f"{n_components} dimensions; got {n} of {d}")


def numbered_labels(name: str, n: int) -> list[str]:
    """``["t-SNE 1", "t-SNE 2"]`` for ``name="t-SNE"``, ``n=2``."""
    return [f"{name} {i + 1}" for i in range(n)]


class Layout:
    """What t-SNE and UMAP share: they place the fitted rows (``embedding_``) on axes of no meaning of their own."""

    label = "layout"

    def fit_transform(self, X, y=None) -> np.ndarray:
        """Fit and return the layout [N, n_components]."""
        return self.fit(X).embedding_

    def axis_labels(self) -> list[str]:
        """``["NAME 1", "NAME 2", ...]``: layout axes carry no meaning of their own."""
        return numbered_labels(self.label, self.n_components)


@dataclass(eq=False)
class TSNE(Layout):
    """t-SNE (wraps scikit-learn); the perplexity is clipped to suit few points.

    t-SNE places the rows it is fitted on and no others: :meth:`transform` accepts only
    the fitted rows.

    Parameters
    ----------
    n_components : int
        Output dimensions (2 or 3).
    perplexity : float
        Effective number of neighbours; clipped to ``(N - 1) / 3`` for N points (at least 1).
    metric : str
        ``"cosine"`` (the usual choice for word vectors) or ``"euclidean"``.
    normalize : bool
        Scale rows to unit length first.
    max_iter : int or None
        Optimisation steps (scikit-learn's default when None; at least 250).
    random_state : int or None
        Seed; a fixed seed gives the same layout.

    Attributes
    ----------
    embedding_ : ndarray [N, n_components]
    perplexity_ : float
        The perplexity actually used.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(12, 8))
    >>> tsne = TSNE(random_state=0, max_iter=250).fit(X)
    >>> tsne.embedding_.shape, tsne.perplexity_
    ((12, 2), 3.6666666666666665)
    """

    label = "t-SNE"
    n_components: int = 2
    perplexity: float = 30.0
    metric: str = "cosine"
    normalize: bool = False
    max_iter: int | None = None
    random_state: int | None = None

    def fit(self, X, y=None) -> TSNE:
        """Lay out the rows of ``X`` [N, D]; returns ``self``."""
        from sklearn.manifold import TSNE as SkTSNE

        rows = as_matrix(X, self.normalize)
        n = rows.shape[0]
        if n < MIN_TSNE_POINTS:
            raise InvalidInput(f"t-SNE needs at least {MIN_TSNE_POINTS} words, got {n}; use PCA for fewer")
        self.perplexity_ = clip_perplexity(self.perplexity, n)
        if self.perplexity_ != self.perplexity:
            log.info("t-SNE perplexity %s clipped to %.3g for %d points", self.perplexity, self.perplexity_, n)
        options = {} if self.max_iter is None else {"max_iter": self.max_iter}
        model = SkTSNE(n_components=self.n_components, perplexity=self.perplexity_, metric=self.metric,
                       init="pca", random_state=self.random_state, **options)
        with layout_threads(n):
            self.embedding_ = model.fit_transform(rows)
        self._fitted_rows = rows
        return self

    def transform(self, X) -> np.ndarray:
        """The layout of the fitted rows; t-SNE cannot place other rows (:class:`InvalidInput`)."""
        rows = as_matrix(X, self.normalize)
        if rows.shape != self._fitted_rows.shape or not np.array_equal(rows, self._fitted_rows):
            raise InvalidInput("t-SNE cannot place new points: call fit_transform on all of them together")
        return self.embedding_


@contextlib.contextmanager
def layout_threads(n_points: int) -> Iterator[None]:
    """One thread for a small projection (fewer than :data:`SMALL_LAYOUT` points); as it is for a large one.

    BLAS through :func:`runtime.threads.limit_threads`; OpenMP (t-SNE's gradient) through the same
    process-wide controller (:func:`runtime.threads.controller`), which ``limit_threads`` does not
    cover. On a few hundred points the threads spend their time waiting for each other: on the busy
    2-core machine one thread was 15-50x faster than the default for t-SNE and PCA of 50 words, and
    BLAS alone on one thread left a t-SNE of 300 points 7-13x slower than both.
    """
    if n_points >= SMALL_LAYOUT:
        yield
        return
    with limit_threads(1), controller().limit(limits=1, user_api="openmp"):
        yield


def clip_perplexity(perplexity: float, n_points: int) -> float:
    """The perplexity clipped to ``(n_points - 1) / 3`` (at least 1), as t-SNE needs.

    Examples
    --------
    >>> clip_perplexity(30, 1000), clip_perplexity(30, 10)
    (30, 3.0)
    """
    if perplexity <= 0:
        raise InvalidInput(f"perplexity must be positive, got {perplexity}")
    return min(perplexity, max((n_points - 1) / 3, 1.0))


@dataclass(eq=False)
class UMAP(Layout):
    """UMAP (wraps umap-learn, the optional extra ``pip install 'embedspace[umap]'``).

    Parameters
    ----------
    n_components : int
        Output dimensions.
    n_neighbors : int
        Neighbourhood size; clipped to N - 1 for N points.
    min_dist : float
        How tightly points may pack.
    metric : str
        ``"cosine"`` or ``"euclidean"``.
    normalize : bool
        Scale rows to unit length first.
    random_state : int or None
        Seed (a fixed seed makes umap-learn run single-threaded and reproducible).

    Attributes
    ----------
    embedding_ : ndarray [N, n_components]
    n_neighbors_ : int
        The neighbourhood size actually used.
    """

    label = "UMAP"
    n_components: int = 2
    n_neighbors: int = 15
    min_dist: float = 0.1
    metric: str = "cosine"
    normalize: bool = False
    random_state: int | None = None

    def fit(self, X, y=None) -> UMAP:
        """Learn the layout of ``X`` [N, D]; returns ``self``."""
        try:
            import umap
        except ImportError:
            raise NotInstalled("umap-learn", "umap") from None
        rows = as_matrix(X, self.normalize)
        if rows.shape[0] < MIN_UMAP_POINTS:
            raise InvalidInput(f"UMAP needs at least {MIN_UMAP_POINTS} words, got {rows.shape[0]}; use PCA")
        self.n_neighbors_ = max(2, min(self.n_neighbors, rows.shape[0] - 1))
        seeded = {} if self.random_state is None else {"n_jobs": 1}  # what a seed implies, said (no warning)
        self.model_ = umap.UMAP(n_components=self.n_components, n_neighbors=self.n_neighbors_,
                                min_dist=self.min_dist, metric=self.metric, random_state=self.random_state, **seeded)
        self.embedding_ = self.model_.fit_transform(rows)
        return self

    def transform(self, X) -> np.ndarray:
        """Place rows [N, D] in the learned layout -> [N, n_components]."""
        return self.model_.transform(as_matrix(X, self.normalize))
