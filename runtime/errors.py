"""The one base of every error a user can cause, shared by both layers.

A :class:`UserError` carries one clear line of explanation (a bad value, a missing file, an
unknown word): the CLI shows that line and exits non-zero. Any other exception is a bug, shown
as such (with its traceback under ``-v``).
"""
from __future__ import annotations


class UserError(Exception):
    """An error the user caused; its message is one clear line.

    Examples
    --------
    >>> str(UserError("limit must be a positive number of keys, got 0"))
    'limit must be a positive number of keys, got 0'
    """


def shorten(text: str, width: int = 60) -> str:
    """``text`` on one line and at most ``width`` characters (cut with "..."), for quoting in a message.

    A message quotes what the user gave so they can find it, not to echo 100 KB back.

    Examples
    --------
    >>> shorten("the king   and\\nthe queen")
    'the king and the queen'
    >>> shorten("word " * 1000, width=20)
    'word word word wo...'
    """
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."
