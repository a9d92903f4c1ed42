"""Every space by name or by path: :func:`load_space`, and the named spaces embedspace ships with.

A *spec* is a registered name or a path (a vector file, a space folder, a ``train-mini`` model
folder: :func:`embedspace.io.loading.load_path`). The shipped names, registered here explicitly by
:func:`shipped_registry`:

- ``minilm``: all-MiniLM-L6-v2 with an open vocabulary, each candidate word read alone by the model
  (:mod:`embedspace.contextual.minilm_space`); any other word it can read computed when asked;
- ``word2vec``: the shipped word2vec model (``data/word2vec``);
- ``mini``: our own mini GPT's W_E (``data/mini``, :mod:`embedspace.io.mini_model`), centred with its
  top directions removed by default;
- ``minilm-we``: the whole-word rows of all-MiniLM-L6-v2's token embeddings W_E;
- ``minilm-distilled``: MiniLM's layer-6 vectors averaged over each word's sentences in a corpus
  (``data/minilm-distilled``, written by ``embedspace distill``).

:func:`default_registry` adds the installed plugins' spaces; :func:`spaces_holding` says, from the
vocabulary files alone, which shipped spaces hold a word. A name wins over a file of the same name
in the working folder.

Examples
--------
>>> list(shipped_registry())
['minilm', 'word2vec', 'mini', 'minilm-we', 'minilm-distilled']
>>> load_space("word2vec", limit=3).index_to_key
['the', 'of', 'a']
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from embedspace.contextual import minilm_space
from embedspace.errors import InvalidInput, UnknownSpaceError, suggest_keys
from embedspace.io import mini_model, shipped
from embedspace.io.checks import KeyCodec, Progress
from embedspace.io.detect import FORMATS
from embedspace.io.loading import is_model_folder, load_path
from embedspace.io.registry import Provider, Registry, SpaceInfo, check_space_name, plugin_providers
from embedspace.space import Space
from transformer.minilm_files import ModelNotFound, find_minilm_dir

log = logging.getLogger(__name__)


def load_space(spec: str | os.PathLike | None = None, *, limit: int | None = None, format: str | None = None,
               trust_pickle: bool = False, keep_all_tokens: bool = False, remove_top: int | None = None,
               encoding: str = "utf-8", unicode_errors: str = "strict", verify: bool = False,
               progress: Progress | None = None, registry: Registry | None = None) -> Space:
    """The space named or located by ``spec`` (default: :func:`default_space_name`).

    Parameters
    ----------
    spec : str or path, optional
        A registered name (``minilm``, ``word2vec``, ``mini``, ``minilm-we``, ``minilm-distilled``)
        or a path (file or folder).
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
    encoding, unicode_errors : str
        How a file's keys are decoded, as gensim's ``load_word2vec_format`` takes them
        (``unicode_errors``: "strict", "replace" or "ignore"); files only.
    verify : bool
        Also compare a hash of the whole source with the one its cache entry was built from (the
        cache otherwise trusts the file's identity, size, times and end blocks).
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
        For an empty ``spec``, a ``limit`` below 1, an unknown ``format`` or ``encoding``, file
        options given with a name, or a ``remove_top`` outside 0..dims-1.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "vectors.txt"
    >>> _ = path.write_bytes("3 2\\ncaf\\xe9 1 0\\ndog 0.9 0.1\\ncar 0 1\\n".encode("latin-1"))
    >>> load_space(path, limit=2, encoding="latin-1").index_to_key
    ['café', 'dog']
    """
    if limit is not None and limit < 1:
        raise InvalidInput(f"limit must be a positive number of keys, got {limit}")
    if format is not None and format not in FORMATS:
        raise InvalidInput(f"unknown format {format!r}; formats: {', '.join(FORMATS)}")
    if remove_top is not None and remove_top < 0:
        raise InvalidInput(f"remove_top must be 0 or more directions, got {remove_top}")
    if isinstance(spec, str) and not spec.strip():
        raise InvalidInput("an empty space name: give a name (embedspace spaces lists them) or a path (./ for this folder)")
    codec = KeyCodec(encoding, unicode_errors)  # checked here, whatever the spec
    spec = default_space_name() if spec is None else spec
    provider = find_provider(spec, registry)
    if provider is not None:
        given = [name for name, value in (("format", format), ("encoding", None if codec.is_utf8 else encoding),
                                          ("unicode_errors", None if unicode_errors == "strict" else unicode_errors))
                 if value is not None]
        if given:
            raise InvalidInput(f"{', '.join(given)} applies to files only, not to the named space {spec!r}")
        extra = {} if progress is None else {"progress": progress}  # a long first build may report progress
        space = provider.loader(limit=limit, keep_all_tokens=keep_all_tokens, verify=verify, **extra)
        return postprocessed(space, provider.default_remove_top(space.dim) if remove_top is None else remove_top)
    path = Path(spec)
    if not path.exists():
        names = list(registry if registry is not None else default_registry())
        close = suggest_keys(str(spec), names)
        raise UnknownSpaceError(
            f"{str(spec)!r} is neither a space name ({', '.join(names)}) nor an existing file"
            + (f"; did you mean: {', '.join(close)}?" if close else ""))
    space = load_path(path, limit=limit, format=format, trust_pickle=trust_pickle, codec=codec, verify=verify,
                      progress=progress)
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
    registered = shipped_registry()
    if spec in registered:
        return registered[spec]
    try:
        check_space_name(spec)
    except InvalidInput:
        return None  # a path ("vectors/x.bin"), never a name
    return plugin_providers().get(spec)


def known_spaces(registry: Registry | None = None) -> list[SpaceInfo]:
    """A :class:`SpaceInfo` for every named space (default: shipped, then plugins'); a failing one reads as unavailable."""
    return (registry if registry is not None else default_registry()).describe()


# -- the registries ----------------------------------------------------------------------------------------
SHIPPED = ("minilm", "word2vec", "mini", "minilm-we", "minilm-distilled")


def shipped_registry() -> Registry:
    """A new registry of the shipped spaces: ``minilm``, ``word2vec``, ``mini``, ``minilm-we``, ``minilm-distilled``."""
    providers = (minilm_space.MINILM_PROVIDER, shipped.WORD2VEC_PROVIDER, mini_model.MINI_PROVIDER,
                 shipped.MINILM_WE_PROVIDER, shipped.DISTILLED_PROVIDER)
    return Registry(dict(zip(SHIPPED, providers)))


def default_registry() -> Registry:
    """The shipped spaces, then the installed plugins' (a plugin cannot take a shipped name)."""
    registry = shipped_registry()
    for name, provider in plugin_providers().items():
        if name in registry:
            log.warning("a plugin declares the space %r, which is a shipped space; the plugin's is ignored", name)
            continue
        registry.register(name, provider)
    return registry


def default_space_name() -> str:
    """``"minilm"`` when its weights are found, else ``"word2vec"`` (the shipped model)."""
    try:
        find_minilm_dir()
    except ModelNotFound:
        return "word2vec"
    return "minilm"


# -- which shipped space holds a word ------------------------------------------------------------------------
def spaces_holding(word: str) -> list[str]:
    """The shipped spaces that hold ``word`` (or its lower-case form), told from their word files alone.

    Cheap: no vectors or model are loaded. ``minilm`` counts as holding its candidate words and its
    tokenizer's whole words (it reads any other word too, typos included, so those are not claimed);
    a space whose files are missing is left out.
    """
    forms = {word, word.lower()}
    found = []
    try:
        folder = find_minilm_dir()
    except ModelNotFound:
        folder = None
    whole_words = set()
    if folder is not None:
        whole_words = {t for t in (folder / "vocab.txt").read_text("utf-8").split("\n") if shipped.is_whole_word(t)}
        if minilm_space.candidates_path().is_file() and forms & (set(minilm_space.candidate_words()) | whole_words):
            found.append("minilm")
    for name, path, is_key in (("word2vec", shipped.word2vec_dir() / "vocab.txt", bool),
                               ("mini", mini_model.mini_dir() / mini_model.VOCAB_FILE, mini_model.is_word),
                               ("minilm-distilled", shipped.distilled_dir() / "vocab.txt", bool)):
        if path.is_file() and any(is_key(key) for key in forms & set(path.read_text("utf-8").split("\n"))):
            found.append(name)
    if forms & whole_words:
        found.append("minilm-we")
    return sorted(found, key=SHIPPED.index)
