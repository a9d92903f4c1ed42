"""The one thread policy: how many BLAS threads a matrix product should get, how many threads a batch
is split over, and the pool (:class:`Workers`) that runs the parts, owned and closed by its opener.

On a machine with few cores that other processes share, a small product that OpenBLAS spreads
over every core waits for a core that is busy: on a 2-core machine a 0.013 ms product took
6.7 ms with 2 threads while the other core ran something else. So:

- a product estimated to take under ``PARALLEL_AFTER_S`` on one thread runs on one thread;
- a larger one runs on every core. Its share on a busy core runs at half speed until the scheduler
  moves it to the core that finished first, so it costs less than 2x its time on an idle machine,
  and less than one thread would take (measured: on 2 busy cores, 2 threads took 0.7x the time of 1).

threadpoolctl is imported inside the functions, so importing this module costs nothing.

Examples
--------
>>> import numpy as np
>>> threads_for(2 * 300 * 300)
1
>>> with blas_threads_for(2 * 300 * 300):
...     float(np.ones(300, dtype=np.float32) @ np.ones(300, dtype=np.float32))
300.0
"""
from __future__ import annotations

import contextlib
import itertools
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

# A product estimated to take less than this on one thread stays on one thread: 20 ms is several
# scheduler time slices (3-6 ms), so a thread parked behind a busy core cannot dominate a larger one.
PARALLEL_AFTER_S = 0.020
CORE_FLOPS_PER_S = 30e9  # a conservative float32 rate of one core (AVX2/AVX-512 sgemm)
CORE_BYTES_PER_S = 10e9  # a conservative memory bandwidth of one core (what a matrix-vector product needs)
# A batch whose largest product is estimated under this on one thread is not split over threads:
# handing work to another thread costs tens of microseconds. The caller takes over any part no other
# thread has started (Workers.map), so a busy core costs at most the one-thread time, and the threshold
# can be this low (a 13-token MiniLM sentence's largest product is estimated at 0.5 ms).
SPLIT_AFTER_S = 0.0002

# The one module-level object here, on purpose: a threadpoolctl controller is a view of the BLAS
# libraries loaded in this process (found once: a scan of the loaded shared objects costs ~1 ms, and
# limit_threads runs around every query). The thread count it sets belongs to those libraries, which
# are process-wide by nature; the controller holds no setting of its own and nothing a caller opens.
_controller = None


def cpu_count() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def one_thread_seconds(flops: float, nbytes: float = 0.0) -> float:
    """Estimated time of a product on one core: bound by arithmetic or by memory traffic."""
    return max(flops / CORE_FLOPS_PER_S, nbytes / CORE_BYTES_PER_S)


def threads_for(flops: float, nbytes: float = 0.0) -> int:
    """Threads a product of ``flops`` operations moving ``nbytes`` should use.

    1 when it is small (see :data:`PARALLEL_AFTER_S`), otherwise every core.

    Examples
    --------
    >>> threads_for(1e6)
    1
    >>> threads_for(1e12) == cpu_count()
    True
    """
    return 1 if one_thread_seconds(flops, nbytes) < PARALLEL_AFTER_S else cpu_count()


def matmul_flops(m: int, k: int, n: int) -> float:
    """Floating-point operations of an [m, k] @ [k, n] product (one multiply and one add each).

    Examples
    --------
    >>> matmul_flops(2, 3, 4)
    48.0
    """
    return 2.0 * m * k * n


def matmul_bytes(m: int, k: int, n: int, itemsize: int = 4) -> float:
    """Bytes an [m, k] @ [k, n] product reads and writes at least (each operand once).

    Examples
    --------
    >>> matmul_bytes(1, 300, 1000)
    1205200.0
    """
    return float(itemsize * (m * k + k * n + m * n))


