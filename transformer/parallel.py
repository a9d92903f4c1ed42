"""Faster ways to run the plain model of :mod:`transformer.model`, composing its functions.

Every path here equals the plain one up to float rounding (tests/transformer/test_parallel.py):

- **Row groups** (data parallelism): a batch's rows are split over threads and each thread runs the
  plain :func:`~transformer.model.forward` (and, for training, :func:`~transformer.model.backward`)
  on its own rows with BLAS on one thread, so the elementwise passes (GELU, LayerNorm, softmax) run
  on every core, not only the matrix products. Rows never interact in a transformer; the training
  loss and gradients are the groups' sums weighted by their share of the rows.
- **Head groups** (tensor parallelism, as Megatron-LM splits a layer over devices): one sequence has
  no rows to share, so each thread takes a group of heads and a slice of MLP columns. A group runs the
  plain :func:`~transformer.attention.attention_forward` and :func:`~transformer.layers.mlp_forward`
  on its own weights (its heads' Q/K/V columns as one [C, 3hD] matrix, its rows of W_O; its columns of
  the MLP's first weight, the same rows of the second), without the output biases; the groups'
  outputs summed, plus the bias, are the layer's output. Two hand-offs per block.
- **Reused buffers**: the training loop keeps a workspace where each row group's [b, T, V] logits
  (a step's largest array) are allocated once.

A :class:`ParallelModel` holds what this needs for one model: its parameters, a
:class:`runtime.threads.Workers` pool it borrows from its caller, and the head groups' weights,
made on first use.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from runtime.threads import Workers, limit_threads, row_groups
from transformer import attention, layers
from transformer.backend import xp_of
from transformer.config import TransformerConfig
from transformer.model import backward, check_inputs, forward, position_rows, unembedding


class Activations(NamedTuple):
    """What inference keeps of a forward pass: its output and what the analysis reads."""

    out: object                  # logits [B, T, V] with an lm_head, else the final hidden states [B, T, C]
    hidden_states: list          # (L + 1) x [B, T, C], as in transformer.model.ForwardCache
    attentions: list             # L x [B, H, T, T]


class HeadGroup(NamedTuple):
    """One thread's share of a block: h of its heads and f of its MLP columns, as plain layer parameters."""

    n_head: int                  # h
    attn: dict                   # {"c_attn": {"w": [C, 3hD], "b": [3hD]}, "c_proj": {"w": [hD, C], "b": None}}
    mlp: dict                    # {"c_fc": {"w": [C, f], "b": [f]}, "c_proj": {"w": [f, C], "b": None}}


def head_group(block: dict, cfg: TransformerConfig, heads: slice, inner: slice) -> HeadGroup:
    """The weights of heads ``heads`` and MLP columns ``inner`` of ``block`` (Q/K/V copied into one matrix).

    Examples
    --------
    >>> from transformer.model import init_params
    >>> cfg = TransformerConfig(vocab_size=10, n_ctx=4, n_embd=8, n_head=2, n_layer=1)
    >>> group = head_group(init_params(cfg)["blocks"][0], cfg, slice(0, 1), slice(0, 16))
    >>> group.attn["c_attn"]["w"].shape, group.attn["c_proj"]["w"].shape, group.mlp["c_fc"]["w"].shape
    ((8, 12), (4, 8), (8, 16))
    """
    xp = xp_of(block["attn"]["c_attn"]["w"])
    c, d = cfg.n_embd, cfg.head_size
    c_attn, c_proj = block["attn"]["c_attn"], block["attn"]["c_proj"]
    qkv = [slice(part * c + heads.start * d, part * c + heads.stop * d) for part in range(3)]  # q | k | v columns
    attn = {"c_attn": {"w": xp.concatenate([c_attn["w"][:, cols] for cols in qkv], axis=1),  # [C, 3hD]
                       "b": xp.concatenate([c_attn["b"][cols] for cols in qkv])},          # [3hD]
            "c_proj": {"w": c_proj["w"][heads.start * d: heads.stop * d], "b": None}}      # [hD, C] view
    c_fc, m_proj = block["mlp"]["c_fc"], block["mlp"]["c_proj"]
    mlp = {"c_fc": {"w": c_fc["w"][:, inner], "b": c_fc["b"][inner]},                      # [C, f], [f] views
           "c_proj": {"w": m_proj["w"][inner], "b": None}}                                 # [f, C] view
    return HeadGroup(heads.stop - heads.start, attn, mlp)


def sum_of_shares(shares: list, bias):
    """The groups' shares of a layer's output summed, plus the layer's bias, in the first share's array."""
    out = shares[0]
    for more in shares[1:]:
        out += more
    out += bias
    return out


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


