"""runtime.threads: small products on one BLAS thread, large ones on every core."""
import numpy as np
import pytest

from runtime import threads


def test_small_product_runs_on_one_thread_and_the_setting_is_restored():
    before = threads.blas_threads()
    with threads.blas_threads_for(threads.matmul_flops(1, 300, 30_000), threads.matmul_bytes(1, 300, 30_000)) as n:
        assert n == 1
        assert threads.blas_threads() == 1
    assert threads.blas_threads() == before


def test_large_product_gets_every_core():
    with threads.limit_threads(1):
        with threads.blas_threads_for(threads.matmul_flops(20_000, 300, 30_000)) as n:
            assert n == threads.cpu_count()
            assert threads.blas_threads() == threads.cpu_count()
        assert threads.blas_threads() == 1


def test_threshold_counts_arithmetic_and_memory_traffic():
    limit = threads.PARALLEL_AFTER_S
    assert threads.threads_for(0.99 * limit * threads.CORE_FLOPS_PER_S) == 1
    assert threads.threads_for(1.01 * limit * threads.CORE_FLOPS_PER_S) == threads.cpu_count()
    # a matrix-vector product over 3 M x 300 floats is cheap in flops but reads 3.6 GB
    assert threads.threads_for(threads.matmul_flops(3_000_000, 300, 1),
                               threads.matmul_bytes(3_000_000, 300, 1)) == threads.cpu_count()


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
    with pytest.raises(RuntimeError), threads.limit_threads(1):
        raise RuntimeError("boom")
    assert threads.blas_threads() == before


@pytest.mark.parametrize("n", [0, -2])
def test_bad_thread_count_is_a_value_error(n):
    with pytest.raises(ValueError, match="at least 1"), threads.limit_threads(n):
        pass


@pytest.mark.parametrize("n_rows, workers", [(10, 2), (3, 8), (1, 2), (7, 3)])
def test_row_groups_cover_every_row_once_in_order(n_rows, workers):
    groups = threads.row_groups(n_rows, workers)
    assert len(groups) == min(n_rows, workers)
    assert [row for rows in groups for row in range(rows.start, rows.stop)] == list(range(n_rows))
    sizes = [rows.stop - rows.start for rows in groups]
    assert max(sizes) - min(sizes) <= 1


def test_parts_run_side_by_side_with_blas_on_one_thread():
    import threading

    before = threads.blas_threads()
    second_started = threading.Event()

    def part(rows):
        if rows.start == 0:                      # the caller's part waits until another thread runs part 2
            assert second_started.wait(timeout=30), "the second part never ran beside the first"
        else:
            second_started.set()
        return rows.start, threading.get_ident(), threads.blas_threads()

    with threads.Workers(2) as workers:
        seen = workers.map(part, threads.row_groups(4, workers.n))
    assert [start for start, _, _ in seen] == [0, 2]                  # results in row order
    assert seen[0][1] == threading.get_ident() != seen[1][1]          # the caller ran part 1, a pool thread part 2
    assert all(n == 1 for _, _, n in seen)
    assert threads.blas_threads() == before                           # restored afterwards


def test_the_caller_takes_over_parts_no_thread_has_started():
    import threading

    release = threading.Event()
    with threads.Workers(3) as workers:
        workers.map(lambda n: n, [0, 1])                              # make sure the pool exists
        blockers = [workers._pool.submit(release.wait, 30) for _ in range(workers.n)]
        try:                                                          # every pool thread is busy now
            idents = workers.map(lambda n: threading.get_ident(), [0, 1, 2])
            assert idents == [threading.get_ident()] * 3
        finally:
            release.set()
            for blocker in blockers:
                blocker.result()


def test_one_row_group_runs_in_the_calling_thread_untouched():
    import threading

    with threads.limit_threads(threads.cpu_count()), threads.Workers(1) as workers:
        [(ident, n)] = workers.map(lambda rows: (threading.get_ident(), threads.blas_threads()),
                                   threads.row_groups(5, workers.n))
    assert ident == threading.get_ident() and n == threads.cpu_count()


def test_an_error_in_a_row_group_reaches_the_caller():
    def fail(rows):
        raise ValueError(f"rows {rows.start}..{rows.stop} failed")

    with pytest.raises(ValueError, match="failed"), threads.Workers(2) as workers:
        workers.map(fail, threads.row_groups(4, workers.n))


def test_small_batches_are_not_split():
    small = 0.5 * threads.SPLIT_AFTER_S * threads.CORE_FLOPS_PER_S
    large = 2.0 * threads.SPLIT_AFTER_S * threads.CORE_FLOPS_PER_S
    assert threads.workers_for(small) == 1
    assert threads.workers_for(large) == threads.cpu_count()


def test_workers_threads_stop_on_close_and_start_again_on_use():
    import threading

    def pool_threads():
        return [t for t in threading.enumerate() if t.name.startswith("embedspace-workers")]

    before = len(pool_threads())
    workers = threads.Workers(2)
    assert repr(workers) == "Workers(2, idle)" and len(pool_threads()) == before   # no thread until first use
    with workers:
        assert workers.map(lambda n: n * n, [1, 2, 3]) == [1, 4, 9]
        assert repr(workers) == "Workers(2, running)"
    assert repr(workers) == "Workers(2, idle)" and len(pool_threads()) == before   # close() joined them
    assert workers.map(lambda n: -n, [1, 2]) == [-1, -2]                           # usable again
    workers.close()
    with pytest.raises(ValueError, match="at least 1"):
        threads.Workers(0)


def test_no_module_level_pool_remains():
    assert not hasattr(threads, "_pool") and not hasattr(threads, "run_parts")
