"""Contextual vectors from a transformer, one facade for both of ours: pretrained MiniLM and the mini GPT.

An :class:`Encoder` turns text into tokens, runs the model and hands back numpy arrays: every layer's
hidden states (the residual stream: layer 0 is what enters the first block, layer ``l`` what block ``l``
returns), every layer's attention patterns, pooled sentence embeddings, and the static W_E vector of a
word. The contextual analysis (:mod:`embedspace.contextual.compare`), the CLI and the tour all go through it.

An Encoder owns the threads it runs on (a :class:`runtime.threads.Workers` pool) and the model's
:class:`transformer.parallel.ParallelModel`; :meth:`Encoder.close` (or a ``with`` block) stops them.
:func:`load_encoder` loads anew on every call: keep the encoder, or let an
:class:`embedspace.session.Session` keep it.

Example
-------
>>> with load_encoder("minilm") as encoder:
...     print(encoder.tokenize("The car is blue"))
...     run = encoder.run(["The car is blue"])[0]
['[CLS]', 'the', 'car', 'is', 'blue', '[SEP]']
>>> run.hidden_states.shape, run.attentions.shape
((7, 6, 384), (6, 12, 6, 6))
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

from embedspace.errors import EmbedspaceError, InvalidInput, UnknownKeyError
from embedspace.io.mini_model import load_mini_model, mini_space
from embedspace.io.shipped import load_minilm_we
from embedspace.paths import minilm_stamps
from embedspace.space import Space, unit_rows
from runtime.memory import keep_freed_memory
from runtime.threads import Workers, matmul_flops, workers_for
from transformer.config import TransformerConfig
from transformer.minilm_files import find_minilm_dir
from transformer.parallel import Activations, ParallelModel
from transformer.pretrained import load_minilm
from transformer.wordpiece import WordPiece

log = logging.getLogger(__name__)

ENCODERS = ("minilm", "mini")
BATCH_SIZE = 32


class Tokenizer(Protocol):
    """What an Encoder needs from its tokenizer (WordPiece for MiniLM, the word-level one for mini)."""

    def encode_batch(self, texts: list[str]):  # -> .ids [B, T], .attention_mask [B, T], .encodings
        ...

    def tokens(self, text: str) -> list[str]:
        ...

    def pieces(self, word: str) -> list[int]:
        ...

    def word_positions(self, text: str, word: str) -> list[int]:
        ...


@dataclass(frozen=True)
class EncodedBatch:
    """Texts as token ids, padded to the longest."""

    ids: np.ndarray             # [B, T] int64
    attention_mask: np.ndarray  # [B, T] int64: 1 real token, 0 padding
    tokens: list[list[str]]     # [B] each text's tokens, unpadded (specials included)


@dataclass(frozen=True)
class EncoderRun:
    """One text through the model, without padding."""

    text: str
    tokens: list[str]           # [T]
    ids: list[int]              # [T]
    hidden_states: np.ndarray   # [L+1, T, C] float32: layer 0 enters block 1, layer l leaves block l
    attentions: np.ndarray      # [L, H, T, T] float32: attentions[l-1] is block l's softmax weights


class Encoder:
    """A transformer with its tokenizer and static space, speaking numpy.

    Parameters
    ----------
    name : str
        ``"minilm"`` or ``"mini"``; also the name of its static W_E space in :mod:`embedspace.io.registry`.
    cfg : TransformerConfig
    params : dict
        The model's parameters (see :mod:`transformer.model`).
    tokenizer : Tokenizer
    threads : int, optional
        The most threads it runs on (default: one per core; a Ray worker holding one CPU gives 1).
    static_space : callable, optional
        ``static_space() -> Space``: the model's raw W_E rows, which contextual vectors are compared
        with (:attr:`space`); given by whoever loaded the model, which knows where its W_E is.

    The encoder owns a :class:`runtime.threads.Workers` pool (``threads`` threads, started on the
    first batch large enough to split) and the :class:`transformer.parallel.ParallelModel` that runs
    the model on it; :meth:`close` stops the threads.
    """

    def __init__(self, name: str, cfg: TransformerConfig, params: dict, tokenizer: Tokenizer,
                 threads: int | None = None, static_space: Callable[[], Space] | None = None):
        self.name = name
        self.static_space = static_space
        self.cfg = cfg
        self.params = params
        self.tokenizer = tokenizer
        self.workers = Workers(threads)
        self.model = ParallelModel(params, cfg, self.workers)

    def __repr__(self) -> str:
        return f"Encoder({self.name!r}, layers={self.n_layer}, heads={self.cfg.n_head}, width={self.cfg.n_embd})"

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the encoder's threads (it can still be used: they start again when needed)."""
        self.workers.close()

    @property
    def causal(self) -> bool:
        """True when a token sees only the tokens to its left (the mini GPT); False for MiniLM."""
        return self.cfg.causal

    @property
    def n_layer(self) -> int:
        """Transformer blocks; hidden states exist for layers 0..n_layer."""
        return self.cfg.n_layer

    @functools.cached_property
    def space(self):
        """The static Space of this model's raw W_E rows, which contextual vectors are compared with.

        For :func:`load_encoder`'s models: MiniLM's whole-word rows of W_E (the ``minilm-we`` space;
        not the ``minilm`` space, whose rows are words read alone by the model); a mini GPT's word
        rows as they are, from the parameters already loaded (no all-but-the-top: layer 0 is W_E plus
        a position, compared with W_E itself).

        Raises
        ------
        EmbedspaceError
            For an encoder made without ``static_space``.
        """
        if self.static_space is None:
            raise EmbedspaceError(f"the encoder {self.name!r} was made without a static space to compare with")
        return self.static_space()

    def tokenize(self, text: str) -> list[str]:
        """The tokens the model sees for ``text``, specials included."""
        return list(self.tokenizer.tokens(text))

    def encode(self, texts: Sequence[str]) -> EncodedBatch:
        """``texts`` as ids and attention mask [B, T], padded to the longest, with each text's tokens."""
        batch = self.tokenizer.encode_batch(_text_list(texts))
        return EncodedBatch(np.asarray(batch.ids, dtype=np.int64), np.asarray(batch.attention_mask, dtype=np.int64),
                            [list(e.tokens) for e in batch.encodings])

    def forward(self, batch: EncodedBatch) -> Activations:
        """The model on a batch: :class:`transformer.parallel.Activations`, whose ``hidden_states`` are
        L+1 arrays [B, T, C] and ``attentions`` L arrays [B, H, T, T].

        Unless the batch is tiny it runs on every core (:meth:`transformer.parallel.ParallelModel.infer`):
        several texts in row groups side by side, one text with its attention heads and MLP columns split.
        """
        mask = None if batch.attention_mask.all() else batch.attention_mask
        largest = matmul_flops(batch.ids.size, self.cfg.n_embd, self.cfg.n_inner)  # the MLP's [B*T, C] @ [C, F]
        return self.model.infer(batch.ids, attention_mask=mask, workers=workers_for(largest))

    def run(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> list[EncoderRun]:
        """Every layer's hidden states and attentions for each text, without padding.

        Texts are batched by length (padding never changes a real token's vectors: padded keys are masked).
        """
        texts = _text_list(texts)
        runs: list[EncoderRun | None] = [None] * len(texts)
        for rows, batch in self.batches(texts, batch_size):
            activations = self.forward(batch)
            hidden = np.stack(activations.hidden_states, axis=1)        # [B, L+1, T, C]
            attentions = np.stack(activations.attentions, axis=1)       # [B, L, H, T, T]
            for k, i in enumerate(rows):
                n = len(batch.tokens[k])
                runs[i] = EncoderRun(texts[i], batch.tokens[k], batch.ids[k, :n].tolist(),
                                     np.ascontiguousarray(hidden[k, :, :n]),
                                     np.ascontiguousarray(attentions[k, :, :, :n, :n]))
        return runs

    def batches(self, texts: list[str], batch_size: int = BATCH_SIZE):
        """``(rows, EncodedBatch)`` for ``texts`` tokenised once, in batches of similar length.

        Sorting by length keeps padding (computed, then thrown away) small.
        """
        if batch_size < 1:
            raise InvalidInput(f"batch_size must be at least 1, got {batch_size}")
        full = self.encode(texts)
        lengths = full.attention_mask.sum(axis=1)                       # [N]
        order = np.argsort(lengths, kind="stable")
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size].tolist()
            width = int(lengths[rows].max())
            yield rows, EncodedBatch(full.ids[rows, :width], full.attention_mask[rows, :width],
                                     [full.tokens[i] for i in rows])

    def attention(self, text: str, layer: int, head: int) -> tuple[list[str], np.ndarray]:
        """The tokens of ``text`` and one head's attention weights [T, T] (row: query, column: key).

        ``layer`` is 1..n_layer (block ``layer``, whose output is hidden-state layer ``layer``), negative
        counts from the end; ``head`` is 0..n_head-1.
        """
        block = check_layer(layer, self.n_layer, first=1)
        if not -self.cfg.n_head <= head < self.cfg.n_head:
            raise InvalidInput(f"head {head} does not exist: this model has heads 0..{self.cfg.n_head - 1}")
        run = self.run([text])[0]
        return run.tokens, run.attentions[block - 1, head]

    def word_positions(self, text: str, word: str) -> list[int]:
        """Token positions of the first whole occurrence of ``word`` in ``text`` (InvalidInput when absent)."""
        return list(self.tokenizer.word_positions(text, word))

    def static_vector(self, word: str) -> np.ndarray:
        """[C] the word's static vector: its W_E row, or the mean of its pieces' rows when it is several."""
        ids = self.tokenizer.pieces(word)
        return np.asarray(self.params["wte"][ids], dtype=np.float32).mean(axis=0)

    def sentence_embeddings(self, texts: Sequence[str], batch_size: int = BATCH_SIZE,
                            progress: Callable[[int], None] | None = None) -> np.ndarray:
        """[N, C] one vector per text: the last layer's hidden states mean-pooled over real tokens, then L2-normalised.

        This is how all-MiniLM-L6-v2 is meant to be used (sentence-transformers' mean pooling).
        ``progress(n)`` is called after each batch with the number of texts it held.
        """
        texts = _text_list(texts)
        out = np.empty((len(texts), self.cfg.n_embd), dtype=np.float32)
        for rows, batch in self.batches(texts, batch_size):
            last = self.forward(batch).hidden_states[-1]
            out[rows] = mean_pool(last, batch.attention_mask)              # [B, T, C] -> [B, C]
            if progress is not None:
                progress(len(rows))
        return unit_rows(out)


