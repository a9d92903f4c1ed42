"""WordPiece for all-MiniLM-L6-v2, through the ``tokenizers`` library and the model's own ``tokenizer.json``.

Text is lower-cased and split into words and punctuation, then each word into the longest pieces found in
the 30,522-entry vocabulary (a piece that continues a word starts with ``##``), and wrapped in ``[CLS]`` and
``[SEP]``. Batches are padded with ``[PAD]`` (id 0) to the longest text, with an attention mask
(1 real, 0 pad). ``tokenizers`` is imported when a tokenizer is built, not at module import.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runtime.errors import shorten
from transformer.errors import InvalidInput

log = logging.getLogger(__name__)

MAX_LENGTH = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2; longer texts are truncated


@dataclass(frozen=True)
class Encoding:
    """One text as word pieces, specials included (``[CLS] ... [SEP]``), without padding."""

    ids: tuple[int, ...]                   # [T] vocabulary ids
    tokens: tuple[str, ...]                # [T] the pieces, e.g. ("[CLS]", "token", "##ization", "[SEP]")
    offsets: tuple[tuple[int, int], ...]   # [T] (start, end) character span in the text; (0, 0) for specials
    word_ids: tuple[int | None, ...]       # [T] index of the word a piece belongs to; None for specials


@dataclass(frozen=True)
class Batch:
    """Several texts padded to the longest one."""

    ids: np.ndarray             # [B, T] int64, padded with pad_id
    attention_mask: np.ndarray  # [B, T] int64, 1 for a real token, 0 for padding
    encodings: tuple[Encoding, ...]  # [B] each text unpadded

    @property
    def lengths(self) -> np.ndarray:
        """[B] real tokens per text."""
        return self.attention_mask.sum(axis=1)

    @classmethod
    def from_encodings(cls, encodings, pad_id: int) -> Batch:
        """Pad ``encodings`` (anything with ``.ids``) on the right to the longest.

        Examples
        --------
        >>> Batch.from_encodings([Encoding((5, 6), ("a", "b"), ((0, 1), (2, 3)), (0, 1)),
        ...                       Encoding((7,), ("c",), ((0, 1),), (0,))], pad_id=0).ids.tolist()
        [[5, 6], [7, 0]]
        """
        encodings = tuple(encodings)
        if not encodings:
            raise InvalidInput("no texts to encode")
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), pad_id, dtype=np.int64)         # [B, T]
        mask = np.zeros((len(encodings), width), dtype=np.int64)               # [B, T]
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        return cls(ids=ids, attention_mask=mask, encodings=encodings)


class WordPiece:
    """The MiniLM tokenizer: text -> word pieces and ids (``[CLS]``/``[SEP]`` added, batches padded).

    Parameters
    ----------
    tokenizer_json : path
        The model's ``tokenizer.json`` (its fixed 128-token padding and truncation are replaced:
        batches pad to their longest text and texts are cut at ``max_length`` tokens).
    max_length : int
        The longest encoding, specials included.

    Examples
    --------
    >>> from transformer.minilm_files import find_minilm_dir
    >>> wp = WordPiece.from_folder(find_minilm_dir())
    >>> wp.encode("Tokenization!").tokens
    ('[CLS]', 'token', '##ization', '!', '[SEP]')
    """

    def __init__(self, tokenizer_json: str | os.PathLike, max_length: int = MAX_LENGTH):
        from tokenizers import Tokenizer

        if max_length < 3:
            raise InvalidInput(f"max_length must be at least 3 ([CLS] + a piece + [SEP]), got {max_length}")
        self._tok = Tokenizer.from_file(str(tokenizer_json))
        self._tok.no_padding()
        self._tok.enable_truncation(max_length=max_length)
        self.max_length = max_length
        self.pad_id = self._tok.token_to_id("[PAD]")
        self.unk_token = "[UNK]"

    @classmethod
    def from_folder(cls, folder: str | os.PathLike, max_length: int = MAX_LENGTH) -> WordPiece:
        """The tokenizer of the model in ``folder`` (which holds ``tokenizer.json``)."""
        return cls(Path(folder) / "tokenizer.json", max_length=max_length)

    @property
    def vocab_size(self) -> int:
        """Entries in the vocabulary (30,522 for MiniLM)."""
        return self._tok.get_vocab_size()

    def encode(self, text: str) -> Encoding:
        """``text`` as word pieces with ``[CLS]`` and ``[SEP]``."""
        return self._encoding(self._tok.encode(_checked(text)), text)

    def encode_batch(self, texts: list[str]) -> Batch:
        """``texts`` padded to the longest: ids and attention mask [B, T], plus each unpadded encoding."""
        raw = self._tok.encode_batch([_checked(t) for t in texts])
        return Batch.from_encodings((self._encoding(e, t) for e, t in zip(raw, texts)), self.pad_id)

    def tokens(self, text: str) -> list[str]:
        """The word pieces of ``text``, specials included."""
        return list(self.encode(text).tokens)

    def pieces(self, word: str) -> list[int]:
        """Ids of the word pieces of ``word`` alone, without specials (a phrase gives all its words' pieces)."""
        ids = list(self._tok.encode(_checked(word), add_special_tokens=False).ids)
        if not ids:
            raise InvalidInput(f"{word!r} has no word pieces (empty after normalisation)")
        return ids

    def word_positions(self, text: str, word: str) -> list[int]:
        """Positions in ``encode(text)`` of the pieces of the first whole occurrence of ``word``.

        Matching is on pieces, so it follows the model's normalisation (lower case) and never
        matches inside a longer word: "model" is not found in "models".

        Raises
        ------
        InvalidInput
            (a ValueError) When ``word`` does not occur in ``text``, naming the text's words.
        """
        wanted = self.pieces(word)
        enc = self.encode(text)
        n = len(wanted)
        for start in range(1, len(enc.ids) - n + 1):
            if list(enc.ids[start : start + n]) != wanted:
                continue
            after = enc.tokens[start + n] if start + n < len(enc.tokens) else ""
            if not after.startswith("##"):  # the match ends where a word ends
                return list(range(start, start + n))
        words = dict.fromkeys(text[a:b].lower() for (a, b), w in zip(enc.offsets, enc.word_ids) if w is not None)
        raise InvalidInput(f"{shorten(word)!r} is not a word of the text {shorten(text)!r} "
                           f"(its words: {shorten(', '.join(words), 200)})")

    def id_to_token(self, token_id: int) -> str:
        """The piece with id ``token_id``."""
        token = self._tok.id_to_token(int(token_id))
        if token is None:
            raise InvalidInput(f"token id {token_id} is outside the vocabulary (0..{self.vocab_size - 1})")
        return token

    def _encoding(self, raw, text: str) -> Encoding:
        if raw.overflowing:
            log.warning("text truncated to %d word pieces: %.40r...", self.max_length, text)
        return Encoding(ids=tuple(raw.ids), tokens=tuple(raw.tokens), offsets=tuple(raw.offsets),
                        word_ids=tuple(raw.word_ids))


def _checked(text: str) -> str:
    """``text`` itself, after checking it is a string (``tokenizers`` gives a cryptic error otherwise)."""
    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}")
    return text
