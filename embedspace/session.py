"""What a caller has opened: spaces, encoders and mini models, each loaded once and kept here.

Nothing in embedspace caches a loaded space or model in a module global. Whoever needs several
(the CLI for one command, the tour for one run, a notebook for a session) holds a :class:`Session`
and asks it; what it loaded lives as long as the session, and :meth:`Session.close` stops the
encoders' threads. A session can carry its own :class:`~embedspace.io.registry.Registry` of named
spaces (a program's own, or a plugin's); by default names are the shipped spaces and the plugins'.

Examples
--------
>>> with Session() as session:
...     space = session.space("word2vec")
...     space is session.space("word2vec")
True
"""
from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


class Session:
    """A cache of loaded spaces, encoders and mini models that the caller owns.

    Each is loaded on first request with the same arguments and returned again afterwards.

    Parameters
    ----------
    registry : Registry, optional
        Where :meth:`space` looks names up (default: the shipped spaces, then the installed plugins').
    """

    def __init__(self, registry=None):
        self.registry = registry
        self._spaces: dict[tuple, object] = {}
        self._encoders: dict[str, object] = {}
        self._mini_models: dict[str, object] = {}

    def __repr__(self) -> str:
        return (f"Session({len(self._spaces)} spaces, {len(self._encoders)} encoders, "
                f"{len(self._mini_models)} mini models)")

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def space(self, spec: str | os.PathLike | None = None, *, progress=None, **options):
        """:func:`embedspace.catalog.load_space` ``(spec, **options)``, loaded once per arguments.

        ``progress`` (see ``load_space``) is passed on when the space is read, and is not part of
        what makes two requests the same.
        """
        from embedspace.catalog import load_space

        key = (None if spec is None else str(spec), tuple(sorted(options.items())))
        if key not in self._spaces:
            self._spaces[key] = load_space(spec, progress=progress, registry=self.registry, **options)
        return self._spaces[key]

    def spaces(self) -> list:
        """What :func:`embedspace.catalog.known_spaces` says of this session's named spaces."""
        from embedspace.catalog import known_spaces

        return known_spaces(self.registry)

    def encoder(self, name: str = "minilm"):
        """:func:`embedspace.contextual.encoders.load_encoder` ``(name)``, loaded once."""
        from embedspace.contextual.encoders import load_encoder

        if name not in self._encoders:
            self._encoders[name] = load_encoder(name)
        return self._encoders[name]

    def mini_model(self, folder: str | os.PathLike | None = None):
        """:func:`embedspace.io.mini_model.load_mini_model` ``(folder)``, loaded once."""
        from embedspace.io.mini_model import load_mini_model

        key = "" if folder is None else str(folder)
        if key not in self._mini_models:
            self._mini_models[key] = load_mini_model(folder)
        return self._mini_models[key]

    def close(self) -> None:
        """Release what needs releasing (an encoder's threads); the loaded objects are forgotten."""
        for encoder in self._encoders.values():
            close = getattr(encoder, "close", None)
            if close is not None:
                close()
        self._spaces.clear()
        self._encoders.clear()
        self._mini_models.clear()
