"""Projections: shapes, invariances, and agreement with plain numpy linear algebra."""
import sys

import numpy as np
import pytest

from embedspace.analysis.probes import direction_from_pairs
from embedspace.errors import NotInstalled, UnknownKeyError
from embedspace.space import Space
from embedspace.viz.layouts import PCA, TSNE, UMAP, clip_perplexity
from embedspace.viz.named_axes import NamedAxes
from embedspace.viz.projections import project


def random_rotation(dim: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(dim, dim)))
    return q * np.sign(np.diag(r))


def align_signs(coords: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Flip each column of coords to agree in sign with the same column of reference."""
    return coords * np.sign(np.sum(coords * reference, axis=0))


@pytest.fixture
def data():
    # anisotropic cloud: clear, well-separated variances along 3 hidden axes
    rng = np.random.default_rng(1)
    return rng.normal(size=(40, 10)) * np.array([8, 4, 2, 0.5, 0.4, 0.3, 0.2, 0.2, 0.1, 0.1])


@pytest.fixture
def planted():
    """A space where 'hot' and 'cold' differ only along a hidden direction u, and
    every other word sits at a known coordinate t along u (plus noise orthogonal to u)."""
    rng = np.random.default_rng(7)
    dim = 16
    u = rng.normal(size=dim)
    u /= np.linalg.norm(u)
    def orthogonal_noise(scale):
        v = rng.normal(size=dim) * scale
        return v - (v @ u) * u
    centre = orthogonal_noise(1.0)
    keys = ["hot", "cold"] + [f"w{i}" for i in range(10)]
    t = np.linspace(-2, 2, 10)
    rows = [centre + u, centre - u] + [orthogonal_noise(0.5) + ti * u for ti in t]
    return Space(keys, np.array(rows, dtype=np.float32)), u, t


def test_pca_matches_the_top_eigenvectors_of_the_covariance(data):
    pca = PCA(n_components=3, random_state=0).fit(data)
    centred = data - data.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(centred.T))
    top = eigenvectors[:, ::-1][:, :3].T  # [3, D], largest first
    assert pca.components_.shape == (3, 10)
    np.testing.assert_allclose(np.abs(np.sum(pca.components_ * top, axis=1)), 1.0, atol=1e-6)
    np.testing.assert_allclose(pca.explained_variance_ratio_, eigenvalues[::-1][:3] / eigenvalues.sum(), rtol=1e-6)
    np.testing.assert_allclose(pca.transform(data), centred @ pca.components_.T, atol=1e-9)
    assert pca.axis_labels()[0].startswith("PC1 (")


def test_pca_coordinates_are_unchanged_by_a_rotation_of_the_data(data):
    coords = PCA(n_components=2, random_state=0).fit_transform(data)
    rotated = data @ random_rotation(10, seed=3)
    rotated_coords = PCA(n_components=2, random_state=0).fit_transform(rotated)
    np.testing.assert_allclose(align_signs(rotated_coords, coords), coords, atol=1e-8)


def test_pca_with_normalize_ignores_the_length_of_each_row(data):
    scales = np.random.default_rng(2).uniform(0.1, 10, size=(len(data), 1))
    a = PCA(normalize=True, random_state=0).fit_transform(data)
    b = PCA(normalize=True, random_state=0).fit_transform(data * scales)
    np.testing.assert_allclose(a, b, atol=1e-8)
    unnormalized = PCA(random_state=0).fit_transform(data * scales)
    assert not np.allclose(np.abs(unnormalized), np.abs(PCA(random_state=0).fit_transform(data)), atol=1e-3)


def test_pca_without_centring_uses_the_top_singular_vectors_of_the_raw_rows(data):
    shifted = data + 5.0  # a mean far from the origin dominates the uncentred second moment
    pca = PCA(n_components=2, center=False, random_state=0).fit(shifted)
    _, _, vt = np.linalg.svd(shifted, full_matrices=False)
    np.testing.assert_allclose(np.abs(np.sum(pca.components_ * vt[:2], axis=1)), 1.0, atol=1e-6)
    np.testing.assert_array_equal(pca.mean_, 0)


def test_pca_signs_are_deterministic(data):
    a = PCA(random_state=0).fit(data).components_
    b = PCA(random_state=5).fit(data[::-1]).components_
    np.testing.assert_allclose(a, b, atol=1e-8)


def test_pca_refuses_more_components_than_points():
    with pytest.raises(ValueError, match="PCA to 3 dimensions needs at least 3 words .*; got 2 of 5"):
        PCA(n_components=3).fit(np.ones((2, 5)))


def test_pca_rejects_non_finite_values():
    bad = np.ones((4, 3))
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        PCA().fit(bad)


def test_tsne_shape_and_reproducibility(data):
    a = TSNE(n_components=2, random_state=0, max_iter=250).fit_transform(data[:30])
    b = TSNE(n_components=2, random_state=0, max_iter=250).fit_transform(data[:30])
    assert a.shape == (30, 2)
    np.testing.assert_array_equal(a, b)


def test_tsne_clips_perplexity_and_keeps_the_fitted_rows_only(data):
    tsne = TSNE(perplexity=30, random_state=0, max_iter=250, metric="euclidean").fit(data[:10])
    assert tsne.perplexity_ == pytest.approx(3.0)
    np.testing.assert_array_equal(tsne.transform(data[:10]), tsne.embedding_)
    with pytest.raises(ValueError, match="cannot place new points"):
        tsne.transform(data[10:20])


def test_tsne_names_the_minimum_number_of_words(data):
    with pytest.raises(ValueError, match="at least 4 words, got 3"):
        TSNE().fit(data[:3])
    with pytest.raises(ValueError, match="positive"):
        clip_perplexity(0, 10)


def test_umap_missing_names_the_install(monkeypatch, data):
    monkeypatch.setitem(sys.modules, "umap", None)  # import umap now raises ImportError
    with pytest.raises(NotInstalled, match=r"pip install 'embedspace\[umap\]'"):
        UMAP().fit(data)


def test_named_axes_recover_a_planted_direction(planted):
    space, u, t = planted
    axes = NamedAxes(["hot - cold"], space=space).fit()
    np.testing.assert_allclose(np.abs(axes.directions_[0] @ u), 1.0, atol=1e-6)
    coords = axes.transform(space[[f"w{i}" for i in range(10)]])
    np.testing.assert_allclose(coords[:, 0], t, atol=1e-5)  # hot - cold points along +u


def test_named_axes_accept_probe_directions(planted):
    space, _, t = planted
    direction = direction_from_pairs(space, [("hot", "cold")])
    axes = NamedAxes([direction], space=space).fit()
    assert axes.labels_ == ["hot - cold"]
    np.testing.assert_allclose(axes.transform(space[["w4"]])[0, 0], t[4], atol=1e-5)


def test_named_axes_accept_vectors_and_words(planted):
    space, u, t = planted
    axes = NamedAxes([u * 3.0, "hot"], space=space).fit()
    assert axes.labels_ == ["axis 1", "hot"]
    np.testing.assert_allclose(np.linalg.norm(axes.directions_, axis=1), 1.0)
    np.testing.assert_allclose(axes.transform(space[["w0"]])[0, 0], t[0], atol=1e-5)
    expected_hot = space["w0"] @ space["hot"] / np.linalg.norm(space["hot"])
    np.testing.assert_allclose(axes.transform(space[["w0"]])[0, 1], expected_hot, rtol=1e-5)


def test_orthogonalised_axes_are_orthonormal_and_keep_the_first(planted):
    space, _, _ = planted
    names = ["hot - cold", "hot", "w3 - w1"]
    plain = NamedAxes(names, space=space).fit().directions_
    ortho = NamedAxes(names, space=space, orthogonalize=True).fit().directions_
    np.testing.assert_allclose(ortho @ ortho.T, np.eye(3), atol=1e-10)
    np.testing.assert_allclose(ortho[0], plain[0], atol=1e-12)
    assert abs(plain[0] @ plain[2]) > 0.1  # the unorthogonalised axes were not orthogonal
    # the orthogonalised axes span the same space as the given ones
    np.testing.assert_allclose(plain @ ortho.T @ ortho, plain, atol=1e-10)


def test_orthogonalising_a_dependent_axis_names_it(planted):
    space, u, _ = planted
    with pytest.raises(ValueError, match="'axis 2' lies along the earlier axes"):
        NamedAxes([u, -2 * u], space=space, orthogonalize=True).fit()


def test_named_axes_bad_input(planted):
    space, _, _ = planted
    with pytest.raises(ValueError, match="give a space"):
        NamedAxes(["hot - cold"]).fit()
    with pytest.raises(UnknownKeyError, match="did you mean: hot"):
        NamedAxes(["hott - cold"], space=space).fit()
    with pytest.raises(ValueError, match="at least one axis"):
        NamedAxes([], space=space).fit()
    with pytest.raises(ValueError, match="cancel out"):
        NamedAxes(["hot - hot"], space=space).fit()
    with pytest.raises(ValueError, match="zero vector"):
        NamedAxes([np.zeros(16)], space=space).fit()
    axes = NamedAxes(["hot"], space=space).fit()
    with pytest.raises(ValueError, match="16"):
        axes.transform(np.ones((2, 5)))


@pytest.mark.parametrize("text", ["hot - - cold", "hot cold", "hot -", "", "2 * * hot"])
def test_malformed_axis_text_is_refused(planted, text):
    space, _, _ = planted
    with pytest.raises(ValueError):
        NamedAxes([text], space=space).fit()


def test_project_picks_the_method_by_name(planted):
    space, _, _ = planted
    words = [f"w{i}" for i in range(10)]
    coords, pca = project(space, words, "pca", n_components=3)
    assert coords.shape == (10, 3) and isinstance(pca, PCA)
    coords, axes = project(space, words, "axes", axes=["hot - cold", "w1 - w0"])
    assert coords.shape == (10, 2) and axes.axis_labels() == ["hot - cold", "w1 - w0"]
    with pytest.raises(ValueError, match="unknown projection method 'mds'"):
        project(space, words, "mds")
    with pytest.raises(ValueError, match="needs axes"):
        project(space, words, "axes")
    with pytest.raises(UnknownKeyError):
        project(space, ["w1", "nope"], "pca")


class RecordingUMAP:
    """Stands in for umap.UMAP to check what our wrapper passes to it (umap-learn is optional)."""

    def __init__(self, **params):
        self.params = params

    def fit_transform(self, rows):
        self.fitted = rows
        return rows[:, : self.params["n_components"]] * 2.0

    def transform(self, rows):
        return rows[:, : self.params["n_components"]] * 2.0


def test_umap_wrapper_clips_neighbours_and_passes_its_parameters(monkeypatch, data):
    monkeypatch.setitem(sys.modules, "umap", type(sys)("umap"))
    monkeypatch.setattr(sys.modules["umap"], "UMAP", RecordingUMAP, raising=False)
    umap = UMAP(n_components=3, n_neighbors=15, normalize=True, random_state=4).fit(data[:6])
    assert umap.n_neighbors_ == 5
    assert umap.model_.params == {"n_components": 3, "n_neighbors": 5, "min_dist": 0.1, "metric": "cosine",
                                  "random_state": 4, "n_jobs": 1}     # umap-learn warns when a seed overrides n_jobs
    assert "n_jobs" not in UMAP(random_state=None).fit(data[:6]).model_.params
    np.testing.assert_allclose(np.linalg.norm(umap.model_.fitted, axis=1), 1.0)
    assert umap.embedding_.shape == (6, 3) and umap.transform(data[6:9]).shape == (3, 3)
    assert umap.axis_labels() == ["UMAP 1", "UMAP 2", "UMAP 3"]
    with pytest.raises(ValueError, match="at least 4 words"):
        UMAP().fit(data[:3])


def test_umap_with_the_real_umap_learn_when_the_extra_is_installed(data):
    pytest.importorskip("umap")                      # only where 'embedspace[umap]' is installed
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a seeded run must not warn about n_jobs
        first = UMAP(n_neighbors=5, random_state=3).fit_transform(data[:12])
    again = UMAP(n_neighbors=5, random_state=3).fit_transform(data[:12])
    assert first.shape == (12, 2) and np.isfinite(first).all()
    np.testing.assert_allclose(first, again)         # a seed gives the same layout
