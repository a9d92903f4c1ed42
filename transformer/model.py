"""The whole transformer, plain: parameters, ``forward``, one block, ``backward``, the LM loss.

Read top to bottom, as jaymody/picoGPT's gpt2.py and karpathy/llm.c's train_gpt2.c: each step a
line, its shapes beside it. Faster ways to run this same model (threads, head splits, reused
buffers) live in :mod:`transformer.parallel`, which composes these functions.

Parameters are a nested dict named like GPT-2's checkpoint, weights stored [in, out]::

    {"wte": [V, C], "wpe": [T_max, C] (learned positions), "wtt": [n_types, C] (token types),
     "ln_emb": {"g", "b"} (post-norm only),
     "blocks": [{"ln_1": {"g", "b"}, "attn": {"c_attn": {"w", "b"}, "c_proj": {"w", "b"}},
                 "ln_2": {"g", "b"}, "mlp": {"c_fc": {"w", "b"}, "c_proj": {"w", "b"}}}, ...],
     "ln_f": {"g", "b"} (pre-norm only), "lm_head": {"w": [C, V]} (untied lm_head only)}

A pre-norm block (GPT-2) is ``x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))``; a post-norm block
(BERT) is ``x = ln_1(x + attn(x)); x = ln_2(x + mlp(x))``.

Shapes: B batch, T positions, C width, H heads, F MLP width, V vocabulary, L blocks, N = B * T.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from transformer import attention, layers
from transformer.backend import xp_of
from transformer.config import TransformerConfig
from transformer.errors import InvalidInput


class BlockCache(NamedTuple):
    """What one block's backward needs (each entry is that layer's forward cache)."""

    ln_1: tuple
    attn: attention.AttentionCache
    ln_2: tuple
    mlp: tuple


class ForwardCache(NamedTuple):
    """Named activations of one forward pass (llm.c's ActivationTensors, as caches).

    ``hidden_states`` and ``attentions`` are the residual stream and attention patterns the
    analysis reads: the contextual vectors are these, not a recomputation.
    """

    embed: tuple                 # embedding_forward cache (tokens, token types, table shapes)
    ln_emb: tuple | None         # post-norm: the embeddings' LayerNorm cache
    blocks: list                 # [BlockCache] * L
    ln_f: tuple | None           # pre-norm: the final LayerNorm cache
    head_input: object           # [B, T, C] what enters W_U (after ln_f in pre-norm)
    hidden_states: list          # (L + 1) x [B, T, C]: what enters block 0, then each block's output
    attentions: list             # L x [B, H, T, T]: softmax attention probabilities


# --- parameters ---------------------------------------------------------------------------------

def init_params(cfg: TransformerConfig, seed: int = 0, dtype=np.float32) -> dict:
    """Fresh parameters for ``cfg`` (GPT-2's initialisation), as numpy arrays of ``dtype``.

    Weights are normal(0, 0.02), output projections scaled by 1/sqrt(2L) (one per residual
    branch), biases zero, LayerNorm gains one.

    Examples
    --------
    >>> cfg = TransformerConfig(vocab_size=10, n_ctx=4, n_embd=8, n_head=2, n_layer=1)
    >>> init_params(cfg)["blocks"][0]["attn"]["c_attn"]["w"].shape
    (8, 24)
    """
    rng = np.random.default_rng(seed)
    c, f = cfg.n_embd, cfg.n_inner

    def normal(*shape, std=0.02):
        return (rng.standard_normal(shape) * std).astype(dtype)

    def norm():
        return {"g": np.ones(c, dtype), "b": np.zeros(c, dtype)}                   # [C], [C]

    def linear(n_in, n_out, std=0.02):
        return {"w": normal(n_in, n_out, std=std), "b": np.zeros(n_out, dtype)}    # [in, out], [out]

    proj_std = 0.02 / math.sqrt(2 * cfg.n_layer)
    params = {"wte": normal(cfg.vocab_size, c)}                                    # [V, C]
    if cfg.positions == "learned":
        params["wpe"] = normal(cfg.n_ctx, c, std=0.01)                             # [T_max, C]
    if cfg.n_token_types:
        params["wtt"] = normal(cfg.n_token_types, c)                               # [n_types, C]
    if cfg.norm == "post":
        params["ln_emb"] = norm()
    params["blocks"] = [
        {"ln_1": norm(), "attn": {"c_attn": linear(c, 3 * c), "c_proj": linear(c, c, proj_std)},
         "ln_2": norm(), "mlp": {"c_fc": linear(c, f), "c_proj": linear(f, c, proj_std)}}
        for _ in range(cfg.n_layer)]
    if cfg.norm == "pre":
        params["ln_f"] = norm()
    if cfg.has_lm_head_matrix:
        params["lm_head"] = {"w": normal(c, cfg.vocab_size)}                       # [C, V]
    return params


# --- forward ------------------------------------------------------------------------------------

def check_inputs(tokens, cfg: TransformerConfig, attention_mask, token_type_ids, xp):
    """Tokens as [B, T] ints (a [T] row is promoted) with masks to match; InvalidInput on bad input."""
    tokens = xp.asarray(tokens)
    if tokens.ndim == 1:
        tokens = tokens[None]
        attention_mask = None if attention_mask is None else xp.asarray(attention_mask)[None]
        token_type_ids = None if token_type_ids is None else xp.asarray(token_type_ids)[None]
    if tokens.ndim != 2 or tokens.shape[1] == 0:
        raise InvalidInput(f"tokens must be [B, T] or [T] with T >= 1, got shape {tuple(tokens.shape)}")
    if tokens.dtype.kind not in "iu":
        raise InvalidInput(f"tokens must be integers, got {tokens.dtype}")
    if tokens.shape[1] > cfg.n_ctx:
        raise InvalidInput(f"{tokens.shape[1]} tokens exceed the context length n_ctx={cfg.n_ctx}")
    if int(tokens.min()) < 0 or int(tokens.max()) >= cfg.vocab_size:
        raise InvalidInput(f"token ids must lie in [0, {cfg.vocab_size}); got {int(tokens.min())}..{int(tokens.max())}")
    for name, extra in (("attention_mask", attention_mask), ("token_type_ids", token_type_ids)):
        if extra is not None and tuple(xp.asarray(extra).shape) != tuple(tokens.shape):
            raise InvalidInput(f"{name} shape {tuple(xp.asarray(extra).shape)} != tokens shape {tuple(tokens.shape)}")
    if token_type_ids is not None and not cfg.n_token_types:
        raise InvalidInput("token_type_ids given but the config has no token types")
    if cfg.n_token_types and token_type_ids is None:
        token_type_ids = xp.zeros(tokens.shape, dtype=tokens.dtype)
    return tokens, attention_mask, token_type_ids


def position_rows(params: dict, cfg: TransformerConfig, t: int):
    """The position rows for positions 0..t-1: [t, C] (learned table or fixed sinusoids)."""
    wte = params["wte"]
    if cfg.positions == "learned":
        return params["wpe"][:t]
    return layers.sinusoidal_positions(t, cfg.n_embd, dtype=wte.dtype, xp=xp_of(wte))


def unembedding(params: dict, cfg: TransformerConfig):
    """W_U [C, V]: W_E transposed when tied, else the lm_head matrix."""
    return params["wte"].T if cfg.tied_embeddings else params["lm_head"]["w"]


def forward(params: dict, tokens, cfg: TransformerConfig, attention_mask=None, token_type_ids=None, *, out=None):
    """Run the transformer on token ids.

    Parameters
    ----------
    params : nested dict (see the module docstring), numpy or CuPy arrays
    tokens : int array [B, T] (or [T])
    attention_mask : [B, T], 1 for real tokens and 0 for padding (padded keys get no attention)
    token_type_ids : [B, T] segment ids (BERT), zeros when omitted
    out : optional [B, T, V] array the logits are written into, as numpy's ``out=`` (a training
        loop reuses one from step to step: see :mod:`transformer.parallel`)

    Returns
    -------
    out : logits [B, T, V] when ``cfg.lm_head``, else the final hidden states [B, T, C]
    cache : :class:`ForwardCache` (``hidden_states``, ``attentions``, and what backward needs)

    Raises
    ------
    InvalidInput
        For tokens that are not [B, T] integers in [0, V), longer than n_ctx, or masks of another shape.

    Examples
    --------
    >>> cfg = TransformerConfig(vocab_size=10, n_ctx=4, n_embd=8, n_head=2, n_layer=2)
    >>> logits, cache = forward(init_params(cfg), [[1, 2, 3]], cfg)
    >>> logits.shape, len(cache.hidden_states), cache.attentions[0].shape
    ((1, 3, 10), 3, (1, 2, 3, 3))
    """
    xp = xp_of(params["wte"])
    tokens, attention_mask, token_type_ids = check_inputs(tokens, cfg, attention_mask, token_type_ids, xp)
    b, t = tokens.shape
    x, embed = layers.embedding_forward(                                    # [B, T] -> [B, T, C]
        tokens, params["wte"], position_rows(params, cfg, t), token_type_ids, params.get("wtt"))
    ln_emb = None
    if cfg.norm == "post":
        x, ln_emb = layers.layer_norm_forward(x, **params["ln_emb"], eps=cfg.norm_eps)  # [B, T, C]
    hidden_states, attentions, blocks = [x], [], []
    for block in params["blocks"]:
        x, block_cache = block_forward(x, block, cfg, attention_mask)       # [B, T, C] -> [B, T, C]
        hidden_states.append(x)                                             # (L + 1) x [B, T, C]
        attentions.append(block_cache.attn.probs)                           # L x [B, H, T, T]
        blocks.append(block_cache)
    ln_f = None
    if cfg.norm == "pre":
        x, ln_f = layers.layer_norm_forward(x, **params["ln_f"], eps=cfg.norm_eps)  # [B, T, C]
    result = x                                                              # [B, T, C]
    if cfg.lm_head:
        logits = None if out is None else out.reshape(b * t, cfg.vocab_size)       # [N, V] view of out
        result = xp.matmul(x.reshape(b * t, cfg.n_embd), unembedding(params, cfg), out=logits)  # [N, C] @ [C, V]
        result = result.reshape(b, t, cfg.vocab_size)                       # [B, T, V]
    return result, ForwardCache(embed, ln_emb, blocks, ln_f, x, hidden_states, attentions)


# --- one block ----------------------------------------------------------------------------------

def block_forward(x, block: dict, cfg: TransformerConfig, attention_mask=None):
    """One transformer block, pre- or post-norm: [B, T, C] -> ([B, T, C], BlockCache)."""
    eps, n_head, causal = cfg.norm_eps, cfg.n_head, cfg.causal
    if cfg.norm == "pre":
        h, ln_1 = layers.layer_norm_forward(x, **block["ln_1"], eps=eps)              # [B, T, C]
        a, attn = attention.attention_forward(h, **block["attn"], n_head=n_head, causal=causal,
                                              attention_mask=attention_mask)        # [B, T, C]
        x, _ = layers.residual_forward(x, a)                                          # x + attn(ln_1(x))
        h, ln_2 = layers.layer_norm_forward(x, **block["ln_2"], eps=eps)              # [B, T, C]
        m, mlp = layers.mlp_forward(h, **block["mlp"], gelu=cfg.gelu)                 # [B, T, C] -> [B, T, C]
        x, _ = layers.residual_forward(x, m)                                          # x + mlp(ln_2(x))
    else:
        a, attn = attention.attention_forward(x, **block["attn"], n_head=n_head, causal=causal,
                                              attention_mask=attention_mask)        # [B, T, C]
        x, _ = layers.residual_forward(x, a)                                          # x + attn(x)
        x, ln_1 = layers.layer_norm_forward(x, **block["ln_1"], eps=eps)              # ln_1(x + attn(x))
        m, mlp = layers.mlp_forward(x, **block["mlp"], gelu=cfg.gelu)                 # [B, T, C] -> [B, T, C]
        x, _ = layers.residual_forward(x, m)                                          # x + mlp(x)
        x, ln_2 = layers.layer_norm_forward(x, **block["ln_2"], eps=eps)              # ln_2(x + mlp(x))
    return x, BlockCache(ln_1, attn, ln_2, mlp)


def block_backward(dx, cache: BlockCache, cfg: TransformerConfig):
    """Gradients ``(dx, block_grads)`` of :func:`block_forward`: its lines in reverse."""
    grads = {}
    if cfg.norm == "pre":
        dx, dm = layers.residual_backward(dx, None)                                   # x + mlp(ln_2(x))
        dh, grads["mlp"] = layers.mlp_backward(dm, cache.mlp)                         # [B, T, C]
        dh, *ln_2 = layers.layer_norm_backward(dh, cache.ln_2)                        # [B, T, C]
        dx = dx + dh                                                                  # both paths to x
        dx, da = layers.residual_backward(dx, None)                                   # x + attn(ln_1(x))
        dh, grads["attn"] = attention.attention_backward(da, cache.attn)              # [B, T, C]
        dh, *ln_1 = layers.layer_norm_backward(dh, cache.ln_1)                        # [B, T, C]
        dx = dx + dh                                                                  # both paths to x
    else:
        dx, *ln_2 = layers.layer_norm_backward(dx, cache.ln_2)                        # ln_2(x + mlp(x))
        dx, dm = layers.residual_backward(dx, None)                                   # x + mlp(x)
        dh, grads["mlp"] = layers.mlp_backward(dm, cache.mlp)                         # [B, T, C]
        dx = dx + dh                                                                  # both paths to x
        dx, *ln_1 = layers.layer_norm_backward(dx, cache.ln_1)                        # ln_1(x + attn(x))
        dx, da = layers.residual_backward(dx, None)                                   # x + attn(x)
        dh, grads["attn"] = attention.attention_backward(da, cache.attn)              # [B, T, C]
        dx = dx + dh                                                                  # both paths to x
    grads["ln_1"] = dict(zip("gb", ln_1))
    grads["ln_2"] = dict(zip("gb", ln_2))
    return dx, grads


# --- backward -----------------------------------------------------------------------------------

def backward(dout, cache: ForwardCache, params: dict, cfg: TransformerConfig) -> dict:
    """Gradients of every parameter (same nested structure as ``params``) given ``dout``.

    ``dout`` is the gradient of the loss with respect to :func:`forward`'s output: dlogits
    [B, T, V] with an lm_head, else d(hidden states) [B, T, C]. A tied W_E receives both its
    contributions: from the unembedding and from the token lookup.
    """
    grads = {}
    dx = dout                                                               # [B, T, V] or [B, T, C]
    if cfg.lm_head:
        d2 = dout.reshape(-1, cfg.vocab_size)                               # [N, V]
        x2 = cache.head_input.reshape(-1, cfg.n_embd)                       # [N, C]
        w_u = unembedding(params, cfg)                                      # [C, V]
        dx = (d2 @ w_u.T).reshape(cache.head_input.shape)                   # [N, V] @ [V, C] -> [B, T, C]
        dw_u_t = d2.T @ x2                                                  # [V, N] @ [N, C] = dW_U^T
    if cfg.norm == "pre":
        dx, *ln_f = layers.layer_norm_backward(dx, cache.ln_f)              # [B, T, C]
        grads["ln_f"] = dict(zip("gb", ln_f))
    grads["blocks"] = [None] * cfg.n_layer
    for i in reversed(range(cfg.n_layer)):
        dx, grads["blocks"][i] = block_backward(dx, cache.blocks[i], cfg)   # [B, T, C] -> [B, T, C]
    if cfg.norm == "post":
        dx, *ln_emb = layers.layer_norm_backward(dx, cache.ln_emb)          # [B, T, C]
        grads["ln_emb"] = dict(zip("gb", ln_emb))
    tied = cfg.lm_head and cfg.tied_embeddings
    dwte, dwpe, dwtt = layers.embedding_backward(dx, cache.embed, dwte=dw_u_t if tied else None)  # W_E's two parts
    if cfg.lm_head and not tied:
        grads["lm_head"] = {"w": dw_u_t.T}                                  # [C, V]
    grads["wte"] = dwte                                                     # [V, C]
    if cfg.positions == "learned":
        grads["wpe"] = xp_of(dwpe).zeros_like(params["wpe"])                # [T_max, C]: rows past T get none
        grads["wpe"][: dwpe.shape[0]] = dwpe                                # [T, C]
    if dwtt is not None:
        grads["wtt"] = dwtt                                                 # [n_types, C]
    return grads


# --- loss ---------------------------------------------------------------------------------------

def lm_loss(params: dict, tokens, targets, cfg: TransformerConfig, with_grads: bool = True):
    """Next-token cross-entropy of a causal LM on a batch, and (optionally) its gradients.

    Parameters
    ----------
    tokens, targets : int arrays [B, T]; ``targets`` is usually ``tokens`` shifted by one

    Returns
    -------
    (loss, grads): a float and the nested gradient dict (None when ``with_grads`` is False).

    Examples
    --------
    >>> cfg = TransformerConfig(vocab_size=10, n_ctx=4, n_embd=8, n_head=2, n_layer=1, causal=True, lm_head=True)
    >>> tokens = np.array([[1, 2, 3], [4, 5, 6]])
    >>> loss, grads = lm_loss(init_params(cfg), tokens, tokens, cfg)
    >>> round(loss, 2), grads["wte"].shape
    (2.21, (10, 8))
    """
    logits, cache = forward(params, tokens, cfg)                                    # [B, T, V]
    loss, ce_cache = layers.cross_entropy_forward(logits, targets, overwrite=True)  # the logits are spent
    if not with_grads:
        return loss, None
    dlogits = layers.cross_entropy_backward(1.0, ce_cache)                          # [B, T, V]
    return loss, backward(dlogits, cache, params, cfg)
