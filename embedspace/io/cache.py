"""The cache: each source read once, then reloaded as an instant memory map.

A cached space is a space folder (``vectors.npy`` float32, ``vocab.txt``, ``meta.json``; see
:mod:`embedspace.io.formats`) under :func:`cache_root`: ``$EMBEDSPACE_CACHE``, else the platform's user
cache folder (``~/.cache/embedspace`` on Linux). ``meta.json`` records the source's size, mtime and
a hash of its first and last MiB; when any of them differs the cache is stale and is rebuilt.
Caches are written atomically (a temporary folder renamed into place), so an interrupted run never
leaves a half-written cache behind.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embedspace.io.formats import (
    fill_space_dir,
    in_memory,
    read_space_dir,
    replace_dir,
    reserved_memmap,
    temporary_dir_beside,
)
from embedspace.paths import cache_root
from embedspace.space import Space

log = logging.getLogger(__name__)

Allocate = Callable[[tuple[int, int]], np.ndarray]  # shape -> a C-contiguous float32 array to fill
CACHE_VERSION = 1
SAMPLE_BYTES = 1 << 20  # the hash covers this much at each end of the source


def source_stamp(path: str | os.PathLike) -> dict:
    """Size, mtime (ns) and a blake2b hash of the first and last MiB of a file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "f"
    >>> _ = path.write_bytes(b"abc")
    >>> sorted(source_stamp(path))
    ['hash', 'mtime_ns', 'size']
    """
    status = os.stat(path)
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        digest.update(handle.read(SAMPLE_BYTES))
        if status.st_size > SAMPLE_BYTES:
            handle.seek(max(SAMPLE_BYTES, status.st_size - SAMPLE_BYTES))
            digest.update(handle.read(SAMPLE_BYTES))
    return {"size": status.st_size, "mtime_ns": status.st_mtime_ns, "hash": digest.hexdigest()}


def cache_folder(key: str) -> Path:
    """The folder of the cache entry named ``key``."""
    return cache_root() / key


def is_fresh(meta: dict, source: Path, extra: dict) -> bool:
    """True when ``meta`` describes the current state of ``source`` and the same ``extra`` settings."""
    return isinstance(meta, dict) and (meta.get("cache_version") == CACHE_VERSION and meta.get("source") == str(source)
            and meta.get("stamp") == source_stamp(source) and meta.get("settings") == extra)


def cached_space(source: str | os.PathLike, key: str, build: Callable[[Allocate], Space],
                 settings: dict | None = None, name: str | None = None) -> Space:
    """The space of ``source``: from the cache entry ``key`` when fresh, else ``build(allocate)``, cached.

    Parameters
    ----------
    source : path
        The file the space is read from; its size, mtime and hash decide freshness.
    key : str
        Name of the cache entry (a folder under :func:`cache_root`).
    build : callable
        ``build(allocate) -> Space``, called only when the cache is missing or stale. It may make
        its [V, D] float32 matrix with ``allocate((V, D))``: a memory map of the new cache entry, so
        the vectors reach the disk without a second copy.
    settings : dict, optional
        What else the space depends on (format, limit, ...); a change makes the cache stale.
    name : str, optional
        The returned space's name.

    Examples
    --------
    >>> import os, tempfile, pathlib, numpy as np
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> os.environ["EMBEDSPACE_CACHE"] = str(folder / "cache")
    >>> _ = (folder / "src").write_text("x")
    >>> build = lambda allocate: Space(["a", "b"], np.eye(2, dtype=np.float32))
    >>> cached_space(folder / "src", "demo", build).vectors.__class__.__name__  # built, then written
    'ndarray'
    >>> cached_space(folder / "src", "demo", build).vectors.__class__.__name__  # reloaded as a map
    'memmap'
    >>> del os.environ["EMBEDSPACE_CACHE"]
    """
    source = Path(source).resolve()
    settings = settings or {}
    folder = cache_folder(key)
    space = load_cached(folder, source, settings, name)
    if space is not None:
        return space
    log.info("building the cache of %s in %s", source, folder)
    stamp = source_stamp(source)
    try:
        temporary = temporary_dir_beside(folder)
    except OSError as error:
        log.warning("could not write the cache %s (%s); using the space uncached", folder, error)
        return build(in_memory)
    try:
        space = build(functools.partial(allocate_in, temporary / "vectors.npy"))
        meta = {"cache_version": CACHE_VERSION, "source": str(source), "stamp": stamp, "settings": settings,
                "count": len(space), "dim": space.dim, "origin": space.origin}
        try:
            fill_space_dir(temporary, space.index_to_key, space.vectors, meta)
            replace_dir(temporary, folder)
        except OSError as error:
            log.warning("could not write the cache %s (%s); using the space uncached", folder, error)
        return space
    finally:
        shutil.rmtree(temporary, ignore_errors=True)  # gone already, once renamed into place


def allocate_in(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """A float32 array of ``shape`` mapped onto the new file ``path``; in memory if the disk refuses."""
    try:
        return reserved_memmap(path, shape)
    except OSError as error:
        log.warning("could not make %s (%s); building the space in memory", path, error)
        return in_memory(shape)


def load_cached(folder: Path, source: Path, settings: dict, name: str | None) -> Space | None:
    """The cached space in ``folder`` if it is fresh for ``source``, else None."""
    try:
        meta = json.loads((folder / "meta.json").read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, OSError) as error:
        log.warning("ignoring a damaged cache %s (%s)", folder, error)
        return None
    if not is_fresh(meta, source, settings):
        log.info("the cache %s is stale; rebuilding it", folder)
        return None
    try:
        keys, vectors, meta = read_space_dir(folder)
    except (ValueError, OSError) as error:  # FormatError is a ValueError
        log.warning("ignoring a damaged cache %s (%s)", folder, error)
        return None
    return Space(keys, vectors, origin=meta.get("origin") or str(source), name=name, unique_keys=True)
