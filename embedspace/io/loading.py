"""Spaces by name or by path: :func:`load_space`.

A *spec* is a registered name (``minilm``, ``word2vec``, ``mini``, a plugin's; see
:mod:`embedspace.io.registry`) or a path:

- a word2vec ``.bin`` / ``.txt``, GloVe ``.txt`` or fastText ``.vec`` file (format detected from
  content, or given), read once and cached (see :mod:`embedspace.io.cache`);
- a space folder (``vectors.npy`` + ``vocab.txt``), memory-mapped as it is;
- a mini model folder written by ``train-mini`` (``model.safetensors``, ``config.json``,
  ``vocab.txt``): its W_E, as the ``mini`` space is the shipped model's;
- gensim's native ``.kv`` / ``.model`` files, which are Python pickles: refused unless
  ``trust_pickle=True``, since unpickling a file can run any code it carries.

A name wins over a file of the same name in the working folder.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from embedspace.errors import FormatError, InvalidInput, PickleRefused, UnknownSpaceError, suggest_keys
from embedspace.io import mini_model
from embedspace.io.cache import Allocate, cached_space
from embedspace.io.formats import FORMATS, Progress, detect_format, read_space_dir, read_vectors
from embedspace.io.registry import (
    Provider,
    Registry,
    SpaceInfo,
    check_space_name,
    limited,
    plugin_providers,
)
from embedspace.io.shipped import default_registry, default_space_name, shipped_registry
from embedspace.space import Space


def load_space(spec: str | os.PathLike | None = None, *, limit: int | None = None, format: str | None = None,
               trust_pickle: bool = False, keep_all_tokens: bool = False, remove_top: int | None = None,
               progress: Progress | None = None, registry: Registry | None = None) -> Space:
    """The space named or located by ``spec`` (default: :func:`~embedspace.io.shipped.default_space_name`).

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
        ``minilm-we`` only: keep word pieces, special and non-alphabetic tokens too.
    remove_top : int, optional
        Centre the space and remove its top ``remove_top`` principal directions before any cosine
        (all-but-the-top, :mod:`embedspace.analysis.isotropy`); 0 leaves it as it is. Default: the
        space's own (:func:`embedspace.io.mini_model.default_remove_top` for a mini model, else 0).
    progress : callable, optional
        ``progress(done, total)``, called now and then while a large vector file is read, or a
        space's matrix first built (not when it comes from the cache).
    registry : Registry, optional
        Where names are looked up. Default: the shipped spaces, then the installed plugins'.

    Raises
    ------
    UnknownSpaceError
        When ``spec`` is neither a name nor an existing path (the message suggests close names).
    InvalidInput
        For a ``limit`` below 1, an unknown ``format``, a ``format`` given with a name, or a
        ``remove_top`` outside 0..dims-1.

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
        raise InvalidInput(f"limit must be a positive number of keys, got {limit}")
    if format is not None and format not in FORMATS:
        raise InvalidInput(f"unknown format {format!r}; formats: {', '.join(FORMATS)}")
    if remove_top is not None and remove_top < 0:
        raise InvalidInput(f"remove_top must be 0 or more directions, got {remove_top}")
    spec = default_space_name() if spec is None else spec
    provider = find_provider(spec, registry)
    if provider is not None:
        if format is not None:
            raise InvalidInput(f"format applies to files only, not to the named space {spec!r}")
        extra = {} if progress is None else {"progress": progress}  # a long first build may report progress
        space = provider.loader(limit=limit, keep_all_tokens=keep_all_tokens, **extra)
        return postprocessed(space, provider.default_remove_top(space.dim) if remove_top is None else remove_top)
    path = Path(spec)
    if not path.exists():
        names = list(registry if registry is not None else default_registry())
        close = suggest_keys(str(spec), names)
        raise UnknownSpaceError(
            f"{str(spec)!r} is neither a space name ({', '.join(names)}) nor an existing file"
            + (f"; did you mean: {', '.join(close)}?" if close else ""))
    space = load_path(path, limit=limit, format=format, trust_pickle=trust_pickle, progress=progress)
    default = mini_model.default_remove_top(space.dim) if is_model_folder(path) else 0
    return postprocessed(space, default if remove_top is None else remove_top)


def postprocessed(space: Space, remove_top: int) -> Space:
    """``space`` with its top ``remove_top`` directions removed (all-but-the-top), or as it is for 0."""
    if not remove_top:
        return space
    from embedspace.analysis.isotropy import remove_top as all_but_the_top

    return all_but_the_top(space, remove_top)


def find_provider(spec: str | os.PathLike, registry: Registry | None = None) -> Provider | None:
    """The provider named ``spec`` in ``registry`` (default: the shipped spaces, then the plugins'), or None.

    Only a ``str`` can be a name. The installed plugins are looked up only for a name that is not
    a shipped space (so the shipped names and paths cost no look-up of installed packages).
    """
    if not isinstance(spec, str):
        return None
    if registry is not None:
        return registry.get(spec)
    shipped = shipped_registry()
    if spec in shipped:
        return shipped[spec]
    try:
        check_space_name(spec)
    except InvalidInput:
        return None  # a path ("vectors/x.bin"), never a name
    return plugin_providers().get(spec)


def known_spaces(registry: Registry | None = None) -> list[SpaceInfo]:
    """A :class:`SpaceInfo` for every named space (default: shipped, then plugins'); a failing one reads as unavailable."""
    return (registry if registry is not None else default_registry()).describe()


# -- files ----------------------------------------------------------------------------------------------
def is_model_folder(path: Path) -> bool:
    """Whether ``path`` is a mini model folder (written by ``train-mini``) rather than a space folder."""
    return path.is_dir() and not (path / "vectors.npy").is_file() and mini_model.is_model_folder(path)


def load_path(path: Path, *, limit: int | None = None, format: str | None = None,
              trust_pickle: bool = False, progress: Progress | None = None) -> Space:
    """A space from a vector file (cached), a space folder (memory-mapped) or a mini model folder (its W_E)."""
    if is_model_folder(path):
        model = mini_model.load_mini_model(path)
        return mini_model.mini_space(model, limit, name=path.resolve().name)
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
