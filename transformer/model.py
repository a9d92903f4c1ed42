"""The whole transformer: parameters, ``forward`` and the ``backward`` that walks it in reverse.

Parameters are a nested dict named like GPT-2's checkpoint, weights stored [in, out]::

    {"wte": [V, C], "wpe": [T_max, C] (learned positions), "wtt": [n_types, C] (token types),
     "ln_emb": {"g", "b"} (post-norm only),
     "blocks": [{"ln_1": {"g", "b"}, "attn": {"c_attn": {"w", "b"}, "c_proj": {"w", "b"}},
                 "ln_2": {"g", "b"}, "mlp": {"c_fc": {"w", "b"}, "c_proj": {"w", "b"}}}, ...],
     "ln_f": {"g", "b"} (pre-norm only), "lm_head": {"w": [C, V]} (untied lm_head only)}

A pre-norm block (GPT-2) is ``x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))``; a post-norm block
(BERT) is ``x = ln_1(x + attn(x)); x = ln_2(x + mlp(x))``.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from runtime.threads import limit_threads, map_row_groups, row_groups, run_parts
from transformer import layers
from transformer.backend import xp_of
from transformer.config import TransformerConfig


class BlockCache(NamedTuple):
    """What one block's backward needs (each entry is that layer's forward cache)."""

    ln_1: tuple
    attn: tuple
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


class Activations(NamedTuple):
    """What inference keeps of a forward pass: its output and what the analysis reads."""

    out: object                  # logits [B, T, V] with an lm_head, else the final hidden states [B, T, C]
    hidden_states: list          # (L + 1) x [B, T, C], as in ForwardCache
    attentions: list             # L x [B, H, T, T]


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
        return {"g": np.ones(c, dtype), "b": np.zeros(c, dtype)}

    def linear(n_in, n_out, std=0.02):
        return {"w": normal(n_in, n_out, std=std), "b": np.zeros(n_out, dtype)}

    proj_std = 0.02 / math.sqrt(2 * cfg.n_layer)
    params = {"wte": normal(cfg.vocab_size, c)}
    if cfg.positions == "learned":
        params["wpe"] = normal(cfg.n_ctx, c, std=0.01)
    if cfg.n_token_types:
        params["wtt"] = normal(cfg.n_token_types, c)
    if cfg.norm == "post":
        params["ln_emb"] = norm()
    params["blocks"] = [
        {"ln_1": norm(), "attn": {"c_attn": linear(c, 3 * c), "c_proj": linear(c, c, proj_std)},
         "ln_2": norm(), "mlp": {"c_fc": linear(c, f), "c_proj": linear(f, c, proj_std)}}
        for _ in range(cfg.n_layer)]
    if cfg.norm == "pre":
        params["ln_f"] = norm()
    if cfg.has_lm_head_matrix:
        params["lm_head"] = {"w": normal(c, cfg.vocab_size)}
    return params


def position_rows(params: dict, cfg: TransformerConfig, t: int):
    """The position rows for positions 0..t-1: [t, C] (learned table or fixed sinusoids)."""
    wte = params["wte"]
    if cfg.positions == "learned":
        return params["wpe"][:t]
    return layers.sinusoidal_positions(t, cfg.n_embd, dtype=wte.dtype, xp=xp_of(wte))


def check_inputs(tokens, cfg: TransformerConfig, attention_mask, token_type_ids, xp):
    """Tokens as [B, T] ints (a [T] row is promoted) with masks to match; ValueError on bad input."""
    tokens = xp.asarray(tokens)
    if tokens.ndim == 1:
        tokens = tokens[None]
        attention_mask = None if attention_mask is None else xp.asarray(attention_mask)[None]
        token_type_ids = None if token_type_ids is None else xp.asarray(token_type_ids)[None]
    if tokens.ndim != 2 or tokens.shape[1] == 0:
        raise ValueError(f"tokens must be [B, T] or [T] with T >= 1, got shape {tuple(tokens.shape)}")
    if tokens.dtype.kind not in "iu":
        raise ValueError(f"tokens must be integers, got {tokens.dtype}")
    if tokens.shape[1] > cfg.n_ctx:
        raise ValueError(f"{tokens.shape[1]} tokens exceed the context length n_ctx={cfg.n_ctx}")
    if int(tokens.min()) < 0 or int(tokens.max()) >= cfg.vocab_size:
        raise ValueError(f"token ids must lie in [0, {cfg.vocab_size}); got {int(tokens.min())}..{int(tokens.max())}")
    for name, extra in (("attention_mask", attention_mask), ("token_type_ids", token_type_ids)):
        if extra is not None and tuple(xp.asarray(extra).shape) != tuple(tokens.shape):
            raise ValueError(f"{name} shape {tuple(xp.asarray(extra).shape)} != tokens shape {tuple(tokens.shape)}")
    if token_type_ids is not None and not cfg.n_token_types:
        raise ValueError("token_type_ids given but the config has no token types")
    if cfg.n_token_types and token_type_ids is None:
        token_type_ids = xp.zeros(tokens.shape, dtype=tokens.dtype)
    return tokens, attention_mask, token_type_ids


def forward(params: dict, tokens, cfg: TransformerConfig, attention_mask=None, token_type_ids=None, out=None,
            workers: int = 1):
    """Run the transformer on token ids.

    Parameters
    ----------
    params : nested dict (see the module docstring), numpy or CuPy arrays
    tokens : int array [B, T] (or [T])
    attention_mask : [B, T], 1 for real tokens and 0 for padding (padded keys get no attention)
    token_type_ids : [B, T] segment ids (BERT), zeros when omitted
    out : optional [B, T, V] array to write the logits into (a buffer reused from step to step)
    workers : threads each block's heads and MLP columns are split over (tensor parallelism, see
        :func:`attention_step`); for inference: with more than one, the cache serves
        ``hidden_states`` and ``attentions`` but not :func:`backward`

    Returns
    -------
    out : logits [B, T, V] when ``cfg.lm_head``, else the final hidden states [B, T, C]
    cache : :class:`ForwardCache` (``hidden_states``, ``attentions``, and what backward needs)

    Examples
    --------
    >>> cfg = TransformerConfig(vocab_size=10, n_ctx=4, n_embd=8, n_head=2, n_layer=2)
    >>> logits, cache = forward(init_params(cfg), [[1, 2, 3]], cfg)
    >>> logits.shape, len(cache.hidden_states), cache.attentions[0].shape
    ((1, 3, 10), 3, (1, 2, 3, 3))
    """
    xp = xp_of(params["wte"])
    tokens, attention_mask, token_type_ids = check_inputs(tokens, cfg, attention_mask, token_type_ids, xp)
    t = tokens.shape[1]
    x, embed_cache = layers.embedding_forward(                              # [B, T] -> [B, T, C]
        tokens, params["wte"], position_rows(params, cfg, t), token_type_ids, params.get("wtt"))
    ln_emb_cache = None
    if cfg.norm == "post":
        x, ln_emb_cache = layers.layer_norm_forward(x, **params["ln_emb"], eps=cfg.norm_eps)
    hidden_states, attentions, block_caches = [x], [], []
    for block in params["blocks"]:
        x, block_cache = block_forward(x, block, cfg, attention_mask, workers)  # [B, T, C] -> [B, T, C]
        hidden_states.append(x)
        attentions.append(block_cache.attn.probs)
        block_caches.append(block_cache)
    ln_f_cache = None
    if cfg.norm == "pre":
        x, ln_f_cache = layers.layer_norm_forward(x, **params["ln_f"], eps=cfg.norm_eps)
    result = x
    if cfg.lm_head:
        n = x.shape[0] * x.shape[1]
        logits = None if out is None else out.reshape(n, cfg.vocab_size)
        result = xp.matmul(x.reshape(n, cfg.n_embd), unembedding(params, cfg), out=logits)  # [N, C] @ [C, V]
        result = result.reshape(*x.shape[:2], cfg.vocab_size)
    cache = ForwardCache(embed_cache, ln_emb_cache, block_caches, ln_f_cache, x, hidden_states, attentions)
    return result, cache


def infer(params: dict, tokens, cfg: TransformerConfig, attention_mask=None, token_type_ids=None,
          workers: int = 1) -> Activations:
    """:func:`forward` for inference, run on ``workers`` threads (CPU).

    A batch's rows are split into ``workers`` groups, each running :func:`forward` on its own rows
    in its own thread (:func:`runtime.threads.map_row_groups`), and the outputs are joined along
    the batch axis; rows never interact in a transformer, so the result is the one-group result. A
    single row has each block's heads and MLP columns split over the threads instead (tensor
    parallelism, :func:`attention_step` and :func:`mlp_step`). BLAS runs on one thread per worker.
    CuPy arrays run whole.

    Examples
    --------
    >>> cfg = TransformerConfig(vocab_size=10, n_ctx=4, n_embd=8, n_head=2, n_layer=2)
    >>> params = init_params(cfg)
    >>> one, two = infer(params, [[1, 2], [3, 4]], cfg), infer(params, [[1, 2], [3, 4]], cfg, workers=2)
    >>> bool(np.allclose(one.hidden_states[-1], two.hidden_states[-1], atol=1e-6))
    True
    """
    xp = xp_of(params["wte"])
    tokens, attention_mask, token_type_ids = check_inputs(tokens, cfg, attention_mask, token_type_ids, xp)

    def run(rows: slice, block_workers: int = 1) -> Activations:
        def part(extra):
            return None if extra is None else xp.asarray(extra)[rows]
        out, cache = forward(params, tokens[rows], cfg, part(attention_mask), part(token_type_ids),
                             workers=block_workers)
        return Activations(out, cache.hidden_states, cache.attentions)

    if xp is not np:
        return run(slice(None))
    with limit_threads(1):                  # small batches too: a busy core stalls BLAS threads
        if tokens.shape[0] == 1:
            return run(slice(None), block_workers=workers)
        groups = map_row_groups(run, tokens.shape[0], workers)
    if len(groups) == 1:
        return groups[0]
    joined = [xp.concatenate(arrays) for arrays in zip(*((g.out, *g.hidden_states, *g.attentions) for g in groups))]
    n_hidden = cfg.n_layer + 1
    return Activations(joined[0], joined[1:1 + n_hidden], joined[1 + n_hidden:])


def unembedding(params: dict, cfg: TransformerConfig):
    """W_U [C, V]: W_E transposed when tied, else the lm_head matrix."""
    return params["wte"].T if cfg.tied_embeddings else params["lm_head"]["w"]


class HeadGroupsCache(NamedTuple):
    """:func:`attention_step`'s cache when the heads ran in groups: the probabilities alone (no backward)."""

    probs: object                # [B, H, T, T]


