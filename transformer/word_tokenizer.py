"""A word-level tokenizer for our mini GPT: lower-cased words and punctuation marks, top-V vocabulary.

Whole words as tokens make every row of the model's W_E a word, directly comparable with a
word2vec space. Words keep inner apostrophes ("one's", "lov'd"); each other non-space symbol is a
token of its own. Ids 0, 1, 2 are ``<unk>``, ``<bos>``, ``<eos>``.

:data:`TOKEN` is the one word regex of the project: the word2vec corpus
(:func:`embedspace.training.corpus.tokenize`) keeps its words (:func:`split_words` with
``words_only=True``), the mini GPT every token.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from transformer.errors import InvalidInput

UNK, BOS, EOS = "<unk>", "<bos>", "<eos>"
SPECIALS = (UNK, BOS, EOS)
# a word (group 1: letters or digits, inner apostrophes kept: "lov'd", "one's"), or any other non-space
# symbol on its own ("_" is a word character to \w, but not part of a word)
TOKEN = re.compile(r"([^\W_]+(?:'[^\W_]+)*)|[^\w\s]|_")
APOSTROPHE = str.maketrans({"\u2019": "'"})  # the typographic apostrophe (king\u2019s) reads as ' (king's)
PUNCTUATION_NO_SPACE_BEFORE = {".", ",", ";", ":", "!", "?", ")", "]", "'"}


def split_words(text: str, words_only: bool = False) -> list[str]:
    """Lower-cased word and punctuation tokens of ``text`` (only the words with ``words_only``).

    A typographic apostrophe (U+2019) counts as ``'``.

    Examples
    --------
    >>> split_words("The King's horse, tired!")
    ['the', "king's", 'horse', ',', 'tired', '!']
    >>> split_words("The King\u2019s horse, tired!", words_only=True)
    ['the', "king's", 'horse', 'tired']
    """
    text = text.translate(APOSTROPHE).lower()
    if words_only:
        return [word for word in TOKEN.findall(text) if word]
    return [match.group() for match in TOKEN.finditer(text)]


class WordTokenizer:
    """Maps text to word ids and back over a fixed vocabulary (the specials first).

    Examples
    --------
    >>> tok = WordTokenizer.build(["the cat sat.", "the dog sat!"], vocab_size=7)
    >>> tok.tokens("The cat ran.")
    [('the', 3), ('cat', 5), ('<unk>', 0), ('.', 6)]
    >>> tok.decode(tok.encode("the cat sat."))
    'the cat sat.'
    """

    def __init__(self, vocab: list[str]):
        if list(vocab[: len(SPECIALS)]) != list(SPECIALS):
            raise InvalidInput(f"a vocabulary must start with {', '.join(SPECIALS)}; got {vocab[:3]}")
        if len(set(vocab)) != len(vocab):
            raise InvalidInput("the vocabulary has duplicate entries")
        self.id_to_token = list(vocab)
        self.token_to_id = {token: i for i, token in enumerate(vocab)}
        self.unk_id, self.bos_id, self.eos_id = (self.token_to_id[s] for s in SPECIALS)

    def __len__(self) -> int:
        return len(self.id_to_token)

    @property
    def vocab_size(self) -> int:
        """Number of ids, specials included."""
        return len(self.id_to_token)

    @classmethod
    def build(cls, lines: Iterable[str], vocab_size: int, min_count: int = 1) -> WordTokenizer:
        """The ``vocab_size`` most frequent tokens of ``lines`` (specials included in the count).

        Ties in frequency keep the token seen first.
        """
        if vocab_size <= len(SPECIALS):
            raise InvalidInput(f"vocab_size must exceed the {len(SPECIALS)} special tokens, got {vocab_size}")
        counts = Counter()
        for line in lines:
            counts.update(split_words(line))
        common = [w for w, n in counts.most_common(vocab_size - len(SPECIALS)) if n >= min_count]
        return cls([*SPECIALS, *common])

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """Ids of ``text``'s tokens (unknown words become ``<unk>``)."""
        ids = [self.token_to_id.get(w, self.unk_id) for w in split_words(text)]
        return ([self.bos_id] if add_bos else []) + ids + ([self.eos_id] if add_eos else [])

    def encode_lines(self, lines: Iterable[str]) -> np.ndarray:
        """One int32 id stream for a corpus: each line's ids followed by ``<eos>``."""
        ids: list[int] = []
        lookup, unk = self.token_to_id.get, self.unk_id
        for line in lines:
            ids.extend(lookup(w, unk) for w in split_words(line))
            ids.append(self.eos_id)
        return np.asarray(ids, dtype=np.int32)

    def decode(self, ids: Iterable[int]) -> str:
        """Text from ids: tokens joined by spaces, no space before closing punctuation."""
        words = []
        for i in ids:
            token = self.id_to_token[int(i)]
            if words and token in PUNCTUATION_NO_SPACE_BEFORE:
                words[-1] += token
            else:
                words.append(token)
        return " ".join(words)

    def tokens(self, text: str) -> list[tuple[str, int]]:
        """``(token, id)`` for each token of ``text``, unknown words shown as ``<unk>``."""
        return [(self.id_to_token[i], i) for i in self.encode(text)]

    def save(self, path) -> None:
        """Write the vocabulary as vocab.txt: one token per line, in id order."""
        Path(path).write_text("\n".join(self.id_to_token) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path) -> WordTokenizer:
        """Read a vocabulary written by :meth:`save`."""
        return cls(Path(path).read_text(encoding="utf-8").splitlines())
