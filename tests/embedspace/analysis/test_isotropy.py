"""All-but-the-top against scikit-learn's PCA, and its effect on the shipped mini space."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from embedspace.analysis.geometry import typical_cosine
from embedspace.analysis.isotropy import remove_top, top_directions
from embedspace.errors import InvalidInput
from embedspace.space import Space


@pytest.fixture
def shared():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(600, 12)) * np.linspace(3, 0.5, 12) + 8 * rng.normal(size=12)  # one common offset
    return Space([f"w{i}" for i in range(600)], vectors.astype(np.float32), name="shared")


def test_the_directions_are_the_mean_and_pca_components(shared):
    found = top_directions(shared.vectors, 3)
    pca = PCA(n_components=3).fit(shared.vectors.astype(np.float64))
    np.testing.assert_allclose(found.mean, pca.mean_, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.abs(found.components @ pca.components_.T), np.eye(3), atol=1e-4)  # same up to sign


def test_removing_the_top_directions_is_the_pca_residual(shared):
    cleaned = remove_top(shared, 2)
    x = shared.vectors.astype(np.float64)
    pca = PCA(n_components=2).fit(x)
    centred = x - pca.mean_
    expected = centred - centred @ pca.components_.T @ pca.components_
    np.testing.assert_allclose(cleaned.vectors, expected, atol=1e-3)
    assert cleaned.postprocessing == "centred, top 2 directions removed (all-but-the-top)"
    assert cleaned.index_to_key == shared.index_to_key and cleaned.name == "shared"
    assert typical_cosine(shared) > 0.8 and abs(typical_cosine(cleaned)) < 0.05
    assert shared.postprocessing == ""  # the original is untouched


def test_a_number_of_directions_outside_the_dims_is_refused(shared):
    with pytest.raises(InvalidInput, match="0..11"):
        remove_top(shared, 12)


def test_the_shipped_mini_is_post_processed_by_default_and_raw_on_request():
    from embedspace.catalog import load_space
    from embedspace.io.mini_model import load_mini_model, mini_space

    default, raw = load_space("mini"), load_space("mini", remove_top=0)
    np.testing.assert_array_equal(raw.vectors, mini_space(load_mini_model()).vectors)
    np.testing.assert_allclose(default.vectors, remove_top(raw, 5).vectors, atol=1e-6)  # 128 dims: 5 directions
    assert raw.postprocessing == "" and "top 5 directions" in default.postprocessing
    assert typical_cosine(raw) > 0.8 and abs(typical_cosine(default)) < 0.05  # anisotropic, then not