def attention_step(x, attn: dict, cfg: TransformerConfig, attention_mask=None, workers: int = 1):
    """A block's attention: [B, T, C] -> ([B, T, C], cache), its heads split over ``workers`` threads.

    One thread: :func:`transformer.layers.attention_forward`. More: tensor parallelism, as Megatron-LM
    splits a layer over devices; each thread runs a group of heads
    (:func:`transformer.layers.attention_heads_forward`) and their outputs are summed. Two hand-offs
    per block (this and :func:`mlp_step`) instead of one per weight product; for inference on one
    sequence, whose rows are too few to share out. The cache is then a :class:`HeadGroupsCache`.
    """
    if workers == 1:
        return layers.attention_forward(x, **attn, n_head=cfg.n_head, causal=cfg.causal,
                                        attention_mask=attention_mask)

    def group(heads: slice):
        return layers.attention_heads_forward(x, **attn, n_head=cfg.n_head, heads=heads, causal=cfg.causal,
                                              attention_mask=attention_mask)
    parts = run_parts(group, row_groups(cfg.n_head, workers))
    out = sum_of_shares([share for share, _ in parts], attn["c_proj"]["b"])   # the groups' shares of W_O
    return out, HeadGroupsCache(xp_of(x).concatenate([probs for _, probs in parts], axis=1))


