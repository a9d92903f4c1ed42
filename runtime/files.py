"""Writing a file so that a reader never sees it half-written: a temporary file beside it, then a rename.

Used by both layers (checkpoints here; caches, exports, figures and shipped spaces in embedspace),
so it lives in the lowest one.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def default_file_mode() -> int:
    """The mode ``open()`` would give a new file: 0o666 less the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


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
