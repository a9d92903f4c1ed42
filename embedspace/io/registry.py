"""The registry of named spaces: a :class:`Registry` maps a name to a :class:`Provider`.

A registry is an object its owner builds and fills explicitly; nothing registers itself at import.
:func:`embedspace.catalog.shipped_registry` builds the one of the shipped spaces, and
:func:`embedspace.catalog.load_space` looks names up in the registry it is given (by default the
shipped spaces, then the installed plugins).

Provider contract
-----------------
``loader(*, limit=None, keep_all_tokens=False, verify=False, progress=None, **options) -> Space``
    Builds (or reloads) the space; options that do not apply to it are ignored. :func:`limited`
    applies ``limit`` to a space that was built whole; ``progress(done, total)`` may follow a long build;
    ``verify`` asks a cached space to be checked against a hash of its whole source.
``remove_top``
    How many dominant directions :func:`embedspace.catalog.load_space` removes by default
    (all-but-the-top, :mod:`embedspace.analysis.isotropy`), or a function of the space's dims giving
    it; 0, the default, leaves the space as it is.
``describe() -> SpaceInfo``
    Says cheaply, without loading the vectors, whether the space is available (and if not, why),
    its size, dims and origin. An exception raised here is reported as the reason it is unavailable.

Plugins
-------
A package adds a named space for everyone (the CLI included) by declaring an entry point in the
group ``embedspace.spaces`` whose value is a :class:`Provider`; in its ``pyproject.toml``::

    [project.entry-points."embedspace.spaces"]
    glove6b = "my_package.spaces:GLOVE6B"      # GLOVE6B = Provider(load_glove, describe_glove)

The plugin is imported only when its space is asked for or listed. In a program, register on a
registry of your own and hand it on: ``Session(registry=...)`` or ``load_space(..., registry=...)``.
"""
from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Iterator, Mapping

from embedspace.errors import InvalidInput
from embedspace.space import Space

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "embedspace.spaces"  # where installed plugins declare their Providers


@dataclasses.dataclass(frozen=True)
class SpaceInfo:
    """What ``embedspace spaces`` shows about one named space."""

    name: str  # the name load_space accepts
    available: bool  # whether load_space(name) can work here
    reason: str = ""  # why it is not available (empty when it is)
    size: int | None = None  # number of keys V, when known cheaply
    dims: int | None = None  # number of dimensions D, when known cheaply
    origin: str = ""  # where it comes from (a folder, a model)

    def as_dict(self) -> dict:
        """The fields as a plain dict (for JSON)."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Provider:
    """A named space: how to load it and how to describe it (see the module docstring)."""

    loader: Callable[..., Space]
    describe: Callable[[], SpaceInfo]
    remove_top: int | Callable[[int], int] = 0  # dominant directions removed by default (all-but-the-top):
    # a number, or a function of the space's dims (see load_space's remove_top)

    def default_remove_top(self, dims: int) -> int:
        """The number of dominant directions removed by default from a space of ``dims`` dimensions."""
        return self.remove_top(dims) if callable(self.remove_top) else self.remove_top


class Registry(Mapping[str, Provider]):
    """Named spaces, as a read-only mapping ``name -> Provider`` that its owner fills with :meth:`register`.

    Examples
    --------
    >>> import numpy as np
    >>> registry = Registry()
    >>> registry.register("tiny", Provider(lambda **options: Space(["a"], np.ones((1, 2)), name="tiny"),
    ...                                    lambda: SpaceInfo("tiny", True, size=1, dims=2, origin="a doctest")))
    >>> list(registry), registry["tiny"].loader()
    (['tiny'], Space('tiny', 1 keys x 2 dims))
    >>> [info.size for info in registry.describe()]
    [1]
    """

    def __init__(self, providers: Mapping[str, Provider] | None = None):
        self._providers: dict[str, Provider] = {}
        for name, provider in (providers or {}).items():
            self.register(name, provider)

    def __getitem__(self, name: str) -> Provider:
        return self._providers[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._providers)

    def __len__(self) -> int:
        return len(self._providers)

    def __repr__(self) -> str:
        return f"Registry({', '.join(self._providers)})"

    def register(self, name: str, provider: Provider) -> None:
        """Make ``name`` load through ``provider``; registering a name again replaces it.

        Raises
        ------
        InvalidInput
            When ``name`` is not made of letters, digits, ``_``, ``.`` and ``-`` (it must not read as a path).
        """
        check_space_name(name)
        if not isinstance(provider, Provider):
            raise InvalidInput(f"space {name!r}: expected a Provider(loader, describe), got {type(provider).__name__}")
        if name in self._providers:
            log.debug("space %r registered again; replacing it", name)
        self._providers[name] = provider

    def unregister(self, name: str) -> None:
        """Forget the named space (nothing happens when it is not registered)."""
        self._providers.pop(name, None)

    def describe(self) -> list[SpaceInfo]:
        """A :class:`SpaceInfo` for every space, in registration order; a failing ``describe`` reads as unavailable."""
        return [describe_safely(name, provider) for name, provider in self._providers.items()]


def check_space_name(name: str) -> None:
    """Raise :class:`InvalidInput` unless ``name`` is letters, digits, ``_``, ``.`` or ``-`` (not ``.``/``..``).

    Examples
    --------
    >>> check_space_name("glove-6b.100d")
    >>> check_space_name("a/b")
    Traceback (most recent call last):
    ...
    embedspace.errors.InvalidInput: a space name must be letters, digits, '_', '.' or '-', got 'a/b'
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name in {".", ".."}:
        raise InvalidInput(f"a space name must be letters, digits, '_', '.' or '-', got {name!r}")


def describe_safely(name: str, provider: Provider) -> SpaceInfo:
    """``provider.describe()``, or an unavailable :class:`SpaceInfo` naming the exception it raised."""
    try:
        return provider.describe()
    except Exception as error:  # noqa: BLE001 - a plugin's description must not break the listing
        return SpaceInfo(name, False, reason=f"{type(error).__name__}: {error}")


def limited(space: Space, limit: int | None) -> Space:
    """The first ``limit`` keys of ``space`` (the space itself when it is not longer).

    Examples
    --------
    >>> import numpy as np
    >>> limited(Space(["a", "b", "c"], np.eye(3)), 2).index_to_key
    ['a', 'b']
    """
    if limit is None or limit >= len(space):
        return space
    return space.derive(space.index_to_key[:limit], space.vectors[:limit])


# -- plugins: installed packages' entry points --------------------------------------------------------------
def plugin_providers() -> dict[str, Provider]:
    """The spaces installed packages declare in the ``embedspace.spaces`` entry-point group.

    Each is returned as a Provider that imports its plugin on first use, so listing the names
    costs no import; a plugin that fails to import reads as unavailable in :meth:`Registry.describe`
    and raises its error when its space is loaded.
    """
    from importlib.metadata import entry_points

    providers = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            check_space_name(entry.name)
        except InvalidInput as error:
            log.warning("plugin space from %s skipped: %s", entry.value, error)
            continue
        providers[entry.name] = deferred_provider(entry)
    return providers


def deferred_provider(entry) -> Provider:
    """A Provider that loads the entry point's own Provider when it is first called."""

    def plugin() -> Provider:
        provider = entry.load()
        if not isinstance(provider, Provider):
            raise TypeError(f"the entry point {entry.name} = {entry.value} is a {type(provider).__name__}, "
                            "not an embedspace.io.registry.Provider")
        return provider

    return Provider(loader=lambda **options: plugin().loader(**options), describe=lambda: plugin().describe())