def mlp_step(x, mlp: dict, cfg: TransformerConfig, workers: int = 1):
    """A block's MLP: [B, T, C] -> ([B, T, C], cache), its inner columns split over ``workers`` threads.

    Each thread takes a slice of the F inner units: those columns of the first weight (views, no
    copy), GELU, and the same rows of the second; the slices' outputs sum to the whole (tensor
    parallelism, see :func:`attention_step`). With more than one worker the cache is None.
    """
    if workers == 1:
        return layers.mlp_forward(x, **mlp, gelu=cfg.gelu)
    c_fc, c_proj = mlp["c_fc"], mlp["c_proj"]

    def columns(inner: slice):                                              # [B, T, C] -> [B, T, C]
        return layers.mlp_forward(x, {"w": c_fc["w"][:, inner], "b": c_fc["b"][inner]},
                                  {"w": c_proj["w"][inner], "b": None}, gelu=cfg.gelu)[0]
    return sum_of_shares(run_parts(columns, row_groups(cfg.n_inner, workers)), c_proj["b"]), None


def sum_of_shares(shares: list, bias):
    """The threads' shares of a layer's output summed, plus the layer's bias, in the first share's array."""
    out = shares[0]
    for more in shares[1:]:
        out += more
    out += bias
    return out


def block_forward(x, block: dict, cfg: TransformerConfig, attention_mask=None, workers: int = 1):
    """One transformer block, pre- or post-norm: [B, T, C] -> ([B, T, C], BlockCache).

    ``workers`` > 1 splits its attention heads and MLP columns over threads (inference only, see
    :func:`attention_step`).
    """
    eps = cfg.norm_eps
    if cfg.norm == "pre":
        h, ln_1 = layers.layer_norm_forward(x, **block["ln_1"], eps=eps)
        a, attn = attention_step(h, block["attn"], cfg, attention_mask, workers)
        x, _ = layers.residual_forward(x, a)                                 # x + attn(ln_1(x))
        h, ln_2 = layers.layer_norm_forward(x, **block["ln_2"], eps=eps)
        m, mlp = mlp_step(h, block["mlp"], cfg, workers)
        x, _ = layers.residual_forward(x, m)                                 # x + mlp(ln_2(x))
    else:
        a, attn = attention_step(x, block["attn"], cfg, attention_mask, workers)
        x, _ = layers.residual_forward(x, a)
        x, ln_1 = layers.layer_norm_forward(x, **block["ln_1"], eps=eps)    # ln_1(x + attn(x))
        m, mlp = mlp_step(x, block["mlp"], cfg, workers)
        x, _ = layers.residual_forward(x, m)
        x, ln_2 = layers.layer_norm_forward(x, **block["ln_2"], eps=eps)    # ln_2(x + mlp(x))
    return x, BlockCache(ln_1, attn, ln_2, mlp)


