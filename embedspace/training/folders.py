"""Writing an output folder whole, and removing what an interrupted write left behind.

Local stand-ins for ``runtime.files.atomic_folder`` and ``runtime.files.remove_stale_temporaries``,
which another workstream is adding: they follow its naming (``.{name}.XXXXXXXX.{pid}@{host}.tmp``)
so each cleans up after the other, and are to be replaced by them once they land.

- :func:`atomic_folder`: a temporary folder beside the destination, swapped in once the block succeeds,
  so a kill at any moment leaves either the old folder or the new one, never new vectors with an old
  vocabulary.
- :func:`remove_stale_temporaries`: the temporaries of one destination that a killed process left,
  once they are an hour old (never a live process's).
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

STALE_AFTER_S = 3600  # a temporary folder untouched this long, whose process is gone, is an orphan


def folder_mode() -> int:
    """The mode ``mkdir()`` gives a new folder: 0o777 less the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def host_tag() -> str:
    """8 hex digits naming this machine, so that a process id in a name is only trusted on its own host."""
    return hashlib.blake2b(socket.gethostname().encode("utf-8"), digest_size=4).hexdigest()


@contextlib.contextmanager
def atomic_folder(dest: str | os.PathLike) -> Iterator[Path]:
    """Yield a new empty folder beside ``dest``; once the block succeeds it replaces ``dest``.

    On an exception (or Ctrl-C) the temporary folder is removed and ``dest`` is left as it was. The
    folder gets an ordinary folder's permissions (0o777 less the umask), not mkdtemp's private 0o700.

    Examples
    --------
    >>> parent = Path(tempfile.mkdtemp())
    >>> with atomic_folder(parent / "space") as tmp:
    ...     _ = (tmp / "vocab.txt").write_text("king\\n")
    >>> sorted(p.name for p in parent.iterdir()), (parent / "space" / "vocab.txt").read_text()
    (['space'], 'king\\n')
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=f".{os.getpid()}@{host_tag()}.tmp", dir=dest.parent))
    try:
        os.chmod(tmp, folder_mode())  # mkdtemp makes it private
        yield tmp
        if os.path.lexists(dest):
            old = tmp.with_name(tmp.name[: -len(".tmp")] + ".old")
            os.replace(dest, old)
            os.replace(tmp, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # already gone once renamed into place


def temporary_names(name: str) -> re.Pattern:
    """The names the atomic writes of destination ``name`` give their temporaries (this module's and
    ``transformer.checkpoint.write_atomically``'s: ``.{name}.XXXXXXXX[.{pid}@{host}].tmp``, ``.{name}[...].old``).

    Examples
    --------
    >>> bool(temporary_names("mini").match(".mini.ab12cd34.tmp")), bool(temporary_names("mini").match(".minis.tmp"))
    (True, False)
    """
    return re.compile(rf"^\.{re.escape(name)}\.(?:[a-z0-9_]{{8}}\.(?:(?P<pid>\d+)@(?P<host>[0-9a-f]{{8}})\.)?)?(?:tmp|old)$")


def remove_stale_temporaries(dest: str | os.PathLike, older_than: float = STALE_AFTER_S) -> list[Path]:
    """Remove the temporary folders that interrupted writes of ``dest`` left beside it; returns them.

    Only folders named as a write of ``dest`` names them (:func:`temporary_names`), owned by this
    user, not links, untouched (nor any file directly in them) for ``older_than`` seconds, and, when
    the name says which process made them, whose process is gone.
    """
    dest = Path(dest)
    pattern, cutoff, removed = temporary_names(dest.name), time.time() - older_than, []
    try:
        entries = list(os.scandir(dest.parent))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if match is not None and is_orphan(Path(entry.path), match, cutoff):
            shutil.rmtree(entry.path, ignore_errors=True)
            log.info("removed %s, left by an interrupted write", entry.path)
            removed.append(Path(entry.path))
    return removed


def is_orphan(folder: Path, match: re.Match, cutoff: float) -> bool:
    """True when ``folder`` is this user's, untouched since ``cutoff`` (epoch seconds), and its process is gone."""
    try:
        status = folder.lstat()
        if not stat.S_ISDIR(status.st_mode) or status.st_uid != getattr(os, "getuid", lambda: status.st_uid)():
            return False
        newest = max([status.st_mtime] + [child.lstat().st_mtime for child in folder.iterdir()])
    except OSError:
        return False
    if newest > cutoff:
        return False
    if match.group("pid") and match.group("host") == host_tag():
        return not process_alive(int(match.group("pid")))
    return True


def process_alive(pid: int) -> bool:
    """True when a process ``pid`` exists on this machine (ours or another user's)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True
