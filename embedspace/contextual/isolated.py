"""Isolated-word vectors: a word (or a short phrase) read alone by a model, its pieces mean-pooled.

MiniLM reads a word alone as ``[CLS] word [SEP]``; the word's vector at a layer is the mean of its
pieces' hidden states there (``sushi`` is two pieces, ``su ##shi``; ``new york`` two words, pooled
together). With several layers, the word's vector is the sum of its unit vectors at each of them.
This gives a vector to any word the model can tokenize, which is what the open-vocabulary ``minilm``
space (:mod:`embedspace.io.open_vocabulary`) is made of; the layers it uses were chosen by measurement
(docs/spaces.md, "The open vocabulary").

Two ways in, one computation (:func:`pool_pieces`):

- :func:`isolated_vectors` runs many words through an :class:`~embedspace.contextual.encoders.Encoder`
  in batches, on its threads (building a space's candidate matrix);
- :class:`WordReader` reads a few words on the fly with the plain forward pass, loading the model on
  first use (a word typed outside the candidates).

Example
-------
>>> from embedspace.contextual.encoders import load_encoder
>>> with load_encoder("minilm") as encoder:
...     vectors = isolated_vectors(encoder, ["tower", "sushi", "new york"], layers=(2, 6))
>>> vectors.shape
(3, 384)
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from embedspace.errors import InvalidInput
from embedspace.space import unit_rows
from runtime.threads import limit_threads

log = logging.getLogger(__name__)

SPECIAL_TOKENS = frozenset({"[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]", "<bos>", "<eos>", "<unk>"})
UNKNOWN_TOKENS = frozenset({"[UNK]", "<unk>"})  # a word with one of these pieces cannot be read
BATCH_SIZE = 256  # words are short (3-6 tokens with the specials): large batches keep the products large

Progress = Callable[[int, int], None]  # progress(words done, words in all)


def piece_mask(tokens: Sequence[Sequence[str]], width: int) -> np.ndarray:
    """[B, T] float32: 1 where a text's token is one of its word pieces, 0 for specials and padding.

    Examples
    --------
    >>> piece_mask([["[CLS]", "su", "##shi", "[SEP]"], ["[CLS]", "tower", "[SEP]"]], 4).tolist()
    [[0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]]
    """
    mask = np.zeros((len(tokens), width), dtype=np.float32)
    for row, text in enumerate(tokens):
        for position, token in enumerate(text):
            mask[row, position] = token not in SPECIAL_TOKENS
    return mask


def pool_layers(hidden_states: Sequence[np.ndarray], mask: np.ndarray, layers: Sequence[int]) -> np.ndarray:
    """Each text's pieces mean-pooled at each of ``layers``, made unit length: [len(layers), B, C].

    ``hidden_states`` is the model's L+1 arrays [B, T, C]; ``mask`` [B, T] marks the pieces.
    """
    counts = np.maximum(mask.sum(axis=1, keepdims=True), 1.0)                     # [B, 1]
    pooled = [np.einsum("bt,btc->bc", mask, np.asarray(hidden_states[layer], dtype=np.float32)) / counts
              for layer in layers]                                                # each [B, C]
    return unit_rows(np.stack(pooled))                                            # [len(layers), B, C]


def pool_pieces(hidden_states: Sequence[np.ndarray], mask: np.ndarray, layers: Sequence[int]) -> np.ndarray:
    """Each text's pieces mean-pooled at each of ``layers``, made unit length and summed: [B, C].

    Examples
    --------
    >>> hidden = [np.array([[[9.0, 9.0], [3.0, 0.0], [1.0, 0.0]]]), np.array([[[9.0, 9.0], [0.0, 2.0], [0.0, 4.0]]])]
    >>> pool_pieces(hidden, np.array([[0.0, 1.0, 1.0]]), layers=(0, 1)).tolist()
    [[1.0, 1.0]]
    """
    return pool_layers(hidden_states, mask, layers).sum(axis=0)


def check_layers(layers: Sequence[int], n_layer: int) -> tuple[int, ...]:
    """``layers`` as distinct hidden-state layers 0..n_layer (negative counts from the end), in order.

    Examples
    --------
    >>> check_layers([-1, 2], 6)
    (2, 6)
    """
    if not layers:
        raise InvalidInput("give at least one layer")
    resolved = {layer + n_layer + 1 if layer < 0 else layer for layer in layers}
    if not all(0 <= layer <= n_layer for layer in resolved):
        raise InvalidInput(f"layers {list(layers)} do not all exist: this model has layers 0..{n_layer}")
    return tuple(sorted(resolved))


def isolated_layers(encoder, words: Sequence[str], layers: Sequence[int], batch_size: int = BATCH_SIZE,
                    progress: Progress | None = None) -> np.ndarray:
    """Every word read alone by ``encoder``, its pieces pooled at each of ``layers``: [len(layers), N, C] unit rows.

    Words are batched by length on the encoder's threads; ``progress(done, total)`` follows each batch.
    """
    layers = check_layers(layers, encoder.n_layer)
    words = list(words)
    out = np.empty((len(layers), len(words), encoder.cfg.n_embd), dtype=np.float32)
    done = 0
    for rows, batch in encoder.batches(words, batch_size):
        hidden = encoder.forward(batch).hidden_states                          # (L+1) x [B, T, C]
        out[:, rows] = pool_layers(hidden, piece_mask(batch.tokens, batch.ids.shape[1]), layers)
        done += len(rows)
        if progress is not None:
            progress(done, len(words))
    return out


def isolated_vectors(encoder, words: Sequence[str], layers: Sequence[int], batch_size: int = BATCH_SIZE,
                     progress: Progress | None = None) -> np.ndarray:
    """Every word read alone by ``encoder``, pooled at ``layers`` (see :func:`pool_pieces`): [N, C] float32."""
    return isolated_layers(encoder, words, layers, batch_size, progress).sum(axis=0)


class WordReader:
    """Reads a few words at a time through a model loaded on first use (plain forward, no threads).

    Parameters
    ----------
    load_model : callable
        ``load_model() -> (cfg, params)``, called once, when the first vector is asked for.
    load_tokenizer : callable
        ``load_tokenizer()`` -> the model's tokenizer (``tokens(text)``, ``encode_batch(texts)``),
        called once, when a word is first checked: cheaper than the model.
    layers : sequence of int
        The hidden-state layers pooled (see :func:`pool_pieces`).
    """

    def __init__(self, load_model: Callable[[], tuple], load_tokenizer: Callable[[], object], layers: Sequence[int]):
        self.load_model = load_model
        self.load_tokenizer = load_tokenizer
        self.layers = tuple(layers)
        self._model: tuple | None = None
        self._tokenizer = None

    def __repr__(self) -> str:
        return f"WordReader(layers={self.layers}, model {'loaded' if self._model else 'not loaded'})"

    @property
    def tokenizer(self):
        """The model's tokenizer, loaded on first use."""
        if self._tokenizer is None:
            self._tokenizer = self.load_tokenizer()
        return self._tokenizer

    def readable(self, word: str) -> bool:
        """Whether the model can read ``word``: it has a letter or digit, and no piece is unknown to the model.

        Examples
        --------
        >>> class Spaces:  # a toy tokenizer: words split on spaces, '?' unknown
        ...     def tokens(self, text): return ["[CLS]", *("[UNK]" if w == "?" else w for w in text.split()), "[SEP]"]
        >>> reader = WordReader(lambda: None, Spaces, layers=(0,))
        >>> reader.readable("new york"), reader.readable("new ?"), reader.readable("...")
        (True, False, False)
        """
        if not any(ch.isalnum() for ch in word):
            return False
        pieces = [t for t in self.tokenizer.tokens(word) if t not in SPECIAL_TOKENS or t in UNKNOWN_TOKENS]
        return bool(pieces) and not UNKNOWN_TOKENS.intersection(pieces)

    def vectors(self, words: Sequence[str]) -> np.ndarray:
        """[n, C] the words' isolated vectors (the model is loaded on the first call)."""
        from transformer.model import forward

        if self._model is None:
            log.info("loading the model to read %d word(s) outside the candidates", len(words))
            self._model = self.load_model()
        cfg, params = self._model
        batch = self.tokenizer.encode_batch(list(words))
        tokens = [list(encoding.tokens) for encoding in batch.encodings]
        mask = None if batch.attention_mask.all() else batch.attention_mask
        with limit_threads(1):  # a few short texts: BLAS threads would only wait on each other
            _, cache = forward(params, batch.ids, cfg, attention_mask=mask)  # hidden states: (L+1) x [n, T, C]
        layers = check_layers(self.layers, cfg.n_layer)
        return pool_pieces(cache.hidden_states, piece_mask(tokens, batch.ids.shape[1]), layers)