def mean_pool(hidden: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """[B, T, C], [B, T] -> [B, C]: the mean over real tokens only.

    Examples
    --------
    >>> mean_pool(np.array([[[1.0], [3.0], [100.0]]]), np.array([[1, 1, 0]])).tolist()
    [[2.0]]
    """
    mask = attention_mask[..., None].astype(hidden.dtype)              # [B, T, 1]
    return (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)


def check_layer(layer: int, n_layer: int, first: int = 0) -> int:
    """``layer`` in ``first..n_layer`` (negative counts from the end: -1 is ``n_layer``); InvalidInput outside.

    Examples
    --------
    >>> check_layer(-1, 6), check_layer(0, 6)
    (6, 0)
    """
    resolved = layer + n_layer + 1 if layer < 0 else layer
    if not first <= resolved <= n_layer:
        raise InvalidInput(f"layer {layer} does not exist: this model has layers {first}..{n_layer}")
    return resolved


def _text_list(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("give a list of texts, not a single str")
    texts = list(texts)
    if not texts:
        raise InvalidInput("no texts given")
    return texts


def load_encoder(name: str = "minilm", threads: int | None = None) -> Encoder:
    """The encoder called ``name``: ``"minilm"`` (pretrained all-MiniLM-L6-v2), ``"mini"`` (our GPT),
    or the path of a model folder written by ``train-mini`` (a mini GPT of one's own).

    Loaded anew on every call (MiniLM's files checksum-verified first, or found unchanged since they
    were: :func:`embedspace.paths.minilm_stamps`): the caller keeps it, or asks an
    :class:`embedspace.session.Session`, and closes it when done (:meth:`Encoder.close`). ``threads``
    caps the threads it runs on (default: one per core).

    Raises
    ------
    EmbedspaceError
        For a name that is neither a model nor a folder; ``ModelNotFound`` / ``MissingFile`` (both
        FileNotFoundErrors) when the weights are missing.
    """
    if name not in ENCODERS and not Path(name).is_dir():
        raise EmbedspaceError(f"unknown model {name!r}: use one of {', '.join(ENCODERS)}, or a model folder "
                              "written by train-mini")
    keep_freed_memory()  # each batch allocates and frees the same large arrays: reuse them, no page faults
    if name == "minilm":
        folder = find_minilm_dir()
        cfg, params = load_minilm(folder, stamps=minilm_stamps())
        return Encoder("minilm", cfg, params, WordPiece.from_folder(folder), threads, static_space=load_minilm_we)
    return mini_encoder(None if name == "mini" else name, threads)


def mini_encoder(folder=None, threads: int | None = None) -> Encoder:
    """Our word-level GPT as an Encoder, from a model folder written by train-mini (default: the shipped one).

    The encoder's name is ``"mini"`` for the shipped model, else the folder's path (its static
    space is then the folder's own W_E).
    """
    model = load_mini_model(folder)
    name = "mini" if folder is None else str(folder)
    space_name = "mini" if folder is None else Path(folder).resolve().name  # as load_space names the folder's space
    return Encoder(name, model.cfg, model.params, WordLevel(model.tokenizer, model.cfg.n_ctx), threads,
                   static_space=lambda: mini_space(model, name=space_name))


class WordEncoding(NamedTuple):
    """One text for the mini GPT: ``<bos>`` then its words."""

    ids: tuple[int, ...]
    tokens: tuple[str, ...]


class WordLevel:
    """The mini GPT's word-level tokenizer, as an Encoder needs it: ``<bos>`` first, at most ``max_length`` tokens.

    Parameters
    ----------
    tokenizer : transformer.word_tokenizer.WordTokenizer
    max_length : int
        The model's context length; longer texts keep their first ``max_length`` tokens.
    """

    def __init__(self, tokenizer, max_length: int):
        self.tokenizer = tokenizer
        self.max_length = max_length

    def encode(self, text: str) -> WordEncoding:
        """``<bos>`` and the ids of ``text``'s words (unknown words become ``<unk>``)."""
        ids = self.tokenizer.encode(text, add_bos=True)
        if len(ids) > self.max_length:
            log.warning("text truncated to %d tokens: %.40r...", self.max_length, text)
            ids = ids[: self.max_length]
        return WordEncoding(tuple(ids), tuple(self.tokenizer.id_to_token[i] for i in ids))

    def encode_batch(self, texts: list[str]):
        """Texts padded to the longest (with ``<eos>``, masked out), as :class:`transformer.wordpiece.Batch`."""
        from transformer.wordpiece import Batch

        return Batch.from_encodings([self.encode(t) for t in texts], pad_id=self.tokenizer.eos_id)

    def tokens(self, text: str) -> list[str]:
        """``<bos>`` and the words of ``text`` as the model sees them."""
        return list(self.encode(text).tokens)

    def pieces(self, word: str) -> list[int]:
        """The id of each word of ``word``; a word outside the vocabulary is an UnknownKeyError."""
        ids = self.tokenizer.encode(word)
        if not ids:
            raise InvalidInput(f"{word!r} has no words")
        from transformer.word_tokenizer import split_words

        for token_id, token in zip(ids, split_words(word)):
            if token_id == self.tokenizer.unk_id:
                raise UnknownKeyError(token, self.tokenizer.id_to_token, space="mini")
        return ids

    def word_positions(self, text: str, word: str) -> list[int]:
        """Positions of the first occurrence of ``word``'s tokens in ``encode(text)``; InvalidInput when absent."""
        wanted, ids = self.pieces(word), list(self.encode(text).ids)
        for start in range(len(ids) - len(wanted) + 1):
            if ids[start : start + len(wanted)] == wanted:
                return list(range(start, start + len(wanted)))
        raise InvalidInput(f"{word!r} is not a word of the text {text!r} (its words: {' '.join(self.tokens(text)[1:])})")

