"""The cache: each source read once, then reloaded as an instant memory map.

A cached space is a space folder (``vectors.npy`` float32, ``vocab.txt``, ``meta.json``; see
:mod:`embedspace.formats`) under :func:`cache_root`: ``$EMBEDSPACE_CACHE``, else the platform's user
cache folder (``~/.cache/embedspace`` on Linux). ``meta.json`` records the source's size, mtime and
a hash of its first and last MiB; when any of them differs the cache is stale and is rebuilt.
Caches are written atomically (a temporary folder renamed into place), so an interrupted run never
leaves a half-written cache behind.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from embedspace.formats import read_space_dir, write_space_dir
from embedspace.space import Space

log = logging.getLogger(__name__)

CACHE_VERSION = 1
SAMPLE_BYTES = 1 << 20  # the hash covers this much at each end of the source


def cache_root() -> Path:
    """``$EMBEDSPACE_CACHE``, else the platform's user cache folder + ``embedspace``."""
    if os.environ.get("EMBEDSPACE_CACHE"):
        return Path(os.environ["EMBEDSPACE_CACHE"])
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "embedspace"


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


def cached_space(source: str | os.PathLike, key: str, build: Callable[[], Space], settings: dict | None = None,
                 name: str | None = None) -> Space:
    """The space of ``source``: from the cache entry ``key`` when fresh, else ``build()`` and cache it.

    Parameters
    ----------
    source : path
        The file the space is read from; its size, mtime and hash decide freshness.
    key : str
        Name of the cache entry (a folder under :func:`cache_root`).
    build : callable
        Makes the space from ``source`` (called only when the cache is missing or stale).
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
    >>> build = lambda: Space(["a", "b"], np.eye(2, dtype=np.float32))
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
    space = build()
    meta = {"cache_version": CACHE_VERSION, "source": str(source), "stamp": stamp, "settings": settings,
            "count": len(space), "dim": space.dim, "origin": space.origin}
    try:
        write_space_dir(folder, space.index_to_key, space.vectors, meta)
    except OSError as error:
        log.warning("could not write the cache %s (%s); using the space uncached", folder, error)
    return space


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
