"""How many BLAS threads a matrix product should get.

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
import logging
import os
from collections.abc import Iterator

log = logging.getLogger(__name__)

# A product estimated to take less than this on one thread stays on one thread: 20 ms is several
# scheduler time slices (3-6 ms), so a thread parked behind a busy core cannot dominate a larger one.
PARALLEL_AFTER_S = 0.020
CORE_FLOPS_PER_S = 30e9  # a conservative float32 rate of one core (AVX2/AVX-512 sgemm)
CORE_BYTES_PER_S = 10e9  # a conservative memory bandwidth of one core (what a matrix-vector product needs)

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
    """The process-wide threadpoolctl controller (created on first use; finds the loaded BLAS)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def blas_threads() -> int:
    """Threads the BLAS libraries are set to now (the largest if several are loaded)."""
    libraries = controller().select(user_api="blas").lib_controllers
    return max((lib.num_threads for lib in libraries), default=1)


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