def block_backward(dx, cache: BlockCache, cfg: TransformerConfig):
    """Gradients ``(dx, block_grads)`` of :func:`block_forward`, its steps in reverse."""
    grads = {}
    if cfg.norm == "pre":
        dx, dm = layers.residual_backward(dx, None)
        dh, grads["mlp"] = layers.mlp_backward(dm, cache.mlp)
        dh, *ln_2 = layers.layer_norm_backward(dh, cache.ln_2)
        dx = dx + dh
        dx, da = layers.residual_backward(dx, None)
        dh, grads["attn"] = layers.attention_backward(da, cache.attn)
        dh, *ln_1 = layers.layer_norm_backward(dh, cache.ln_1)
        dx = dx + dh
    else:
        dx, *ln_2 = layers.layer_norm_backward(dx, cache.ln_2)
        dx, dm = layers.residual_backward(dx, None)
        dh, grads["mlp"] = layers.mlp_backward(dm, cache.mlp)
        dx = dx + dh
        dx, *ln_1 = layers.layer_norm_backward(dx, cache.ln_1)
        dx, da = layers.residual_backward(dx, None)
        dh, grads["attn"] = layers.attention_backward(da, cache.attn)
        dx = dx + dh
    grads["ln_1"] = dict(zip("gb", ln_1))
    grads["ln_2"] = dict(zip("gb", ln_2))
    return dx, grads