def logits_buffer(workspace: dict | None, rows: slice, t: int, cfg: TransformerConfig, like):
    """A [b, T, V] array for the logits of ``rows``, kept in ``workspace`` from call to call (None: none)."""
    if workspace is None:
        return None
    shape = (rows.stop - rows.start, t, cfg.vocab_size)
    buffer = workspace.get(("logits", rows.start))
    if buffer is None or buffer.shape != shape:
        buffer = workspace[("logits", rows.start)] = xp_of(like).empty(shape, dtype=like.dtype)
    return buffer


class ParallelModel:
    """The plain model run on a :class:`~runtime.threads.Workers` pool: row groups and head groups.

    Parameters
    ----------
    params : dict
        The model's parameters (see :mod:`transformer.model`), numpy or CuPy arrays. The head groups'
        Q/K/V weights are copies made on first use: build a new ParallelModel after changing them.
        Row groups (training) read ``params`` itself, so in-place updates are seen.
    cfg : TransformerConfig
    workers : runtime.threads.Workers
        The threads to run on; borrowed (its opener closes it). CuPy arrays always run whole.

    Examples
    --------
    >>> from transformer.model import init_params
    >>> cfg = TransformerConfig(vocab_size=10, n_ctx=4, n_embd=8, n_head=2, n_layer=2)
    >>> params = init_params(cfg)
    >>> with Workers(2) as workers:
    ...     two = ParallelModel(params, cfg, workers).infer([[1, 2], [3, 4]])
    >>> _, one = forward(params, [[1, 2], [3, 4]], cfg)
    >>> bool(np.allclose(one.hidden_states[-1], two.hidden_states[-1], atol=1e-6))
    True
    """

    def __init__(self, params: dict, cfg: TransformerConfig, workers: Workers):
        self.params = params
        self.cfg = cfg
        self.workers = workers
        self._head_groups: dict[int, list[list[HeadGroup]]] = {}    # by thread count: [L][groups]

    def __repr__(self) -> str:
        return f"ParallelModel(layers={self.cfg.n_layer}, heads={self.cfg.n_head}, {self.workers!r})"

    def threads(self, workers: int | None) -> int:
        """Threads a call may use: ``workers`` (default: the pool's) within the pool; 1 for CuPy arrays."""
        if xp_of(self.params["wte"]) is not np:
            return 1
        return self.workers.n if workers is None else max(1, min(workers, self.workers.n))

    # --- inference ------------------------------------------------------------------------------

    def infer(self, tokens, attention_mask=None, token_type_ids=None, workers: int | None = None) -> Activations:
        """:func:`~transformer.model.forward`'s output, hidden states and attentions, on up to ``workers`` threads.

        Several rows run in row groups; one row in head groups. BLAS runs on one thread throughout
        (on a busy core, BLAS threads of even a small batch stall). CuPy arrays run whole.
        """
        n = self.threads(workers)
        if xp_of(self.params["wte"]) is not np:
            out, cache = forward(self.params, tokens, self.cfg, attention_mask, token_type_ids)
            return Activations(out, cache.hidden_states, cache.attentions)
        tokens, attention_mask, token_type_ids = check_inputs(tokens, self.cfg, attention_mask, token_type_ids, np)
        with limit_threads(1):
            if tokens.shape[0] == 1 and n > 1:
                return self.head_groups_forward(tokens, attention_mask, token_type_ids, n)
            groups = self.workers.map(lambda rows: self.rows_forward(rows, tokens, attention_mask, token_type_ids),
                                      row_groups(tokens.shape[0], n))
        if len(groups) == 1:
            return groups[0]
        joined = [np.concatenate(arrays) for arrays in zip(*((g.out, *g.hidden_states, *g.attentions) for g in groups))]
        n_hidden = self.cfg.n_layer + 1
        return Activations(joined[0], joined[1:1 + n_hidden], joined[1 + n_hidden:])   # [B, ...] each

    def rows_forward(self, rows: slice, tokens, attention_mask, token_type_ids) -> Activations:
        """The plain forward on ``rows`` of the batch: one row group."""
        def part(extra):
            return None if extra is None else np.asarray(extra)[rows]
        out, cache = forward(self.params, tokens[rows], self.cfg, part(attention_mask), part(token_type_ids))
        return Activations(out, cache.hidden_states, cache.attentions)

    def head_groups_forward(self, tokens, attention_mask, token_type_ids, n: int) -> Activations:
        """:func:`~transformer.model.forward` of one row [1, T], each block in ``n`` head groups (no caches)."""
        params, cfg = self.params, self.cfg
        x, _ = layers.embedding_forward(tokens, params["wte"], position_rows(params, cfg, tokens.shape[1]),
                                        token_type_ids, params.get("wtt"))               # [1, T] -> [1, T, C]
        if cfg.norm == "post":
            x, _ = layers.layer_norm_forward(x, **params["ln_emb"], eps=cfg.norm_eps)    # [1, T, C]
        hidden_states, attentions = [x], []
        for block, groups in zip(params["blocks"], self.head_groups(n), strict=True):
            x, probs = self.block_in_groups(x, block, groups, attention_mask)            # [1, T, C], [1, H, T, T]
            hidden_states.append(x)
            attentions.append(probs)
        if cfg.norm == "pre":
            x, _ = layers.layer_norm_forward(x, **params["ln_f"], eps=cfg.norm_eps)      # [1, T, C]
        out = x @ unembedding(params, cfg) if cfg.lm_head else x                         # [1, T, V] or [1, T, C]
        return Activations(out, hidden_states, attentions)

    def head_groups(self, n: int) -> list[list[HeadGroup]]:
        """Each block's weights split into ``n`` groups of heads and MLP columns (made once per ``n``)."""
        if n not in self._head_groups:
            k = min(n, self.cfg.n_head)
            heads, inner = row_groups(self.cfg.n_head, k), row_groups(self.cfg.n_inner, k)
            self._head_groups[n] = [[head_group(block, self.cfg, h, f) for h, f in zip(heads, inner, strict=True)]
                                    for block in self.params["blocks"]]
        return self._head_groups[n]

    def block_in_groups(self, x, block: dict, groups: list[HeadGroup], attention_mask):
        """:func:`~transformer.model.block_forward` with attention and MLP in head groups: ``(x, probs)``."""
        cfg = self.cfg

        def attn(h):                                                          # [1, T, C] -> [1, T, C], [1, H, T, T]
            parts = self.workers.map(lambda g: attention.attention_forward(
                h, **g.attn, n_head=g.n_head, causal=cfg.causal, attention_mask=attention_mask), groups)
            probs = np.concatenate([cache.probs for _, cache in parts], axis=1)
            return sum_of_shares([share for share, _ in parts], block["attn"]["c_proj"]["b"]), probs

        def mlp(h):                                                           # [1, T, C] -> [1, T, C]
            shares = self.workers.map(lambda g: layers.mlp_forward(h, **g.mlp, gelu=cfg.gelu)[0], groups)
            return sum_of_shares(shares, block["mlp"]["c_proj"]["b"])

        def norm(h, ln):                                                      # [1, T, C]
            return layers.layer_norm_forward(h, **ln, eps=cfg.norm_eps)[0]

        if cfg.norm == "pre":
            a, probs = attn(norm(x, block["ln_1"]))
            x = x + a                                                         # x + attn(ln_1(x))
            x = x + mlp(norm(x, block["ln_2"]))                               # x + mlp(ln_2(x))
        else:
            a, probs = attn(x)
            x = norm(x + a, block["ln_1"])                                    # ln_1(x + attn(x))
            x = norm(x + mlp(x), block["ln_2"])                               # ln_2(x + mlp(x))
        return x, probs

    # --- training -------------------------------------------------------------------------------

    def lm_loss(self, tokens, targets, with_grads: bool = True, workspace: dict | None = None):
        """:func:`~transformer.model.lm_loss` in row groups, one per thread of the pool.

        Each group's loss and gradients are weighted by its share of the rows and summed: the
        one-group result up to float rounding. ``workspace`` is a dict the training loop keeps
        between calls, where each group's [b, T, V] logits buffer is allocated once.

        Returns
        -------
        (loss, grads): a float and the nested gradient dict (None when ``with_grads`` is False).
        """
        params, cfg = self.params, self.cfg
        xp = xp_of(params["wte"])
        tokens, targets = xp.asarray(tokens), xp.asarray(targets)                # [B, T] each
        n_rows = tokens.shape[0]

        def run(rows: slice):
            share = (rows.stop - rows.start) / n_rows                               # this group's weight in the mean
            buffer = logits_buffer(workspace, rows, tokens.shape[1], cfg, params["wte"])
            logits, cache = forward(params, tokens[rows], cfg, out=buffer)          # [b, T, V]
            loss, ce_cache = layers.cross_entropy_forward(logits, targets[rows], overwrite=True)  # logits are spent
            if not with_grads:
                return share * loss, None
            dlogits = layers.cross_entropy_backward(share, ce_cache)                # [b, T, V]
            return share * loss, backward(dlogits, cache, params, cfg)

        results = self.workers.map(run, row_groups(n_rows, self.threads(None)))
        grads = results[0][1]
        for _, more in results[1:]:
            add_gradients(grads, more)
        return sum(loss for loss, _ in results), grads