def controller():
    """The threadpoolctl controller of this process's BLAS libraries (found on first use, see ``_controller``)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


def blas_threads() -> int:
    """Threads the BLAS libraries are set to now (the largest if several are loaded).

    Selecting the BLAS libraries once, with the controller, makes this 0.6 us instead of 10.6: it runs in
    every :func:`limit_threads`, twice per block of a sentence split in head groups.
    """
    return max((lib.num_threads for lib in controller().lib_controllers), default=1)


@contextlib.contextmanager
def limit_threads(n: int) -> Iterator[int]:
    """Run the block with BLAS limited to ``n`` threads; yields ``n``.

    Costs nothing when BLAS already uses ``n`` threads, so it can wrap every query.

    Raises
    ------
    ValueError
        If ``n`` is smaller than 1.
    """
    if n < 1:
        raise ValueError(f"a thread count must be at least 1, got {n}")
    if blas_threads() == n:
        yield n
        return
    with controller().limit(limits=n, user_api="blas"):
        log.debug("BLAS limited to %d thread(s)", n)
        yield n


def blas_threads_for(flops: float, nbytes: float = 0.0) -> contextlib.AbstractContextManager[int]:
    """Context manager giving BLAS the threads that a product of ``flops`` operations should use.

    Examples
    --------
    >>> with blas_threads_for(matmul_flops(1, 300, 30_000), matmul_bytes(1, 300, 30_000)) as n:
    ...     n
    1
    """
    return limit_threads(threads_for(flops, nbytes))


def workers_for(flops: float) -> int:
    """Threads a batch whose largest product takes ``flops`` operations should be split over.

    1 when that product is small (see :data:`SPLIT_AFTER_S`), otherwise one per core. A batch
    of several rows is split into row groups (:func:`row_groups`, run by :meth:`Workers.map`), a
    single row's blocks into groups of heads and MLP columns (:class:`transformer.parallel.ParallelModel`).

    Examples
    --------
    >>> workers_for(1e3)
    1
    >>> workers_for(1e12) == cpu_count()
    True
    """
    return 1 if one_thread_seconds(flops) < SPLIT_AFTER_S else cpu_count()


def row_groups(n_rows: int, workers: int) -> list[slice]:
    """At most ``workers`` contiguous, nearly equal, non-empty slices covering rows 0..n_rows-1.

    Examples
    --------
    >>> row_groups(5, 2)
    [slice(0, 2, None), slice(2, 5, None)]
    >>> row_groups(1, 4)
    [slice(0, 1, None)]
    """
    workers = max(1, min(workers, n_rows))
    bounds = [n_rows * i // workers for i in range(workers + 1)]
    return [slice(start, stop) for start, stop in itertools.pairwise(bounds)]


class Workers:
    """Threads for work split into parts, owned by whoever opens them and closed when done.

    ``workers.map(fn, parts)`` is ``[fn(part) for part in parts]`` with the parts side by side, BLAS
    on one thread in each. With ``parts = row_groups(n_rows, workers.n)`` it is data parallelism
    for a batch: each thread runs the whole computation of its own rows, so the elementwise passes
    (GELU, LayerNorm, softmax) run on every core too, not only the matrix products BLAS threads would
    split; numpy releases the GIL in its ufunc loops and BLAS calls, so the threads run side by side. The calling thread runs the first part, then every part no pool thread
    has started yet, and waits only for parts already under way: a busy core never makes the caller
    wait for a thread that could not get a core (at worst the caller does all the work, as one
    thread would). The pool's threads start on first use and stop on :meth:`close` (or at the end
    of a ``with`` block).

    Parameters
    ----------
    n : int, optional
        How many parts may run at once, the calling thread included (default: :func:`cpu_count`).

    Examples
    --------
    >>> with Workers(2) as workers:
    ...     workers.map(lambda n: n * n, [1, 2, 3])
    ...     workers.map(lambda rows: (rows.start, rows.stop), row_groups(10, workers.n))
    [1, 4, 9]
    [(0, 5), (5, 10)]
    """

    def __init__(self, n: int | None = None):
        if n is not None and n < 1:
            raise ValueError(f"a thread count must be at least 1, got {n}")
        self.n = cpu_count() if n is None else n
        self._pool: ThreadPoolExecutor | None = None

    def __repr__(self) -> str:
        return f"Workers({self.n}, {'running' if self._pool is not None else 'idle'})"

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the pool's threads (after the parts under way); the object can be used again."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def map(self, fn: Callable[[object], object], parts: list) -> list:
        """``[fn(part) for part in parts]``, the parts side by side (see the class docstring)."""
        if len(parts) == 1 or self.n == 1:
            return [fn(part) for part in parts]
        if self._pool is None:
            # n threads, one more than the parts handed out at once (the caller runs one): on the shared
            # 2-core machine, a sentence split in 2 took a median 29.9 ms with a 1-thread pool, 13.7 ms
            # with 2 (40 alternating rounds), as with the former global pool of cpu_count() threads
            self._pool = ThreadPoolExecutor(max_workers=self.n, thread_name_prefix="embedspace-workers")
        with limit_threads(1):
            futures = [self._pool.submit(fn, part) for part in parts[1:]]
            results = [fn(parts[0])]
            for part, future in zip(parts[1:], futures, strict=True):
                results.append(fn(part) if future.cancel() else future.result())
            return results