def backward(dout, cache: ForwardCache, params: dict, cfg: TransformerConfig) -> dict:
    """Gradients of every parameter (same nested structure as ``params``) given ``dout``.

    ``dout`` is the gradient of the loss with respect to :func:`forward`'s output: dlogits
    [B, T, V] with an lm_head, else d(hidden states) [B, T, C]. A tied W_E receives both its
    contributions: from the unembedding and from the token lookup.
    """
    if any(isinstance(block.attn, HeadGroupsCache) for block in cache.blocks):
        raise ValueError("this cache comes from a forward split over threads (workers > 1), which keeps no "
                         "backward state: run forward with workers=1 for gradients")
    grads = {}
    dx = dout
    if cfg.lm_head:
        d2 = dout.reshape(-1, cfg.vocab_size)                               # [N, V]
        x2 = cache.head_input.reshape(-1, cfg.n_embd)                       # [N, C]
        w_u = unembedding(params, cfg)                                      # [C, V]
        dx = (d2 @ w_u.T).reshape(cache.head_input.shape)                   # [N, V] @ [V, C]
        dw_u_t = d2.T @ x2                                                  # [V, N] @ [N, C] = dW_U^T
    if cfg.norm == "pre":
        dx, *ln_f = layers.layer_norm_backward(dx, cache.ln_f)
        grads["ln_f"] = dict(zip("gb", ln_f))
    grads["blocks"] = [None] * cfg.n_layer
    for i in reversed(range(cfg.n_layer)):
        dx, grads["blocks"][i] = block_backward(dx, cache.blocks[i], cfg)
    if cfg.norm == "post":
        dx, *ln_emb = layers.layer_norm_backward(dx, cache.ln_emb)
        grads["ln_emb"] = dict(zip("gb", ln_emb))
    tied = cfg.lm_head and cfg.tied_embeddings
    dwte, dwpe, dwtt = layers.embedding_backward(dx, cache.embed, dwte=dw_u_t if tied else None)  # W_E's two parts
    if cfg.lm_head and not tied:
        grads["lm_head"] = {"w": dw_u_t.T}
    grads["wte"] = dwte
    if cfg.positions == "learned":
        xp = xp_of(dwpe)
        grads["wpe"] = xp.zeros_like(params["wpe"])
        grads["wpe"][: dwpe.shape[0]] = dwpe
    if dwtt is not None:
        grads["wtt"] = dwtt
    return grads


def lm_loss(params: dict, tokens, targets, cfg: TransformerConfig, with_grads: bool = True, workspace=None,
            workers: int = 1):
    """Next-token cross-entropy of a causal LM on a batch, and (optionally) its gradients.

    Parameters
    ----------
    tokens, targets : int arrays [B, T]; ``targets`` is usually ``tokens`` shifted by one
    workspace : a dict kept between calls, where the [B, T, V] logits buffer is reused (training
        loops pass one: the largest array of a step is then allocated once)
    workers : row groups computed side by side (see :func:`runtime.threads.map_row_groups`);
        the loss and gradients are the groups' sums weighted by their share of the rows, equal to
        the one-group result up to float rounding. CuPy arrays run as one group.

    Returns
    -------
    (loss, grads): a float and the nested gradient dict (None when ``with_grads`` is False).

    Examples
    --------
    >>> cfg = TransformerConfig(vocab_size=10, n_ctx=4, n_embd=8, n_head=2, n_layer=1, causal=True, lm_head=True)
    >>> params, tokens = init_params(cfg), np.array([[1, 2, 3], [4, 5, 6]])
    >>> one, two = lm_loss(params, tokens, tokens, cfg)[0], lm_loss(params, tokens, tokens, cfg, workers=2)[0]
    >>> round(one, 4) == round(two, 4)
    True
    """
    xp = xp_of(params["wte"])
    tokens, targets = xp.asarray(tokens), xp.asarray(targets)
    n_rows = tokens.shape[0]

    def run(rows: slice):
        buffer = None
        if workspace is not None:
            shape = (rows.stop - rows.start, tokens.shape[1], cfg.vocab_size)
            buffer = workspace.get(("logits", rows.start))
            if buffer is None or buffer.shape != shape:
                buffer = workspace[("logits", rows.start)] = xp.empty(shape, dtype=params["wte"].dtype)
        share = (rows.stop - rows.start) / n_rows                          # this group's weight in the mean
        logits, cache = forward(params, tokens[rows], cfg, out=buffer)      # [b, T, V]
        loss, ce_cache = layers.cross_entropy_forward(logits, targets[rows], overwrite=True)  # logits are spent
        if not with_grads:
            return share * loss, None
        dlogits = layers.cross_entropy_backward(share, ce_cache)
        return share * loss, backward(dlogits, cache, params, cfg)

    results = map_row_groups(run, n_rows, workers if xp is np else 1)
    grads = results[0][1]
    for _, more in results[1:]:
        add_gradients(grads, more)
    return sum(loss for loss, _ in results), grads


def add_gradients(total, more):
    """``total += more`` in place for nested gradient dicts and lists of arrays; returns ``total``.

    Examples
    --------
    >>> add_gradients({"w": np.ones(2), "blocks": [{"b": None}]}, {"w": np.ones(2), "blocks": [{"b": None}]})
    {'w': array([2., 2.]), 'blocks': [{'b': None}]}
    """
    if isinstance(total, dict):
        for key in total:
            add_gradients(total[key], more[key])
    elif isinstance(total, list):
        for part, more_part in zip(total, more):
            add_gradients(part, more_part)
    elif total is not None:
        total += more
    return total
