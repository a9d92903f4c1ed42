"""Spaces from paths: :func:`load_path` (names are :func:`embedspace.catalog.load_space`'s).

A path is

- a word2vec ``.bin`` / ``.txt``, GloVe ``.txt`` or fastText ``.vec`` file (format detected from
  content, or given), read once and cached (see :mod:`embedspace.io.cache`);
- a space folder (``vectors.npy`` + ``vocab.txt``), memory-mapped as it is;
- a mini model folder written by ``train-mini`` (``model.safetensors``, ``config.json``,
  ``vocab.txt``): its W_E, as the ``mini`` space is the shipped model's;
- gensim's native ``.kv`` / ``.model`` files, which are Python pickles: refused unless
  ``trust_pickle=True``, since unpickling a file can run any code it carries.

A fastText ``.bin`` is read as an :class:`~embedspace.io.open_vocabulary.OpenVocabularySpace`: its
words are the rows, and any other word gets its vector from its character n-grams, as in gensim.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from embedspace.errors import FormatError, PickleRefused
from embedspace.io import mini_model
from embedspace.io.cache import Allocate, cached_space
from embedspace.io.checks import UTF8, KeyCodec, Progress
from embedspace.io.registry import limited
from embedspace.io.space_folder import read_space_dir
from embedspace.space import Space


def is_model_folder(path: Path) -> bool:
    """Whether ``path`` is a mini model folder (written by ``train-mini``) rather than a space folder."""
    return path.is_dir() and not (path / "vectors.npy").is_file() and mini_model.is_model_folder(path)


def load_path(path: Path, *, limit: int | None = None, format: str | None = None, trust_pickle: bool = False,
              codec: KeyCodec = UTF8, verify: bool = False, progress: Progress | None = None) -> Space:
    """A space from a vector file (cached), a space folder (memory-mapped) or a mini model folder (its W_E).

    ``codec`` decodes a file's keys; ``verify`` checks its cache entry against a hash of the whole
    file (see :func:`embedspace.io.cache.cached_space`); the other arguments are
    :func:`embedspace.catalog.load_space`'s.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "vectors.txt"
    >>> _ = path.write_text("3 2\\ncat 1 0\\ndog 0.9 0.1\\ncar 0 1\\n")
    >>> load_path(path, limit=2).index_to_key
    ['cat', 'dog']
    """
    if is_model_folder(path):
        model = mini_model.load_mini_model(path)
        return mini_model.mini_space(model, limit, name=path.resolve().name)
    if path.is_dir():
        keys, vectors, _ = read_space_dir(path, limit)
        return Space(keys, vectors, origin=str(path.resolve()), name=path.name)
    from embedspace.io.formats import detect_format, read_vectors  # the readers: only for a vector file

    fmt = format or detect_format(path)
    if fmt == "gensim":
        return load_gensim_native(path, limit, trust_pickle)

    def build(allocate: Allocate) -> Space:
        keys, vectors = read_vectors(path, fmt, limit, allocate, progress, encoding=codec.encoding,
                                     unicode_errors=codec.unicode_errors)  # duplicates dropped
        return Space(keys, vectors, origin=str(path.resolve()), name=path.name, unique_keys=True)

    settings = {"format": fmt, "limit": limit, "encoding": codec.encoding, "unicode_errors": codec.unicode_errors}
    space = cached_space(path, file_cache_key(path, limit), build, settings=settings, name=path.name, verify=verify)
    if fmt != "fasttext-bin":
        return space
    # a fastText .bin only: loading other files never imports these
    from embedspace.io.open_vocabulary import OpenVocabularySpace
    from embedspace.io.subwords import FastTextSubwords

    subwords = FastTextSubwords(path, encoding=codec.encoding, unicode_errors=codec.unicode_errors)
    return OpenVocabularySpace.over(space, subwords, cased=True)


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
