"""How many BLAS threads a matrix product should get.

On a machine with few cores that other processes share, a small product that OpenBLAS spreads
over every core waits for a core that is busy: on a 2-core machine a 0.013 ms product took
6.7 ms with 2 threads while the other core ran something else. Small products therefore run on
one thread, large ones on every core (a large product split over a busy core still finishes in
about the time one thread would take, while a free core almost halves it).

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

# Products below this many floating-point operations run on one thread. At ~30 GFLOP/s per core
# a product of 1e9 flops takes ~30 ms on one thread, several times a scheduler time slice (3-6 ms),
# so a thread parked behind a busy core can no longer dominate its cost.
SMALL_PRODUCT_FLOPS = 1e9

_controller = None


def cpu_count() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def threads_for(flops: float, small: float = SMALL_PRODUCT_FLOPS) -> int:
    """Threads a product of ``flops`` floating-point operations should use: 1 if small, else all cores.

    Examples
    --------
    >>> threads_for(1e6)
    1
    >>> threads_for(1e12) == cpu_count()
    True
    """
    return 1 if flops < small else cpu_count()


def matmul_flops(m: int, k: int, n: int) -> float:
    """Floating-point operations of an [m, k] @ [k, n] product (one multiply and one add each).

    Examples
    --------
    >>> matmul_flops(2, 3, 4)
    48.0
    """
    return 2.0 * m * k * n


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


def blas_threads_for(flops: float, small: float = SMALL_PRODUCT_FLOPS) -> contextlib.AbstractContextManager[int]:
    """Context manager giving BLAS the threads that a product of ``flops`` operations should use.

    Examples
    --------
    >>> with blas_threads_for(matmul_flops(1, 300, 30_000)) as n:
    ...     n
    1
    """
    return limit_threads(threads_for(flops, small))
