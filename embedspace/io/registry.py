"""Spaces by name or by path: :func:`load_space`, and the registry of named spaces.

A *spec* is a registered name (``minilm``, ``word2vec``, ``mini``, ...) or a path:

- a word2vec ``.bin`` / ``.txt``, GloVe ``.txt`` or fastText ``.vec`` file (format detected from
  content, or given), read once and cached (see :mod:`embedspace.io.cache`);
- a space folder (``vectors.npy`` + ``vocab.txt``), memory-mapped as it is;
- gensim's native ``.kv`` / ``.model`` files, which are Python pickles: refused unless
  ``trust_pickle=True``, since unpickling a file can run any code it carries.

Registry API
------------
``register_space(name, loader, describe)`` adds a named space:

``loader(*, limit=None, keep_all_tokens=False, **options) -> Space``
    Builds (or reloads) the space; options that do not apply to it are ignored.
``describe() -> SpaceInfo``
    Says cheaply, without loading the vectors, whether the space is available (and if not, why),
    its size, dims and origin. An exception raised here is reported as the reason it is unavailable.

Modules named in ``BUILTIN_PROVIDERS`` register their spaces when imported; they are imported
lazily, only when a name is not found among those already registered (or by :func:`known_spaces`),
and one that does not exist is skipped. For example ``embedspace/mini.py`` ends with::

    from embedspace.io.registry import SpaceInfo, register_space
    register_space("mini", load_mini, describe_mini)
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embedspace.errors import EmbedspaceError, FormatError, suggest_keys
from embedspace.io.cache import Allocate, cached_space
from embedspace.io.formats import (
    FORMATS,
    Progress,
    detect_format,
    read_space_dir,
    read_vectors,
    write_space_dir,
    write_word2vec,
)
from embedspace.paths import data_dir
from embedspace.space import Space
from transformer.minilm_files import (
    MINILM_SHA256,
    ModelNotFound,
    find_minilm_dir,
    load_token_embeddings,
    verify_checksum,
)

log = logging.getLogger(__name__)

BUILTIN_PROVIDERS = ("embedspace.io.mini_model",)


class UnknownSpaceError(EmbedspaceError):
    """A spec is neither a registered space name nor an existing path."""


class PickleRefused(EmbedspaceError):
    """A gensim native file (a pickle) was given without ``trust_pickle=True``."""


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
    """A named space: how to load it and how to describe it."""

    loader: Callable[..., Space]
    describe: Callable[[], SpaceInfo]


_REGISTRY: dict[str, Provider] = {}
_imported_providers = False


def register_space(name: str, loader: Callable[..., Space], describe: Callable[[], SpaceInfo]) -> None:
    """Make ``load_space(name)`` call ``loader``, and ``known_spaces()`` call ``describe``.

    See the module docstring for the two callables' contracts. Registering a name again replaces it.

    Examples
    --------
    >>> register_space("tiny", lambda **options: Space(["a"], np.ones((1, 2)), name="tiny"),
    ...                lambda: SpaceInfo("tiny", True, size=1, dims=2, origin="a doctest"))
    >>> load_space("tiny")
    Space('tiny', 1 keys x 2 dims)
    >>> unregister_space("tiny")
    """
    if not name or not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name in {".", ".."}:
        raise ValueError(f"a space name must be letters, digits, '_', '.' or '-', got {name!r}")
    if name in _REGISTRY:
        log.debug("space %r registered again; replacing it", name)
    _REGISTRY[name] = Provider(loader, describe)


def unregister_space(name: str) -> None:
    """Forget the named space (for tests and plugins that withdraw)."""
    _REGISTRY.pop(name, None)


def import_providers() -> None:
    """Import the modules of ``BUILTIN_PROVIDERS`` once (they register their spaces); skip missing ones."""
    global _imported_providers
    if _imported_providers:
        return
    _imported_providers = True
    for module in BUILTIN_PROVIDERS:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
            log.debug("space provider %s is not there; skipped", module)


def space_names() -> list[str]:
    """Every registered space name (after importing the built-in providers)."""
    import_providers()
    return list(_REGISTRY)


def known_spaces() -> list[SpaceInfo]:
    """A :class:`SpaceInfo` for every registered space; a failing ``describe`` reads as unavailable."""
    infos = []
    for name in space_names():
        try:
            info = _REGISTRY[name].describe()
        except Exception as error:  # noqa: BLE001 - a plugin's description must not break the listing
            info = SpaceInfo(name, False, reason=f"{type(error).__name__}: {error}")
        infos.append(info)
    return infos


def default_space_name() -> str:
    """``"minilm"`` when its weights are found, else ``"word2vec"`` (the shipped model)."""
    try:
        find_minilm_dir()
    except ModelNotFound:
        return "word2vec"
    return "minilm"


def load_space(spec: str | os.PathLike | None = None, *, limit: int | None = None, format: str | None = None,
               trust_pickle: bool = False, keep_all_tokens: bool = False,
               progress: Progress | None = None) -> Space:
    """The space named or located by ``spec`` (default: :func:`default_space_name`).

    Parameters
    ----------
    spec : str or path, optional
        A registered name (``minilm``, ``word2vec``, ``mini``) or a path (file or space folder).
    limit : int, optional
        Keep only the first ``limit`` keys (the most frequent, in frequency-sorted files).
    format : str, optional
        A file's format, one of ``FORMATS``; detected from content when not given.
    trust_pickle : bool
        Allow gensim's native ``.kv`` / ``.model`` files, which are pickles (they can run code).
    keep_all_tokens : bool
        ``minilm`` only: keep word pieces, special and non-alphabetic tokens too.
    progress : callable, optional
        ``progress(done_bytes, total_bytes)``, called now and then while a large vector file is
        read (not when it comes from the cache).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "vectors.txt"
    >>> _ = path.write_text("3 2\\ncat 1 0\\ndog 0.9 0.1\\ncar 0 1\\n")
    >>> space = load_space(path, limit=2)
    >>> space.index_to_key
    ['cat', 'dog']
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of keys, got {limit}")
    if format is not None and format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; formats: {', '.join(FORMATS)}")
    spec = default_space_name() if spec is None else spec
    provider = find_provider(spec)
    if provider is not None:
        if format is not None:
            raise ValueError(f"format applies to files only, not to the named space {spec!r}")
        return provider.loader(limit=limit, keep_all_tokens=keep_all_tokens)
    path = Path(spec)
    if not path.exists():
        names = space_names()
        close = suggest_keys(str(spec), names)
        raise UnknownSpaceError(
            f"{str(spec)!r} is neither a space name ({', '.join(names)}) nor an existing file"
            + (f"; did you mean: {', '.join(close)}?" if close else ""))
    return load_path(path, limit=limit, format=format, trust_pickle=trust_pickle, progress=progress)


