"""Saving and loading models: weights as safetensors, the config as JSON, written atomically.

A model folder holds ``model.safetensors`` (flat names such as ``blocks.0.attn.c_attn.w``) and
``config.json`` (the :class:`~transformer.config.TransformerConfig` fields). Folders are written
under a temporary name and renamed into place, so a crash never leaves a half-written one.
"""
from __future__ import annotations

import itertools
import json
import logging
import os
from pathlib import Path

import numpy as np

from runtime.files import atomic_folder, default_file_mode
from transformer.backend import asnumpy
from transformer.config import TransformerConfig

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


def flatten(tree, prefix: str = "") -> dict:
    """A nested params dict as ``{"blocks.0.ln_1.g": array, ...}`` (arrays are not copied).

    Examples
    --------
    >>> sorted(flatten({"wte": 1, "blocks": [{"ln_1": {"g": 2}}]}))
    ['blocks.0.ln_1.g', 'wte']
    """
    if isinstance(tree, dict):
        return {k: v for key, value in tree.items() for k, v in flatten(value, f"{prefix}{key}.").items()}
    if isinstance(tree, list):
        return {k: v for i, value in enumerate(tree) for k, v in flatten(value, f"{prefix}{i}.").items()}
    return {prefix[:-1]: tree}


def unflatten(flat: dict) -> dict:
    """The inverse of :func:`flatten` (numeric path parts become list positions).

    Examples
    --------
    >>> unflatten({"blocks.0.ln_1.g": 2, "wte": 1})
    {'wte': 1, 'blocks': [{'ln_1': {'g': 2}}]}
    """
    root: dict = {}
    for name in sorted(flat, key=lambda n: [int(p) if p.isdigit() else -1 for p in n.split(".")]):
        parts = name.split(".")
        node = root
        for part, child in itertools.pairwise(parts):
            key = int(part) if part.isdigit() else part
            empty = [] if child.isdigit() else {}
            if isinstance(node, list):
                if key == len(node):
                    node.append(empty)
                node = node[key]
            else:
                node = node.setdefault(key, empty)
        last = parts[-1]
        if isinstance(node, list):
            node.append(flat[name])
        else:
            node[last] = flat[name]
    return root


def write_atomically(folder: Path, write) -> Path:
    """Call ``write(tmp_folder)`` in a temporary folder, then swap it in as ``folder`` (replacing it)."""
    with atomic_folder(folder) as tmp:
        write(tmp)
    return Path(folder)


def save_arrays(path: Path, arrays: dict, dtype=None, metadata: dict | None = None) -> None:
    """Write ``{name: array}`` (numpy or CuPy) to one safetensors file, cast to ``dtype`` if given.

    The file gets an ordinary file's permissions (safetensors itself creates it readable by its owner alone).
    """
    from safetensors.numpy import save_file
    host = {name: np.ascontiguousarray(asnumpy(a) if dtype is None else asnumpy(a).astype(dtype))
            for name, a in arrays.items()}
    save_file(host, str(path), metadata=metadata)
    os.chmod(path, default_file_mode())


def load_arrays(path: Path, dtype=None) -> dict:
    """``{name: numpy array}`` from a safetensors file, cast to ``dtype`` if given."""
    from safetensors.numpy import load_file
    arrays = load_file(str(path))
    return arrays if dtype is None else {k: v.astype(dtype) for k, v in arrays.items()}


def write_model_files(folder: Path, params: dict, cfg: TransformerConfig, dtype=None) -> None:
    """Write ``model.safetensors`` and ``config.json`` into an existing ``folder`` (not atomic alone)."""
    save_arrays(Path(folder) / WEIGHTS_FILE, flatten(params), dtype=dtype)
    (Path(folder) / CONFIG_FILE).write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")


def save_model(folder, params: dict, cfg: TransformerConfig, dtype=None, extra_files: dict | None = None) -> Path:
    """Write a model folder atomically; ``extra_files`` maps file names to text written beside it.

    Examples
    --------
    >>> import tempfile
    >>> from transformer.model import init_params
    >>> cfg = TransformerConfig(vocab_size=5, n_ctx=4, n_embd=4, n_head=1, n_layer=1)
    >>> folder = save_model(Path(tempfile.mkdtemp()) / "m", init_params(cfg), cfg)
    >>> params, loaded = load_model(folder)
    >>> loaded == cfg, params["blocks"][0]["mlp"]["c_fc"]["w"].shape
    (True, (4, 16))
    """
    def write(tmp: Path):
        write_model_files(tmp, params, cfg, dtype)
        for name, text in (extra_files or {}).items():
            (tmp / name).write_text(text)

    return write_atomically(Path(folder), write)


def load_model(folder, dtype=np.float32) -> tuple[dict, TransformerConfig]:
    """``(params, cfg)`` from a model folder, weights as ``dtype`` numpy arrays."""
    folder = Path(folder)
    for name in (WEIGHTS_FILE, CONFIG_FILE):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder} is not a model folder: {name} is missing")
    cfg = TransformerConfig.from_dict(json.loads((folder / CONFIG_FILE).read_text()))
    return unflatten(load_arrays(folder / WEIGHTS_FILE, dtype)), cfg
