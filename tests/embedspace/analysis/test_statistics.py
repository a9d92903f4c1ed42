"""numpy's Spearman and Pearson equal scipy.stats' (ties, NaN, constant inputs included)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from embedspace.analysis.statistics import average_ranks, pearson, spearman
from embedspace.errors import InvalidInput


def samples():
    """(x, y) pairs: continuous, with many ties, short, integer, reversed."""
    rng = np.random.default_rng(0)
    yield rng.normal(size=50), rng.normal(size=50)
    yield rng.integers(0, 5, size=40).astype(float), rng.integers(0, 3, size=40).astype(float)  # many ties
    yield np.arange(4), np.array([0.1, 0.5, 0.2, 0.9])
    yield np.array([1, 2, 2, 2, 3]), np.array([5, 4, 4, 1, 0])
    yield np.arange(10), -np.arange(10) ** 2
    yield rng.normal(size=1000).astype(np.float32), rng.normal(size=1000).astype(np.float32)
    yield np.array([3.0, 1.0]), np.array([1.0, 2.0])


@pytest.mark.parametrize("x, y", list(samples()))
def test_spearman_and_pearson_equal_scipy(x, y):
    x64, y64 = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)  # ours computes in float64
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x64, y64)[0], abs=1e-12)
    assert pearson(x, y) == pytest.approx(stats.pearsonr(x64, y64)[0], abs=1e-12)


@pytest.mark.parametrize("x, _", list(samples()))
def test_average_ranks_equal_scipy_rankdata(x, _):
    np.testing.assert_array_equal(average_ranks(x), stats.rankdata(x, method="average"))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # scipy warns about the constant input
@pytest.mark.parametrize("x, y", [
    (np.array([1.0, np.nan, 3.0]), np.array([1.0, 2.0, 3.0])),  # NaN propagates
    (np.array([2.0, 2.0, 2.0]), np.array([1.0, 2.0, 3.0])),  # constant input
])
def test_undefined_correlations_are_nan_as_in_scipy(x, y):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(stats.spearmanr(x, y)[0])
    assert np.isnan(spearman(x, y)) and np.isnan(pearson(x, y))


def test_one_value_is_nan_and_unequal_lengths_are_an_error():
    assert np.isnan(spearman([1.0], [2.0])) and np.isnan(pearson([1.0], [2.0]))
    with pytest.raises(InvalidInput, match="one length"):
        spearman([1, 2, 3], [1, 2])