def find_provider(spec: str | os.PathLike) -> Provider | None:
    """The provider registered as ``spec``; providers are imported only if ``spec`` is no path."""
    if not isinstance(spec, str):
        return None
    if spec not in _REGISTRY and not Path(spec).exists():
        import_providers()
    return _REGISTRY.get(spec)


def limited(space: Space, limit: int | None) -> Space:
    """The first ``limit`` keys of ``space`` (the space itself when it is not longer)."""
    if limit is None or limit >= len(space):
        return space
    return Space(space.index_to_key[:limit], space.vectors[:limit], origin=space.origin, name=space.name,
                 unique_keys=True)


# -- files ----------------------------------------------------------------------------------------------
def load_path(path: Path, *, limit: int | None = None, format: str | None = None,
              trust_pickle: bool = False, progress: Progress | None = None) -> Space:
    """A space from a vector file (cached) or a space folder (memory-mapped)."""
    if path.is_dir():
        keys, vectors, _ = read_space_dir(path, limit)
        return Space(keys, vectors, origin=str(path.resolve()), name=path.name)
    fmt = format or detect_format(path)
    if fmt == "gensim":
        return load_gensim_native(path, limit, trust_pickle)

    def build(allocate: Allocate) -> Space:
        keys, vectors = read_vectors(path, fmt, limit, allocate, progress)  # duplicates dropped
        return Space(keys, vectors, origin=str(path.resolve()), name=path.name, unique_keys=True)

    return cached_space(path, file_cache_key(path, limit), build, settings={"format": fmt, "limit": limit},
                        name=path.name)


