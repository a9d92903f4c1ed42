"""Word lists a command was given (plot's words, probe's pairs, explore's --words): the missing ones are left out.

A word the space lacks does not abort the whole list: it is left out, and one note on stderr names
every such word and says how many. ``--strict`` fails instead, with the space's own error (the first
unknown word, and the keys closest to it). When no word at all is known, the list is left as it is,
so that the same error explains the first word.
"""
from __future__ import annotations

from collections.abc import Sequence

import click


def strict_option(command):
    """``--strict``: fail on a word the space lacks instead of leaving it out."""
    return click.option("--strict", is_flag=True,
                        help="Fail on a word the space lacks (default: leave it out, with a note on stderr).")(command)


def known_positions(space, words: Sequence[str], strict: bool = False) -> list[int]:
    """Positions of ``words`` in the space, with a note on stderr naming the others (all of them if ``strict``)."""
    keep = [i for i, word in enumerate(words) if word in space]
    if strict or not keep or len(keep) == len(words):
        return list(range(len(words)))
    missing = list(dict.fromkeys(word for word in words if word not in space))
    note_left_out(f"{len(words) - len(keep)} of {len(words)} words left out, not", missing, space)
    return keep


def known_words(space, words: Sequence[str], strict: bool = False) -> list[str]:
    """``words`` without those the space lacks (noted on stderr), or all of them if ``strict``."""
    return [words[i] for i in known_positions(space, words, strict)]


def known_pairs(space, pairs: Sequence[tuple[str, str]], strict: bool = False) -> list[tuple[str, str]]:
    """``pairs`` without those with a word the space lacks (noted on stderr), or all of them if ``strict``."""
    keep = [pair for pair in pairs if pair[0] in space and pair[1] in space]
    if strict or not keep or len(keep) == len(pairs):
        return list(pairs)
    missing = list(dict.fromkeys(word for pair in pairs for word in pair if word not in space))
    note_left_out(f"{len(pairs) - len(keep)} of {len(pairs)} pairs left out, with words not", missing, space)
    return keep


def note_left_out(what: str, missing: list[str], space) -> None:
    """``note: 2 of 6 words left out, not in space 'word2vec': a, b (--strict fails instead)`` on stderr."""
    click.echo(f"note: {what} in space {space.name!r}: {', '.join(missing)} (--strict fails instead)", err=True)
