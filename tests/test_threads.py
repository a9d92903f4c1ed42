"""transformer.threads: small products on one BLAS thread, large ones on every core."""
import numpy as np
import pytest

from transformer import threads


def test_small_product_runs_on_one_thread_and_the_setting_is_restored():
    before = threads.blas_threads()
    with threads.blas_threads_for(threads.matmul_flops(1, 300, 30_000)) as n:
        assert n == 1
        assert threads.blas_threads() == 1
    assert threads.blas_threads() == before


def test_large_product_gets_every_core():
    with threads.limit_threads(1):
        with threads.blas_threads_for(threads.matmul_flops(20_000, 300, 30_000)) as n:
            assert n == threads.cpu_count()
            assert threads.blas_threads() == threads.cpu_count()
        assert threads.blas_threads() == 1


def test_threshold_is_the_boundary():
    assert threads.threads_for(threads.SMALL_PRODUCT_FLOPS - 1) == 1
    assert threads.threads_for(threads.SMALL_PRODUCT_FLOPS) == threads.cpu_count()
    assert threads.threads_for(10, small=5) == threads.cpu_count()


def test_results_do_not_depend_on_the_thread_count():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((64, 300)), rng.standard_normal((300, 500))
    with threads.limit_threads(1):
        one = a @ b
    with threads.limit_threads(threads.cpu_count()):
        many = a @ b
    np.testing.assert_allclose(one, many, rtol=1e-12, atol=1e-12)


def test_limit_restored_after_an_exception():
    before = threads.blas_threads()
    with pytest.raises(RuntimeError):
        with threads.limit_threads(1):
            raise RuntimeError("boom")
    assert threads.blas_threads() == before


@pytest.mark.parametrize("n", [0, -2])
def test_bad_thread_count_is_a_value_error(n):
    with pytest.raises(ValueError, match="at least 1"):
        with threads.limit_threads(n):
            pass
