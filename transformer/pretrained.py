"""Pretrained all-MiniLM-L6-v2 in our own transformer: its config and safetensors mapped onto our params.

The checkpoint is a 6-layer BERT encoder (post-LayerNorm, exact erf GELU, learned positions, two token
types). Its tensors are renamed onto our nested params through ONE explicit table, :data:`NAME_MAP`:
PyTorch's ``Linear`` stores ``weight`` as [out, in], ours is [in, out] (``x @ w + b``), so linear weights
are transposed, and the separate query, key and value projections are concatenated into one ``c_attn``
([C, 3C], columns q | k | v, each split into heads the same way BERT splits them).
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from transformer.checkpoint import unflatten
from transformer.config import TransformerConfig
from transformer.errors import UnsupportedCheckpoint
from transformer.minilm_files import find_minilm_dir, verify_checksum

log = logging.getLogger(__name__)

# Our param path -> the checkpoint tensor(s) it is made of. "{i}" is the block index. Several names are
# concatenated along the output axis, in order. Paths ending in ".w" are linear weights: each checkpoint
# tensor is [out, in] and is transposed to our [in, out]. Embedding tables keep their [rows, C] layout.
EMBEDDING_MAP: dict[str, tuple[str, ...]] = {
    "wte": ("embeddings.word_embeddings.weight",),             # W_E [V, C]
    "wpe": ("embeddings.position_embeddings.weight",),         # [T_max, C]
    "wtt": ("embeddings.token_type_embeddings.weight",),       # [2, C]
    "ln_emb.g": ("embeddings.LayerNorm.weight",),              # [C]
    "ln_emb.b": ("embeddings.LayerNorm.bias",),                # [C]
}
BLOCK_MAP: dict[str, tuple[str, ...]] = {
    "attn.c_attn.w": tuple(f"encoder.layer.{{i}}.attention.self.{p}.weight" for p in ("query", "key", "value")),
    "attn.c_attn.b": tuple(f"encoder.layer.{{i}}.attention.self.{p}.bias" for p in ("query", "key", "value")),
    "attn.c_proj.w": ("encoder.layer.{i}.attention.output.dense.weight",),   # W_O [C, C]
    "attn.c_proj.b": ("encoder.layer.{i}.attention.output.dense.bias",),
    "ln_1.g": ("encoder.layer.{i}.attention.output.LayerNorm.weight",),      # after attention + residual
    "ln_1.b": ("encoder.layer.{i}.attention.output.LayerNorm.bias",),
    "mlp.c_fc.w": ("encoder.layer.{i}.intermediate.dense.weight",),           # [C, F]
    "mlp.c_fc.b": ("encoder.layer.{i}.intermediate.dense.bias",),
    "mlp.c_proj.w": ("encoder.layer.{i}.output.dense.weight",),               # [F, C]
    "mlp.c_proj.b": ("encoder.layer.{i}.output.dense.bias",),
    "ln_2.g": ("encoder.layer.{i}.output.LayerNorm.weight",),                # after MLP + residual
    "ln_2.b": ("encoder.layer.{i}.output.LayerNorm.bias",),
}
# In the checkpoint but deliberately unused: a buffer of 0..511, and the [CLS] pooler (sentence
# embeddings mean-pool the last hidden states instead).
IGNORED = ("embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias")
PREFIXES = ("bert.",)  # BertFor... checkpoints (pre-training heads) prefix the encoder with "bert."


def name_map(n_layer: int) -> dict[str, tuple[str, ...]]:
    """The full table for ``n_layer`` blocks: our dotted path (``blocks.0.attn.c_attn.w``) -> checkpoint names.

    Examples
    --------
    >>> name_map(6)["blocks.5.attn.c_attn.b"][1]
    'encoder.layer.5.attention.self.key.bias'
    """
    table = dict(EMBEDDING_MAP)
    for i in range(n_layer):
        table.update({f"blocks.{i}.{ours}": tuple(n.format(i=i) for n in theirs) for ours, theirs in BLOCK_MAP.items()})
    return table


def config_from_json(path: str | os.PathLike) -> TransformerConfig:
    """Our config for the BERT ``config.json`` at ``path``; a model we cannot run is an UnsupportedCheckpoint naming why."""
    hf = json.loads(Path(path).read_text())
    expected = {"model_type": "bert", "hidden_act": "gelu", "position_embedding_type": "absolute"}
    for key, value in expected.items():
        if hf.get(key, value) != value:
            raise UnsupportedCheckpoint(f"{path}: {key} is {hf[key]!r}; only {value!r} is supported")
    fields = ("vocab_size", "max_position_embeddings", "hidden_size", "num_attention_heads", "num_hidden_layers",
              "intermediate_size", "type_vocab_size", "layer_norm_eps")
    missing = [f for f in fields if f not in hf]
    if missing:
        raise UnsupportedCheckpoint(f"{path} lacks the field(s) {', '.join(missing)}")
    return TransformerConfig(
        vocab_size=hf["vocab_size"], n_ctx=hf["max_position_embeddings"], n_embd=hf["hidden_size"],
        n_head=hf["num_attention_heads"], n_layer=hf["num_hidden_layers"], n_inner=hf["intermediate_size"],
        causal=False, norm="post", gelu="erf", positions="learned", tied_embeddings=False,
        n_token_types=hf["type_vocab_size"], norm_eps=hf["layer_norm_eps"], lm_head=False,
    )


def params_from_state(state: dict[str, np.ndarray], cfg: TransformerConfig) -> dict:
    """Our nested params from a BERT state dict (names as in the checkpoint, or with a ``bert.`` prefix).

    Raises
    ------
    UnsupportedCheckpoint
        (a ValueError) Naming every missing tensor, every tensor the map does not know, and any shape that does not fit ``cfg``.
    """
    state = {_strip_prefix(name): tensor for name, tensor in state.items()}
    table = name_map(cfg.n_layer)
    wanted = {name for names in table.values() for name in names}
    missing = sorted(wanted - set(state))
    unknown = sorted(set(state) - wanted - set(IGNORED))
    if missing or unknown:
        raise UnsupportedCheckpoint("the checkpoint does not fit the MiniLM name map: "
                         f"missing {missing or 'nothing'}; unknown {unknown or 'nothing'}")
    flat = {ours: _combine(ours, [state[n] for n in theirs]) for ours, theirs in table.items()}
    _check_shapes(flat, cfg)
    return unflatten(flat)


def load_minilm(folder: str | os.PathLike | None = None, *, verify: bool = True,
                stamps: str | os.PathLike | None = None) -> tuple[TransformerConfig, dict]:
    """all-MiniLM-L6-v2 as ``(cfg, params)`` for :func:`transformer.model.forward`.

    Parameters
    ----------
    folder : path, optional
        The model's folder; by default found by :func:`transformer.minilm_files.find_minilm_dir`.
    verify : bool
        Check the sha256 of every file the model reads (weights, config, vocabulary, tokenizer)
        against the official checkpoint's first (a fraction of a second).
    stamps : path, optional
        A record of the files already verified (see :func:`transformer.minilm_files.verify_checksum`):
        unchanged files are not read again.

    Examples
    --------
    >>> cfg, params = load_minilm()
    >>> cfg.n_layer, params["blocks"][0]["attn"]["c_attn"]["w"].shape
    (6, (384, 1152))
    """
    from safetensors.numpy import load_file

    folder = find_minilm_dir(folder)
    weights = verify_checksum(folder, stamps=stamps) if verify else Path(folder) / "model.safetensors"
    cfg = config_from_json(Path(folder) / "config.json")
    params = params_from_state(load_file(weights), cfg)
    log.info("loaded all-MiniLM-L6-v2 from %s", folder)
    return cfg, params


def _strip_prefix(name: str) -> str:
    for prefix in PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _combine(ours: str, tensors: list[np.ndarray]) -> np.ndarray:
    """Checkpoint tensors -> one of ours: linear weights transposed to [in, out], parts joined on the out axis."""
    if ours.endswith(".w"):
        tensors = [t.T for t in tensors]                       # [out, in] -> [in, out]
    joined = tensors[0] if len(tensors) == 1 else np.concatenate(tensors, axis=-1)
    return np.ascontiguousarray(joined, dtype=np.float32)


def _check_shapes(flat: dict[str, np.ndarray], cfg: TransformerConfig) -> None:
    c, f = cfg.n_embd, cfg.n_inner
    expected = {"wte": (cfg.vocab_size, c), "wpe": (cfg.n_ctx, c), "wtt": (cfg.n_token_types, c),
                "attn.c_attn.w": (c, 3 * c), "attn.c_attn.b": (3 * c,), "attn.c_proj.w": (c, c),
                "mlp.c_fc.w": (c, f), "mlp.c_fc.b": (f,), "mlp.c_proj.w": (f, c)}
    for path, tensor in flat.items():
        key = path.split(".", 2)[2] if path.startswith("blocks.") else path
        shape = expected.get(key, (c,))
        if tensor.shape != shape:
            raise UnsupportedCheckpoint(f"checkpoint tensor for {path} has shape {tensor.shape}; the config needs {shape}")
