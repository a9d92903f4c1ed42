"""Exceptions a user can cause, each with one clear line of explanation.

Library code raises these; the CLI turns them into one line on stderr.
"""
from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterable

from runtime.errors import UserError


class EmbedspaceError(UserError):
    """Base class for every error embedspace raises on bad input."""


class InvalidInput(EmbedspaceError, ValueError):
    """A value the user gave is out of range or malformed (a ValueError, with one clear line).

    Examples
    --------
    >>> isinstance(InvalidInput("topn must be at least 1"), ValueError)
    True
    """


class UnknownKeyError(EmbedspaceError, KeyError):
    """A key (word) is not in the space's vocabulary.

    Subclasses :class:`KeyError` (as gensim does) and names the closest keys, or, when other
    spaces are known to hold the word (``elsewhere``), those spaces instead.

    Examples
    --------
    >>> err = UnknownKeyError("kinng", ["king", "queen", "kings"])
    >>> str(err)
    "'kinng' is not in the vocabulary; did you mean: king, kings?"
    >>> str(UnknownKeyError("mussolini", ["musical"], space="word2vec").found_in(["minilm", "minilm-we"]))
    "'mussolini' is not in word2vec; it is in minilm, minilm-we (--space minilm)"
    """

    def __init__(self, key: str, vocabulary: Iterable[str] = (), space: str | None = None,
                 elsewhere: Iterable[str] = ()):
        self.key = key
        self.space = space
        self.elsewhere = list(elsewhere)
        self.suggestions = [] if self.elsewhere else suggest_keys(key, vocabulary)
        if self.elsewhere:
            message = (f"{key!r} is not in {space or 'this space'}; it is in {', '.join(self.elsewhere)} "
                       f"(--space {self.elsewhere[0]})")
        else:
            where = f" of space {space!r}" if space else ""
            message = f"{key!r} is not in the vocabulary{where}"
            if self.suggestions:
                message += "; did you mean: " + ", ".join(self.suggestions) + "?"
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]

    def found_in(self, spaces: Iterable[str]) -> UnknownKeyError:
        """The same error saying which other ``spaces`` hold the word (itself when there are none)."""
        spaces = [name for name in spaces if name != self.space]
        return UnknownKeyError(self.key, (), self.space, spaces) if spaces else self


class NotACandidate(UnknownKeyError):
    """A word an open-vocabulary space gives a vector to, but which is not one of its rows (never an answer).

    Examples
    --------
    >>> str(NotACandidate("sushi", "minilm", 30078))
    "'sushi' is not one of the 30,078 candidate words of space 'minilm': it has a vector, but no row"
    """

    def __init__(self, key: str, space: str, candidates: int):
        self.key, self.space, self.elsewhere, self.suggestions = key, space, [], []
        KeyError.__init__(self, f"{key!r} is not one of the {candidates:,} candidate words of space {space!r}: "
                                "it has a vector, but no row")


class FormatError(EmbedspaceError, ValueError):
    """A file is malformed: names the file, where (line or record), and the fault.

    Examples
    --------
    >>> str(FormatError("vecs.txt", "non-numeric value 'abc'", line=3))
    "vecs.txt, line 3: non-numeric value 'abc'"
    """

    def __init__(self, path, fault: str, line: int | None = None, record: int | None = None):
        self.path, self.fault, self.line, self.record = str(path), fault, line, record
        where = f", line {line}" if line is not None else f", record {record}" if record is not None else ""
        super().__init__(f"{self.path}{where}: {fault}")


class UnknownSpaceError(EmbedspaceError):
    """A spec is neither a registered space name nor an existing path."""


class PickleRefused(EmbedspaceError):
    """A gensim native file (a pickle) was given without ``trust_pickle=True``."""


class MissingFile(EmbedspaceError, FileNotFoundError):
    """A file or folder that should be there is not (a model folder's file, the shipped data).

    Subclasses :class:`FileNotFoundError`; the message names the file and how to get it.

    Examples
    --------
    >>> str(MissingFile("data/mini is not a mini model folder: vocab.txt is missing"))
    'data/mini is not a mini model folder: vocab.txt is missing'
    """


class NotInstalled(EmbedspaceError, ImportError):
    """An optional dependency is missing; the message names the ``pip install`` that fixes it.

    Examples
    --------
    >>> str(NotInstalled("umap-learn", "umap"))
    "this needs the optional package 'umap-learn': pip install 'embedspace[umap]'"
    """

    def __init__(self, package: str, extra: str):
        super().__init__(f"this needs the optional package {package!r}: pip install 'embedspace[{extra}]'")


def suggest_keys(key: str, vocabulary: Iterable[str], n: int = 5, scan: int = 200_000) -> list[str]:
    """Up to ``n`` keys of ``vocabulary`` that look like ``key``.

    Only the first ``scan`` keys (the most frequent, in frequency-sorted files) of a
    similar length are compared, so this stays fast on a 3 M-word vocabulary.

    Examples
    --------
    >>> suggest_keys("Tower", ["tower", "towers", "power", "cat"])
    ['tower', 'towers', 'power']
    """
    folded = key.lower()
    candidates = [
        k for k in itertools.islice(vocabulary, scan) if abs(len(k) - len(key)) <= 2 and k != key
    ]
    exact_case = [k for k in candidates if k.lower() == folded]
    close = difflib.get_close_matches(folded, [k.lower() for k in candidates], n=n, cutoff=0.6)
    by_folded = {}
    for k in candidates:
        by_folded.setdefault(k.lower(), k)
    ordered = exact_case + [by_folded[c] for c in close]
    return list(dict.fromkeys(ordered))[:n]
