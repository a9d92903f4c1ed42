"""Where embedspace finds its shipped data and keeps its cache: the one place that knows.

- :func:`data_dir`: ``$EMBEDSPACE_DATA``, else the data installed with the package (a wheel), else the
  checkout's ``data/`` folder.
- :func:`cache_root`: ``$EMBEDSPACE_CACHE``, else the platform's user cache folder + ``embedspace``.

Every other module asks these functions; none builds a path from ``__file__`` itself.

Examples
--------
>>> (data_dir() / "wordlists").is_dir()
True
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

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
    RuntimeError
        When neither the variable nor a home folder is set (``Path.home()``'s own error).
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "embedspace"
