"""PCA of a few rows is numpy's exact SVD: the same axes, ratios and coordinates as scikit-learn's, up to sign."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA as SkPCA
from sklearn.decomposition import TruncatedSVD

from embedspace.viz.layouts import PCA, SMALL_PCA, svd_axes


def rows(n: int, d: int, seed: int = 0, dtype=np.float32) -> np.ndarray:
    """Random rows [n, d] with a few strong directions (distinct variances, so the axes are well defined)."""
    rng = np.random.default_rng(seed)
    scales = np.geomspace(10, 0.1, d)
    return (rng.standard_normal((n, d)) * scales + rng.standard_normal(d)).astype(dtype)


def same_up_to_sign(a: np.ndarray, b: np.ndarray, atol: float) -> None:
    """Each row of ``a`` [k, D] equals the row of ``b`` or its negative."""
    signs = np.sign(np.sum(a * b, axis=1))[:, None]
    np.testing.assert_allclose(a, signs * b, atol=atol)


@pytest.mark.parametrize("n, d, k", [(6, 384, 2), (6, 384, 3), (50, 384, 3), (300, 240, 2), (SMALL_PCA, 128, 3),
                                     (4, 2, 2)])
def test_small_pca_equals_scikit_learn_up_to_sign(n, d, k):
    X = rows(n, d, seed=n + d)
    ours = PCA(n_components=k, random_state=0).fit(X)
    reference = SkPCA(n_components=k, svd_solver="full").fit(X)
    same_up_to_sign(ours.components_, reference.components_, atol=1e-4)
    np.testing.assert_allclose(ours.explained_variance_ratio_, reference.explained_variance_ratio_, rtol=1e-4)
    np.testing.assert_allclose(ours.mean_, reference.mean_, rtol=1e-5, atol=1e-5)
    coords, expected = ours.transform(X), reference.transform(X)  # [n, k] each
    same_up_to_sign(coords.T, expected.T, atol=1e-3 * np.abs(expected).max())


def test_small_pca_without_centring_equals_truncated_svd():
    X = rows(40, 64, seed=3) + 5.0  # far from the origin: centring matters
    ours = PCA(n_components=2, center=False).fit(X)
    reference = TruncatedSVD(n_components=2, algorithm="arpack", random_state=0).fit(X)
    same_up_to_sign(ours.components_, reference.components_, atol=1e-4)
    np.testing.assert_allclose(ours.explained_variance_ratio_, reference.explained_variance_ratio_, rtol=1e-4)
    assert not ours.mean_.any()


def test_small_and_large_paths_agree_at_the_boundary():
    # SMALL_PCA + 1 rows go to scikit-learn; the axes must be the same as numpy's on the first SMALL_PCA + 1 rows
    X = rows(SMALL_PCA + 1, 32, seed=11, dtype=np.float64)
    large = PCA(n_components=3, random_state=0).fit(X)
    mean, axes, ratios = svd_axes(X, 3)
    same_up_to_sign(large.components_, axes, atol=1e-6)
    np.testing.assert_allclose(large.explained_variance_ratio_, ratios, rtol=1e-6)
    np.testing.assert_allclose(large.mean_, mean, rtol=1e-12)


def test_small_pca_signs_are_deterministic():
    X = rows(30, 16, seed=5)
    a = PCA(n_components=3).fit(X).components_
    b = PCA(n_components=3).fit(X[::-1]).components_
    np.testing.assert_allclose(a, b, atol=1e-5)
    biggest = a[np.arange(3), np.argmax(np.abs(a), axis=1)]
    assert (biggest > 0).all()
