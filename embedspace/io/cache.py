"""The cache: each source read once, then reloaded as an instant memory map.

A cached space is a space folder (``vectors.npy`` float32, ``vocab.txt``, ``meta.json``; see
:mod:`embedspace.io.space_folder`) under :func:`cache_root`: ``$EMBEDSPACE_CACHE``, else the platform's
user cache folder (``~/.cache/embedspace`` on Linux).

Freshness: ``meta.json`` records the source's device and inode, size, mtime and ctime (ns) and a hash
of its first and last MiB; when any of them differs the entry is stale and is rebuilt. A file
rewritten in the middle with its mtime put back (``os.utime``) still has a new ctime, and one
replaced by a rename has a new inode. ``verify=True`` also compares a hash of the whole content
(computed then, and stored when the entry is built with it).

Trust: an entry is used only when it, and each of its files, is a real folder or file (not a link)
owned by this user and writable by no one else; another user's entry in a shared cache folder is
ignored (with a warning) and the space is built into an entry of this user's own, or used uncached.

Writes are atomic (:func:`runtime.files.atomic_folder`), so an interrupted run never leaves a
half-written entry; the temporary folder of a run that was killed is removed by a later build once
it has been untouched for an hour and its process is gone.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embedspace.io.checks import Allocate, in_memory
from embedspace.io.space_folder import FILES, fill_space_dir, read_space_dir, reserved_memmap
from embedspace.io.streams import open_regular
from embedspace.paths import cache_root
from embedspace.space import Space
from runtime.files import atomic_folder, default_file_mode, default_folder_mode, remove_stale_temporaries

log = logging.getLogger(__name__)

__all__ = ["Allocate", "cache_root", "cached_space", "source_stamp"]

CACHE_VERSION = 2
SAMPLE_BYTES = 1 << 20  # the quick hash covers this much at each end of the source
HASH_CHUNK = 1 << 22  # bytes hashed at a time by content_hash
PRIVATE_WRITE = 0o022  # group and others may not write to a cache entry
# temporary folders left by versions before atomic_folder: ".file-...-all.XXXXXXXX" (".old.XXXXXXXX" while replaced)
LEGACY_TEMPORARY = re.compile(r"^\.(?:file|minilm)-.+\.(?:old\.)?[a-z0-9_]{8}$")


def source_stamp(path: str | os.PathLike) -> dict:
    """Device, inode, size, mtime and ctime (ns), and a blake2b hash of the first and last MiB of a file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "f"
    >>> _ = path.write_bytes(b"abc")
    >>> sorted(source_stamp(path))
    ['ctime_ns', 'device', 'hash', 'inode', 'mtime_ns', 'size']
    """
    with open_regular(path) as handle:  # a FIFO or a device is refused, without blocking
        status = os.fstat(handle.fileno())
        digest = hashlib.blake2b(digest_size=16)
        digest.update(handle.read(SAMPLE_BYTES))
        if status.st_size > SAMPLE_BYTES:
            handle.seek(max(SAMPLE_BYTES, status.st_size - SAMPLE_BYTES))
            digest.update(handle.read(SAMPLE_BYTES))
    return {"device": status.st_dev, "inode": status.st_ino, "size": status.st_size,
            "mtime_ns": status.st_mtime_ns, "ctime_ns": status.st_ctime_ns, "hash": digest.hexdigest()}


def content_hash(path: str | os.PathLike) -> str:
    """A blake2b hash of the whole file (for ``verify=True``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "f"
    >>> _ = path.write_bytes(b"abc")
    >>> content_hash(path) == hashlib.blake2b(b"abc", digest_size=32).hexdigest()
    True
    """
    digest = hashlib.blake2b(digest_size=32)
    with open_regular(path) as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def cache_folder(key: str) -> Path:
    """The folder of the cache entry named ``key``."""
    return cache_root() / key


def is_fresh(meta: dict, source: Path, extra: dict, content: str | None = None) -> bool:
    """True when ``meta`` describes the current ``source`` (and its ``content`` hash, if given) and ``extra``."""
    return (isinstance(meta, dict) and meta.get("cache_version") == CACHE_VERSION
            and meta.get("source") == str(source) and meta.get("settings") == extra
            and meta.get("stamp") == source_stamp(source)
            and (content is None or meta.get("content_hash") == content))


def cached_space(source: str | os.PathLike, key: str, build: Callable[[Allocate], Space],
                 settings: dict | None = None, name: str | None = None, verify: bool = False) -> Space:
    """The space of ``source``: from the cache entry ``key`` when fresh, else ``build(allocate)``, cached.

    Parameters
    ----------
    source : path
        The file the space is read from; its identity, size, times and hash decide freshness.
    key : str
        Name of the cache entry (a folder under :func:`cache_root`).
    build : callable
        ``build(allocate) -> Space``, called only when the cache is missing or stale. It may make
        its [V, D] float32 matrix with ``allocate((V, D))``: a memory map of the new cache entry, so
        the vectors reach the disk without a second copy.
    settings : dict, optional
        What else the space depends on (format, limit, encoding, ...); a change makes the cache stale.
    name : str, optional
        The returned space's name.
    verify : bool
        Also hash the whole source and compare it with the hash the entry was built with (an entry
        built without ``verify`` has none, and is rebuilt).

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
    content = content_hash(source) if verify else None
    folder = trusted_folder(key)
    if folder is None:
        return build(in_memory)
    space = load_cached(folder, source, settings, name, content)
    if space is not None:
        return space
    log.info("building the cache of %s in %s", source, folder)
    stamp = source_stamp(source)
    remove_stale_temporaries(folder.parent)
    remove_stale_temporaries(folder.parent, pattern=LEGACY_TEMPORARY)
    phase = "open"  # an OSError while opening, writing or swapping in the entry only costs the cache
    try:
        with atomic_folder(folder, mode=default_folder_mode() & ~PRIVATE_WRITE) as temporary:
            phase = "build"
            space = build(functools.partial(allocate_in, temporary / "vectors.npy"))
            phase = "write"
            write_entry(temporary, space, source, stamp, settings, content)
    except OSError as error:
        if phase == "build":
            raise
        log.warning("could not write the cache %s (%s); using the space uncached", folder, error)
        return build(in_memory) if phase == "open" else space
    return space


def write_entry(temporary: Path, space: Space, source: Path, stamp: dict, settings: dict, content: str | None) -> None:
    """Write ``space`` and what it was built from into the new entry ``temporary``, writable by us alone."""
    meta = {"cache_version": CACHE_VERSION, "source": str(source), "stamp": stamp, "settings": settings,
            "count": len(space), "dim": space.dim, "origin": space.origin}
    if content is not None:
        meta["content_hash"] = content
    fill_space_dir(temporary, space.index_to_key, space.vectors, meta)
    for file in FILES:
        os.chmod(temporary / file, default_file_mode() & ~PRIVATE_WRITE)


def allocate_in(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """A float32 array of ``shape`` mapped onto the new file ``path``; in memory if the disk refuses."""
    try:
        return reserved_memmap(path, shape)
    except OSError as error:
        log.warning("could not make %s (%s); building the space in memory", path, error)
        return in_memory(shape)


def trusted_folder(key: str) -> Path | None:
    """The entry ``key``, or this user's own variant of it when another user owns it; None if neither is usable."""
    folder = cache_folder(key)
    for candidate in (folder, folder.with_name(f"{key}.uid{os.getuid()}")):
        reason = distrust(candidate)
        if reason is None:
            return candidate
        log.warning("ignoring the cache entry %s: %s", candidate, reason)
    log.warning("using %s uncached: no cache entry of this user can be made in %s", key, folder.parent)
    return None


def distrust(folder: Path) -> str | None:
    """Why the entry ``folder`` must not be used (None: it is ours, or absent).

    Its folder and files must be real (not links), owned by this user, and writable by no one else.
    """
    for path in (folder, *(folder / file for file in FILES)):
        try:
            status = path.lstat()
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as error:
            return f"cannot inspect {path.name} ({error})"
        wanted = stat.S_ISDIR if path == folder else stat.S_ISREG
        if not wanted(status.st_mode):
            return f"{path.name} is not a plain {'folder' if path == folder else 'file'}"
        if status.st_uid != os.getuid():
            return f"{path.name} belongs to another user (uid {status.st_uid})"
        if status.st_mode & PRIVATE_WRITE:
            return f"{path.name} is writable by other users (mode {stat.S_IMODE(status.st_mode):o})"
    return None


def load_cached(folder: Path, source: Path, settings: dict, name: str | None, content: str | None = None) -> Space | None:
    """The cached space in ``folder`` if it is fresh for ``source``, else None."""
    try:
        meta = json.loads((folder / "meta.json").read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, OSError) as error:
        log.warning("ignoring a damaged cache %s (%s)", folder, error)
        return None
    if not is_fresh(meta, source, settings, content):
        log.info("the cache %s is stale; rebuilding it", folder)
        return None
    try:
        keys, vectors, meta = read_space_dir(folder, unique=True)  # written from a Space: distinct keys
    except (ValueError, OSError) as error:  # FormatError is a ValueError
        log.warning("ignoring a damaged cache %s (%s)", folder, error)
        return None
    return Space(keys, vectors, origin=meta.get("origin") or str(source), name=name, unique_keys=True)
