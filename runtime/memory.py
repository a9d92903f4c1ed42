"""Memory: tuning for loops that allocate and free the same large arrays, and how much is left to allocate."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3   # glibc mallopt parameters
MMAP_THRESHOLD_MAX = 32 * 2**20                # glibc's ceiling on 64-bit systems


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed blocks for reuse instead of returning them to the OS.

    A training step allocates and frees the same activation arrays every time; by default blocks
    over the mmap threshold are unmapped and mapped again, and each new page is faulted in anew.
    Returns False (and changes nothing) where the C library is not glibc.
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX) and mallopt(M_TRIM_THRESHOLD, 2**30))


def available_memory() -> int | None:
    """Bytes this process can still allocate, or None where the system does not say.

    The smaller of Linux's ``MemAvailable`` (free memory plus what the page cache can give back)
    and, inside a container, the cgroup's limit less its usage. Elsewhere the free physical pages,
    as ``sysconf`` counts them. Used to refuse a run that cannot fit *before* it allocates.

    Examples
    --------
    >>> free = available_memory()
    >>> free is None or free > 0
    True
    """
    known = [n for n in (meminfo_available(), cgroup_available()) if n is not None]
    if known:
        return min(known)
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def meminfo_available(path: str = "/proc/meminfo") -> int | None:
    """``MemAvailable`` of /proc/meminfo in bytes (None where there is no such file)."""
    try:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def cgroup_available(root: str = "/sys/fs/cgroup") -> int | None:
    """The cgroup's memory limit less its usage, in bytes (v2, else v1); None without a limit."""
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            limit = (Path(root) / limit_file).read_text("ascii").strip()
            usage = int((Path(root) / usage_file).read_text("ascii").strip())
        except (OSError, ValueError):
            continue
        if limit == "max" or int(limit) >= 2**60:  # no limit (v1 reports a huge number)
            return None
        return max(0, int(limit) - usage)
    return None