def file_cache_key(path: Path, limit: int | None) -> str:
    """The cache entry of a file: a hash of its absolute path, its name, and the limit.

    Examples
    --------
    >>> file_cache_key(Path("/data/GoogleNews vectors.bin"), 1000)
    'file-f5b755af670db688-GoogleNews_vectors.bin-1000'
    """
    digest = hashlib.blake2b(str(path.resolve()).encode("utf-8"), digest_size=8).hexdigest()
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", path.name)[:60]
    return f"file-{digest}-{name}-{'all' if limit is None else limit}"


def load_gensim_native(path: Path, limit: int | None, trust_pickle: bool) -> Space:
    """A gensim ``.kv`` / ``.model`` file, only when ``trust_pickle`` (it is unpickled: it can run code)."""
    if not trust_pickle:
        raise PickleRefused(
            f"{path} is a gensim native file, i.e. a Python pickle, and loading a pickle can run any code "
            "it carries; pass --trust-pickle (trust_pickle=True) only for a file you trust, or use a "
            "word2vec .bin/.txt file instead")
    from gensim.utils import SaveLoad

    try:
        loaded = SaveLoad.load(str(path), mmap="r")
    except Exception as error:  # noqa: BLE001 - unpickling damaged data raises almost anything
        raise FormatError(path, f"not a loadable gensim file ({type(error).__name__}: {error})") from None
    kv = getattr(loaded, "wv", loaded)
    if not hasattr(kv, "index_to_key") or not hasattr(kv, "vectors"):
        raise FormatError(path, f"holds a {type(loaded).__name__}, not gensim KeyedVectors or a model with .wv")
    return limited(Space.from_keyed_vectors(kv, origin=str(path.resolve()), name=path.name), limit)


# -- minilm: the whole-word rows of all-MiniLM-L6-v2's token embeddings -----------------------------------
def is_whole_word(token: str) -> bool:
    """True for alphabetic WordPiece tokens: not ``##`` pieces, not ``[CLS]``-style or punctuation.

    Examples
    --------
    >>> [t for t in ["tower", "##s", "[CLS]", "42", "don", "'"] if is_whole_word(t)]
    ['tower', 'don']
    """
    return token.isalpha()


def load_minilm(*, limit: int | None = None, keep_all_tokens: bool = False, **_options) -> Space:
    """all-MiniLM-L6-v2's W_E rows (whole words, or every token), checksum-verified before first use."""
    folder = find_minilm_dir()

    def build(allocate: Allocate) -> Space:
        verify_checksum(folder)
        tokens, matrix = load_token_embeddings(folder)  # [V], [V, D]
        rows = [i for i, token in enumerate(tokens) if keep_all_tokens or is_whole_word(token)]
        return Space([tokens[i] for i in rows], matrix[rows], origin=f"all-MiniLM-L6-v2 W_E ({folder})",
                     name="minilm")

    key = "minilm-all-tokens" if keep_all_tokens else "minilm-words"
    settings = {"sha256": MINILM_SHA256, "keep_all_tokens": keep_all_tokens}
    space = cached_space(folder / "model.safetensors", key, build, settings=settings, name="minilm")
    return limited(space, limit)


