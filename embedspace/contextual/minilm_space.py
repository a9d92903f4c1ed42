"""The ``minilm`` space: every word read alone by all-MiniLM-L6-v2, an open vocabulary.

Its rows are the candidate words (``data/wordlists/frequent_words.txt``, most frequent first), each
read alone by the model (:mod:`embedspace.contextual.isolated`, layers :data:`MINILM_LAYERS` pooled);
the matrix is built once, on the model's threads, and cached beside the other spaces. Any other word
the model can read gets its vector when asked (an
:class:`~embedspace.io.open_vocabulary.OpenVocabularySpace` with a
:class:`~embedspace.contextual.isolated.WordReader`). :data:`MINILM_PROVIDER` registers it
(:func:`embedspace.catalog.shipped_registry`).

Examples
--------
>>> MINILM_LAYERS, len(candidate_words()) > 30_000
((2, 6), True)
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from embedspace.errors import MissingFile
from embedspace.io.cache import Allocate, cached_space
from embedspace.io.registry import Provider, SpaceInfo, limited
from embedspace.paths import minilm_stamps, wordlists_dir
from embedspace.space import Space
from transformer.minilm_files import MINILM_SHA256, ModelNotFound, find_minilm_dir, verify_checksum

log = logging.getLogger(__name__)

MINILM_LAYERS = (2, 6)  # pooled layers, chosen on questions-words, SimLex-999 and WordSim-353 (docs/spaces.md)
CANDIDATES_FILE = "frequent_words.txt"  # in data/wordlists: the candidate words, most frequent first


def candidates_path() -> Path:
    """The ranked candidate words of the ``minilm`` space (``data/wordlists/frequent_words.txt``)."""
    return wordlists_dir() / CANDIDATES_FILE


def candidate_words() -> list[str]:
    """The candidate words, most frequent first (see data/README.md for the ranking).

    Raises
    ------
    MissingFile
        When the word list is not in the data folder.
    """
    path = candidates_path()
    if not path.is_file():
        raise MissingFile(f"the minilm candidate words are missing: {path} (rebuild: python data/build_vocabulary.py)")
    return [word for word in path.read_text(encoding="utf-8").split("\n") if word]


def open_cache_key(words: list[str], layers: tuple[int, ...]) -> tuple[str, dict]:
    """The cache entry of the candidate matrix and its settings: they change with the words and the layers."""
    digest = hashlib.blake2b("\n".join(words).encode("utf-8"), digest_size=8).hexdigest()
    settings = {"sha256": MINILM_SHA256, "layers": list(layers), "candidates": digest,
                "pooling": "pieces mean-pooled per layer, unit length, summed"}
    tag = hashlib.blake2b(json.dumps(settings, sort_keys=True).encode(), digest_size=6).hexdigest()
    return f"minilm-open-{tag}", settings


def load_minilm(*, limit: int | None = None, progress=None, verify: bool = False, **_options) -> Space:
    """The ``minilm`` space: candidate words read alone (cached), any other readable word read when asked.

    ``progress(done, total)`` follows the candidate words while the matrix is first built;
    ``verify`` checks the cached matrix against a hash of the whole model file.
    """
    folder = find_minilm_dir()
    words = candidate_words()

    def build(allocate: Allocate) -> Space:  # the model on its threads: imported only for this first build
        from embedspace.contextual.encoders import load_encoder
        from embedspace.contextual.isolated import isolated_vectors

        verify_checksum(folder)
        with load_encoder("minilm") as encoder:
            vectors = allocate((len(words), encoder.cfg.n_embd))  # [V, D]
            vectors[:] = isolated_vectors(encoder, words, MINILM_LAYERS, progress=progress)
        return Space(words, vectors, origin=minilm_origin(folder, len(words)), name="minilm", unique_keys=True)

    # imported only when the space is loaded: a query on another space never pays for them
    from embedspace.contextual.isolated import WordReader
    from embedspace.io.open_vocabulary import OpenVocabularySpace

    key, settings = open_cache_key(words, MINILM_LAYERS)
    rows = cached_space(folder / "model.safetensors", key, build, settings=settings, name="minilm", verify=verify)
    reader = WordReader(lambda: minilm_model(folder), lambda: minilm_tokenizer(folder), MINILM_LAYERS)
    return limited(OpenVocabularySpace.over(rows, reader, cased=False), limit)


def minilm_model(folder: Path) -> tuple:
    """(cfg, params) of all-MiniLM-L6-v2 in ``folder``, checksum-verified (or unchanged since it was)."""
    from transformer.pretrained import load_minilm as load_weights  # imported only when a word is read

    return load_weights(folder, stamps=minilm_stamps())


def minilm_tokenizer(folder: Path):
    """The WordPiece tokenizer of ``folder``."""
    from transformer.wordpiece import WordPiece  # imported only when a word outside the candidates is typed

    return WordPiece.from_folder(folder)


def minilm_origin(folder: Path, count: int) -> str:
    layers = " and ".join(map(str, MINILM_LAYERS))
    return (f"all-MiniLM-L6-v2, each word read alone, layers {layers} ({folder}); {count:,} candidate words, "
            "any other word read when asked")


def describe_minilm() -> SpaceInfo:
    """Where MiniLM is, and how many candidate words the ``minilm`` space has (from the word list)."""
    try:
        folder = find_minilm_dir()
    except ModelNotFound as error:
        return SpaceInfo("minilm", False, reason=str(error))
    if not candidates_path().is_file():
        return SpaceInfo("minilm", False, reason=f"{candidates_path()} is missing")
    count = len(candidate_words())
    dims = json.loads((folder / "config.json").read_text("utf-8")).get("hidden_size")
    return SpaceInfo("minilm", True, size=count, dims=dims, origin=minilm_origin(folder, count))


MINILM_PROVIDER = Provider(load_minilm, describe_minilm)
