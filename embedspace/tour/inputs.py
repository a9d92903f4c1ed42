"""What the sections of one tour share: the output folder, and the spaces and models of a Session.

The caller's :class:`~embedspace.session.Session` loads each space and encoder once. A missing one
(a module not installed, a model not downloaded, a space not built) is not an error in a tour: the
:class:`Tour` remembers why it could not be loaded and raises :class:`Unavailable` with that reason
to every section that asks, and the section says "not available" in the report.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from embedspace.errors import EmbedspaceError
from embedspace.session import Session
from embedspace.space import Space
from embedspace.tour.report import Figure, Note, Section
from embedspace.viz.plots import save_figure

log = logging.getLogger(__name__)

SPACE_NAMES = ("word2vec", "minilm", "mini")  # the shipped spaces, in the order of the tables
ENCODER_NAMES = ("minilm", "mini")


class Unavailable(Exception):
    """A section (or one space in it) cannot run because an input is absent; the message says which."""


# Absent artefacts: a module not installed, a model file not found, a space or a list missing.
MISSING = (ImportError, FileNotFoundError, Unavailable)


class Tour:
    """The state of one tour: the output folder, the caller's Session, and what could not be loaded.

    Parameters
    ----------
    out_dir : Path
        Where the figures go.
    session : Session
        Loads (once) the spaces and encoders the sections ask for; owned by the caller.
    """

    def __init__(self, out_dir: Path, session: Session):
        self.out_dir = Path(out_dir)
        self.session = session
        self._failed: dict[tuple[str, str], str] = {}  # (kind, name) -> why it could not be loaded

    def space(self, name: str) -> Space:
        """The shipped space ``name``; raises :class:`Unavailable` with the reason it cannot be loaded."""
        return self._load("space", name, self.session.space)

    def encoder(self, name: str):
        """The encoder ``name`` (``"minilm"`` or ``"mini"``); raises :class:`Unavailable` with the reason."""
        return self._load("model", name, self.session.encoder)

    def _load(self, kind: str, name: str, load: Callable[[str], object]):
        """``load(name)``; a missing input is remembered and raised as :class:`Unavailable`."""
        reason = self._failed.get((kind, name))
        if reason is None:
            try:
                return load(name)
            except (*MISSING, EmbedspaceError) as error:
                log.info("%s %s not available: %s", kind, name, error)
                reason = self._failed[kind, name] = f"{type(error).__name__}: {error}"
        raise Unavailable(f"{kind} {name!r} is not available ({reason})")

    def spaces(self, section: Section, names: Sequence[str] = SPACE_NAMES) -> list[Space]:
        """The available spaces among ``names``; one note in ``section`` names the missing ones."""
        found, missing = [], []
        for name in names:
            try:
                found.append(self.space(name))
            except Unavailable as error:
                missing.append((name, str(error)))
        if not found:
            raise Unavailable("; ".join(reason for _, reason in missing))
        if missing:
            section.add(Note(f"Not available here: {', '.join(name for name, _ in missing)} "
                             "(the Spaces section says why)."))
        return found

    def usable_spaces(self, section: Section, needed: Sequence[str]) -> list[Space]:
        """The spaces that have every word of ``needed``; a note names what the others lack."""
        spaces = []
        for space in self.spaces(section):
            lost = missing_words(space, needed)
            if lost:
                section.add(Note(f"{space.name}: left out of the figure, it lacks {', '.join(lost)}."))
            else:
                spaces.append(space)
        if not spaces:
            raise Unavailable("no space has all of " + ", ".join(needed))
        return spaces

    def save(self, figure, name: str, caption: str, views: Sequence = ()) -> Figure:
        """Write a matplotlib figure (or the figure of an axes) as ``name``; the report's Figure for it.

        ``views`` are the figure's interactive views for report.html (ids unique in the report).
        """
        save_figure(figure, self.out_dir / name)
        return Figure(name, caption, list(views))


def missing_words(space: Space, words: Sequence[str]) -> list[str]:
    """The words of ``words`` that ``space`` does not have."""
    return [w for w in words if w not in space]