def describe_minilm() -> SpaceInfo:
    """Where MiniLM is, and its whole-word vocabulary size (counted from vocab.txt)."""
    try:
        folder = find_minilm_dir()
    except ModelNotFound as error:
        return SpaceInfo("minilm", False, reason=str(error))
    tokens = (folder / "vocab.txt").read_text("utf-8").split()
    dims = json.loads((folder / "config.json").read_text("utf-8")).get("hidden_size")
    return SpaceInfo("minilm", True, size=sum(map(is_whole_word, tokens)), dims=dims,
                     origin=f"all-MiniLM-L6-v2 W_E, whole-word rows ({folder})")


# -- word2vec: the shipped default model ---------------------------------------------------------------------
def word2vec_dir() -> Path:
    """The shipped word2vec space folder (``vectors.npy`` float16, ``vocab.txt``, ``meta.json``)."""
    return data_dir() / "word2vec"


def load_word2vec(*, limit: int | None = None, **_options) -> Space:
    """The shipped word2vec space, as float32 in memory."""
    folder = word2vec_dir()
    if not (folder / "vectors.npy").is_file():
        raise UnknownSpaceError(f"the shipped word2vec space is missing: {folder} has no vectors.npy "
                                "(data/README.md gives the command that rebuilds it)")
    keys, vectors, _ = read_space_dir(folder, limit)
    return Space(keys, vectors, origin=f"shipped word2vec model ({folder})", name="word2vec")


def describe_word2vec() -> SpaceInfo:
    """Whether the shipped space is there, and its shape (read from the .npy header)."""
    folder = word2vec_dir()
    if not (folder / "vectors.npy").is_file():
        return SpaceInfo("word2vec", False, reason=f"{folder} has no vectors.npy")
    count, dims = np.load(folder / "vectors.npy", mmap_mode="r").shape
    return SpaceInfo("word2vec", True, size=count, dims=dims, origin=f"shipped word2vec model ({folder})")


register_space("minilm", load_minilm, describe_minilm)
register_space("word2vec", load_word2vec, describe_word2vec)


# -- writing -----------------------------------------------------------------------------------------------
SAVE_SUFFIXES = {".bin": "word2vec-bin", ".txt": "word2vec-txt", ".vec": "fasttext"}


def save_space(space: Space, dest: str | os.PathLike, progress: Callable[[int], None] | None = None) -> str:
    """Write ``space`` to ``dest``, in the format its suffix names; returns that format.

    ``.bin`` gives word2vec binary, ``.txt`` word2vec text, ``.vec`` fastText text; a path without a
    suffix (or an existing folder) gives a space folder, the cache format (reloaded as a memory map).
    Writes are atomic. ``progress(n)`` is called with the rows written so far, block by block.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> space = Space(["cat", "dog"], np.eye(2, dtype=np.float32))
    >>> save_space(space, folder / "small"), save_space(space, folder / "small.bin")
    ('space-folder', 'word2vec-bin')
    >>> load_space(folder / "small").index_to_key
    ['cat', 'dog']
    """
    dest = Path(dest)
    fmt = save_format(dest)
    if fmt == "space-folder":
        meta = {"origin": space.origin, "name": space.name, "count": len(space), "dim": space.dim}
        write_space_dir(dest, space.index_to_key, space.vectors, meta)
        if progress is not None:
            progress(len(space))
        return "space-folder"
    write_word2vec(dest, space.index_to_key, space.vectors, binary=fmt == "word2vec-bin", progress=progress)
    return fmt


def save_format(dest: str | os.PathLike) -> str:
    """The format :func:`save_space` writes to ``dest``, judged from its suffix (raises if unknown).

    Examples
    --------
    >>> save_format("vectors.bin"), save_format("my_space")
    ('word2vec-bin', 'space-folder')
    """
    dest = Path(dest)
    if dest.is_dir() or not dest.suffix:
        return "space-folder"
    if dest.suffix not in SAVE_SUFFIXES:
        raise ValueError(f"cannot tell the format of {dest}: use a suffix of {', '.join(SAVE_SUFFIXES)}, "
                         "or none for a space folder")
    return SAVE_SUFFIXES[dest.suffix]
