"""Where embedspace finds its shipped data and keeps its cache: the one place that knows.

- :func:`data_dir`: ``$EMBEDSPACE_DATA``, else the data installed with the package (a wheel), else the
  checkout's ``data/`` folder.
- :func:`cache_root`: ``$EMBEDSPACE_CACHE``, else the platform's user cache folder + ``embedspace``.
- :func:`shipped_folders`: the folders holding what is shipped (never to be written by a command), and
  :func:`is_within` to ask whether a path lies in one.

Every other module asks these functions; none builds a path from ``__file__`` itself.

Examples
--------
>>> (data_dir() / "wordlists").is_dir()
True
"""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from embedspace.errors import EmbedspaceError

DATA_ENV = "EMBEDSPACE_DATA"
CACHE_ENV = "EMBEDSPACE_CACHE"
PACKAGE = Path(__file__).resolve().parent


def data_dir() -> Path:
    """The shipped data folder: ``$EMBEDSPACE_DATA``, else the installed package data, else the checkout's ``data/``."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    installed = PACKAGE / "data"           # a built wheel carries data/ as embedspace/data
    if installed.is_dir():
        return installed
    return PACKAGE.parent / "data"         # a checkout (or an editable install)


def wordlists_dir() -> Path:
    """The shipped word lists (``data/wordlists``): family pairs, plurals, WEAT tests, demo analogies."""
    return data_dir() / "wordlists"


def sentences_dir() -> Path:
    """The shipped example sentences (``data/sentences``)."""
    return data_dir() / "sentences"


def cache_root() -> Path:
    """``$EMBEDSPACE_CACHE``, else the platform's user cache folder + ``embedspace``.

    Raises
    ------
    EmbedspaceError
        When neither the variable nor a home folder is known (no ``HOME`` and no entry for this
        user in the password database), naming the variable that fixes it.
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    try:
        if sys.platform == "win32":
            base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        elif sys.platform == "darwin":
            base = Path.home() / "Library" / "Caches"
        else:
            base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except RuntimeError:  # Path.home(): "Could not determine home directory."
        raise EmbedspaceError(f"no cache folder: this user has no home folder; set {CACHE_ENV} to a folder "
                              "embedspace may write its cache in") from None
    return base / "embedspace"


def minilm_stamps() -> Path | None:
    """The record of MiniLM files already checksum-verified (``minilm-verified.json`` in the cache root).

    None when there is no cache root (no home folder and no ``$EMBEDSPACE_CACHE``): every file is
    then hashed on every load. See :func:`transformer.minilm_files.verify_checksum`.
    """
    try:
        return cache_root() / "minilm-verified.json"
    except EmbedspaceError:
        return None


def shipped_folders() -> list[Path]:
    """The folders holding shipped data (resolved): the data folder in use, the package's own, MiniLM's.

    No command writes into these: a conversion or a training run aimed at one is refused.
    """
    folders = [data_dir(), PACKAGE / "data"]
    if (PACKAGE.parent / "data" / "wordlists").is_dir():       # a checkout's data/
        folders.append(PACKAGE.parent / "data")
    with contextlib.suppress(OSError, ImportError):           # MiniLM not installed (ModelNotFound)
        from transformer.minilm_files import find_minilm_dir

        folders.append(find_minilm_dir())
    return list(dict.fromkeys(Path(f).resolve() for f in folders if Path(f).is_dir()))


def is_within(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """True when ``path`` is ``folder`` or lies inside it (both resolved, links followed).

    Examples
    --------
    >>> is_within("/data/mini/config.json", "/data"), is_within("/database", "/data")
    (True, False)
    """
    return Path(path).resolve().is_relative_to(Path(folder).resolve())
