"""Writing files and folders so that a reader never sees them half-written: a temporary beside, then a rename.

Used by both layers (checkpoints here; caches, exports, figures and shipped spaces in embedspace),
so it lives in the lowest one.

- :func:`atomic_file`: a temporary file beside the destination, renamed onto it on success.
- :func:`atomic_folder`: a temporary folder beside the destination, swapped in on success.
- :func:`remove_stale_temporaries`: the temporary folders that a killed process left behind (by
  name pattern, only its owner's, only untouched for an hour, never a live process's).
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

STALE_AFTER_S = 3600  # a temporary folder untouched this long, whose process is gone, is an orphan
# ".{dest name}.{8 random characters of mkdtemp}.{pid}@{host tag}.tmp" (".old" while an old copy is removed)
TEMPORARY_NAME = re.compile(r"^\.(?P<dest>.+)\.[a-z0-9_]{8}\.(?P<pid>\d+)@(?P<host>[0-9a-f]{8})\.(?:tmp|old)$")


def default_file_mode() -> int:
    """The mode ``open()`` would give a new file: 0o666 less the process umask."""
    return 0o666 & ~current_umask()


def default_folder_mode() -> int:
    """The mode ``mkdir()`` would give a new folder: 0o777 less the process umask."""
    return 0o777 & ~current_umask()


def current_umask() -> int:
    """The process umask (read by setting it and setting it back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb") -> Iterator:
    """Open a temporary file beside ``path``; rename it onto ``path`` once the block succeeds.

    Yields the open file (``mode`` "wb" for bytes, "w" for UTF-8 text with newlines kept as
    written). On an exception the temporary file is removed and ``path`` is left as it was.
    Missing parent folders are created; the result has an ordinary file's permissions.

    Examples
    --------
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_file(folder / "a.txt", "w") as out:
    ...     _ = out.write("hello")
    >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('hello', ['a.txt'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(descriptor, default_file_mode())  # mkstemp makes it private
        text = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(descriptor, mode, **text) as handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def atomic_folder(dest: str | os.PathLike, mode: int | None = None) -> Iterator[Path]:
    """Yield a new empty folder beside ``dest``; once the block succeeds it replaces ``dest``.

    On an exception (or a KeyboardInterrupt) the temporary folder is removed and ``dest`` is left
    as it was. Missing parent folders are created. The folder gets ``mode`` (default: an ordinary
    folder's, 0o777 less the umask). If another process puts its own ``dest`` in place while the
    block runs, that copy is kept. The temporary's name (``.{name}.XXXXXXXX.{pid}@{host}.tmp``)
    lets :func:`remove_stale_temporaries` find it if the process is killed.

    Examples
    --------
    >>> parent = Path(tempfile.mkdtemp())
    >>> with atomic_folder(parent / "model") as tmp:
    ...     _ = (tmp / "config.json").write_text("{}")
    >>> sorted(p.name for p in parent.iterdir()), (parent / "model" / "config.json").read_text()
    (['model'], '{}')
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=f".{os.getpid()}@{host_tag()}.tmp", dir=dest.parent))
    try:
        os.chmod(tmp, default_folder_mode() if mode is None else mode)  # mkdtemp makes it private
        yield tmp
        replace_folder(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # already gone once renamed into place


def replace_folder(source: Path, dest: Path) -> None:
    """Rename folder ``source`` to ``dest``; an older ``dest`` is moved aside first, then removed.

    A ``dest`` that another process renamed into place in between is kept (``source`` is then
    left for the caller to remove).
    """
    if os.path.lexists(dest):
        old = source.with_name(source.name[: -len(".tmp")] + ".old")
        try:
            os.replace(dest, old)
        except FileNotFoundError:  # another process moved it meanwhile
            pass
        else:
            shutil.rmtree(old, ignore_errors=True)
    try:
        os.replace(source, dest)
    except OSError as error:
        if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
        log.debug("%s appeared meanwhile; keeping it", dest)


def host_tag() -> str:
    """8 hex digits naming this machine, so that a process id is only trusted on its own host.

    The host name is ``uname``'s node name, which is what ``socket.gethostname()`` returns on POSIX
    systems (without importing ``socket``, which costs every command's start-up a few ms).
    """
    try:
        name = os.uname().nodename
    except AttributeError:  # Windows has no uname
        import socket

        name = socket.gethostname()
    return hashlib.blake2b(name.encode("utf-8"), digest_size=4).hexdigest()


def temporaries_of(name: str) -> re.Pattern:
    """The names interrupted atomic writes of a destination called ``name`` leave beside it.

    :func:`atomic_folder`'s ``.{name}.XXXXXXXX.{pid}@{host}.tmp``, the older forms without the
    process (``.{name}.XXXXXXXX.tmp``, ``.{name}.tmp``), and the ``.old`` copies being removed; for
    :func:`remove_stale_temporaries`'s ``pattern``.

    Examples
    --------
    >>> [bool(temporaries_of("mini").match(n)) for n in (".mini.ab12cd34.tmp", ".mini.tmp", ".minis.tmp")]
    [True, True, False]
    """
    return re.compile(rf"^\.(?P<dest>{re.escape(name)})\.(?:[a-z0-9_]{{8}}\.(?:(?P<pid>\d+)@(?P<host>[0-9a-f]{{8}})\.)?)?"
                      r"(?:tmp|old)$")


def remove_stale_temporaries(parent: str | os.PathLike, older_than: float = STALE_AFTER_S,
                             pattern: re.Pattern = TEMPORARY_NAME) -> list[Path]:
    """Remove the orphaned temporary folders of :func:`atomic_folder` in ``parent``; returns them.

    A folder is removed only when all of these hold: its name matches ``pattern``; it is a real
    folder (not a link) owned by this user; neither it nor any file directly in it was modified in
    the last ``older_than`` seconds; and the process that made it (named in it, on this host) is
    gone. A live build, even a slow one, is never touched.

    Examples
    --------
    >>> parent = Path(tempfile.mkdtemp())
    >>> orphan = parent / ".space.abcd1234.999999999@00000000.tmp"
    >>> orphan.mkdir()
    >>> os.utime(orphan, (0, 0))
    >>> [p.name for p in remove_stale_temporaries(parent)], orphan.exists()
    (['.space.abcd1234.999999999@00000000.tmp'], False)
    """
    removed = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or not is_orphan(Path(entry.path), match, now - older_than):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        log.info("removed %s, left by an interrupted run", entry.path)
        removed.append(Path(entry.path))
    return removed


def is_orphan(folder: Path, match: re.Match, cutoff: float) -> bool:
    """True when ``folder`` is ours, untouched since ``cutoff`` (epoch seconds), and its process is gone."""
    try:
        status = folder.lstat()
        if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid():
            return False
        newest = max([status.st_mtime] + [child.lstat().st_mtime for child in folder.iterdir()])
    except OSError:
        return False
    if newest > cutoff:
        return False
    groups = match.groupdict()
    if groups.get("pid") and groups.get("host") == host_tag():
        return not process_alive(int(groups["pid"]))
    return True


def process_alive(pid: int) -> bool:
    """True when a process ``pid`` exists on this machine (ours or another user's)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except OverflowError:
        return False
    return True
