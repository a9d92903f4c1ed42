"""Where a word occurs in a corpus, as the model sees it: words from tokens, target keys, and the plan of a run.

A *word* is what the model's tokenizer makes of one: a WordPiece word is a piece and the ``##`` pieces that
continue it (``token ##ization`` is ``tokenization``), a word of the mini GPT is one token. A target is
matched on these words, so matching follows the model's own normalisation (MiniLM lower-cases and strips
accents) and never matches inside a longer word.

The *plan* says which lines of a corpus a run reads, in one streaming pass over the file (memory bounded
by the number of targets times ``per_word``, not by the corpus): every line is ranked by a seeded hash of
its number, and each target keeps the ``per_word`` lowest-ranked lines that hold it (all of them when it
has fewer). Ranking lines rather than (word, line) pairs makes targets share lines, so frequent words come
almost free with the lines rarer ones need. Every occurrence of a target in one of its lines is kept.

Examples
--------
>>> word_spans(["[CLS]", "token", "##ization", "is", "fun", "[SEP]"], frozenset({"[CLS]", "[SEP]"}))
[('tokenization', 1, 3), ('is', 3, 4), ('fun', 4, 5)]
"""
from __future__ import annotations

import hashlib
import heapq
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedspace.errors import FormatError, InvalidInput

log = logging.getLogger(__name__)

UNKNOWN_TOKENS = frozenset({"[UNK]", "<unk>"})  # MiniLM's and the mini GPT's unknown token: never a target
SCAN_CHUNK = 1000  # candidate lines tokenised together while planning
MASK64 = (1 << 64) - 1
WORD_RUN = re.compile(r"[^\W_]+")                        # letters/digits: how both tokenizers cut words
APOSTROPHE_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")   # the mini GPT keeps inner apostrophes ("king's")
ROUGH_TOKEN = re.compile(r"[^\W_]+|[^\w\s]|_")          # a lower bound on a line's tokens (words + marks)


# -- words from tokens ------------------------------------------------------------------------------

def word_spans(tokens: Sequence[str], specials: frozenset[str]) -> list[tuple[str, int, int]]:
    """The words of a token sequence: ``(word, start, stop)`` with ``tokens[start:stop]`` its pieces.

    A ``##`` piece continues the word before it; special tokens belong to no word.

    Examples
    --------
    >>> word_spans(["<bos>", "the", "king's", "horse"], frozenset({"<bos>"}))
    [('the', 1, 2), ("king's", 2, 3), ('horse', 3, 4)]
    """
    spans: list[tuple[str, int, int]] = []
    for i, token in enumerate(tokens):
        if token in specials:
            continue
        if token.startswith("##") and len(token) > 2 and spans and spans[-1][2] == i:
            word, start, _ = spans[-1]
            spans[-1] = (word + token[2:], start, i + 1)
        else:
            spans.append((token, i, i + 1))
    return spans


def is_word(key: str) -> bool:
    """True for a word that can be a target or a random baseline word: some letter or digit, not unknown.

    Examples
    --------
    >>> is_word("tower"), is_word(","), is_word("[UNK]")
    (True, False, False)
    """
    return key not in UNKNOWN_TOKENS and any(c.isalnum() for c in key)


def specials_of(encoder) -> frozenset[str]:
    """The special tokens an encoder adds around a text (``[CLS]``/``[SEP]``, ``<bos>``)."""
    return frozenset(encoder.tokenize("the")) - {"the"}


def target_key(encoder, word: str, specials: frozenset[str]) -> str:
    """``word`` as the model sees it (one word: lower-cased, accents stripped for MiniLM).

    Raises
    ------
    InvalidInput
        When the model makes several words (or none) of it, or does not know it.
    """
    spans = word_spans(encoder.tokenize(word), specials)
    if len(spans) != 1:
        found = " ".join(w for w, _, _ in spans) or "nothing"
        raise InvalidInput(f"{word!r} is not one word for {encoder.name!r} (it reads {found!r}): give single words")
    key = spans[0][0]
    if not is_word(key):
        raise InvalidInput(f"{word!r} is unknown to {encoder.name!r} (it reads {key!r}): it cannot be followed")
    return key


def target_keys(encoder, words: Sequence[str]) -> list[str]:
    """Each word's key (see :func:`target_key`), without repeats, in the order given."""
    specials = specials_of(encoder)
    keys = [target_key(encoder, word, specials) for word in words]
    if not keys:
        raise InvalidInput("give at least one word")
    return list(dict.fromkeys(keys))


def surface_forms(text: str) -> set[str]:
    """Lower-cased words of ``text`` as either tokenizer may cut them, accents stripped and kept.

    A superset filter: a line whose forms miss every target cannot hold one, so it is not tokenised.

    Examples
    --------
    >>> sorted(surface_forms("The King's café"))
    ['cafe', 'café', 'king', "king's", 's', 'the']
    """
    lowered = text.lower()
    variants = {lowered} if lowered.isascii() else {lowered, strip_accents(lowered)}
    forms: set[str] = set()
    for variant in variants:
        forms.update(WORD_RUN.findall(variant))
        forms.update(APOSTROPHE_WORD.findall(variant))
    return forms


def strip_accents(text: str) -> str:
    """``text`` without combining marks (as BERT's normaliser does).

    Examples
    --------
    >>> strip_accents("naïve café")
    'naive cafe'
    """
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def line_rank(seed: int, line: int) -> int:
    """A seeded 64-bit hash of a line number (splitmix64): the order in which lines are chosen.

    Examples
    --------
    >>> line_rank(0, 1) != line_rank(0, 2), line_rank(0, 1) == line_rank(0, 1)
    (True, True)
    """
    z = (line + (seed << 40) + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


# -- the plan ---------------------------------------------------------------------------------------

@dataclass
class Plan:
    """The lines a run reads and, for each, the targets that chose it.

    Line ``lines[i]`` starts at byte ``offsets[i]`` of the corpus; the targets that chose it are
    ``word_ids[word_starts[i]:word_starts[i + 1]]`` (indices into the run's target keys).
    """

    lines: np.ndarray        # [S] int64 line numbers (0-based), ascending
    offsets: np.ndarray      # [S] int64 byte offset of each line
    word_starts: np.ndarray  # [S + 1] int64
    word_ids: np.ndarray     # [P] int32
    found: np.ndarray        # [W] int64 corpus lines holding each target (usable lines, before the cap)
    corpus_lines: int        # lines in the corpus
    sha256: str              # of the corpus file's bytes

    def words_of(self, i: int) -> np.ndarray:
        """The target ids that chose line ``lines[i]``."""
        return self.word_ids[self.word_starts[i]:self.word_starts[i + 1]]

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays to store (``np.savez``); :meth:`from_arrays` reads them back."""
        return {"lines": self.lines, "offsets": self.offsets, "word_starts": self.word_starts,
                "word_ids": self.word_ids, "found": self.found,
                "corpus_lines": np.int64(self.corpus_lines), "sha256": np.str_(self.sha256)}

    @classmethod
    def from_arrays(cls, arrays) -> Plan:
        """A plan from what :meth:`arrays` gave (an ``np.load`` result)."""
        return cls(arrays["lines"], arrays["offsets"], arrays["word_starts"], arrays["word_ids"], arrays["found"],
                   int(arrays["corpus_lines"]), str(arrays["sha256"]))


class LineChooser:
    """Keeps, for each target, the ``per_word`` lines of lowest rank seen so far (a max-heap per target)."""

    def __init__(self, n_targets: int, per_word: int):
        self.per_word = per_word
        self.heaps: list[list[tuple[int, int, int]]] = [[] for _ in range(n_targets)]  # (-rank, line, offset)
        self.found = np.zeros(n_targets, dtype=np.int64)

    def offer(self, target: int, rank: int, line: int, offset: int) -> None:
        """Line ``line`` holds target ``target``: keep it if it ranks among the lowest ``per_word``."""
        self.found[target] += 1
        heap = self.heaps[target]
        if len(heap) < self.per_word:
            heapq.heappush(heap, (-rank, line, offset))
        elif -heap[0][0] > rank:
            heapq.heapreplace(heap, (-rank, line, offset))

    def plan(self, corpus_lines: int, sha256: str) -> Plan:
        """The chosen lines in corpus order, each with the targets that chose it."""
        chosen: dict[int, tuple[int, list[int]]] = {}  # line -> (offset, target ids)
        for target, heap in enumerate(self.heaps):
            for _, line, offset in heap:
                chosen.setdefault(line, (offset, []))[1].append(target)
        lines = sorted(chosen)
        ids = [sorted(chosen[line][1]) for line in lines]
        starts = np.zeros(len(lines) + 1, dtype=np.int64)
        np.cumsum([len(i) for i in ids], out=starts[1:])
        return Plan(np.array(lines, dtype=np.int64), np.array([chosen[n][0] for n in lines], dtype=np.int64),
                    starts, np.array([t for i in ids for t in i], dtype=np.int32), self.found.copy(),
                    corpus_lines, sha256)


def plan_corpus(path: str | os.PathLike, encoder, keys: Sequence[str], per_word: int, max_tokens: int,
                seed: int = 0, progress: Callable[[int, int], None] | None = None) -> Plan:
    """Choose the lines a run reads: up to ``per_word`` lines per target key, spread over the corpus.

    One pass over the file; only lines that may hold a target (by :func:`surface_forms`) are tokenised.
    A line is usable when it has at most ``max_tokens`` tokens, specials included.

    Parameters
    ----------
    path : path
        A UTF-8 text file, one sentence (or verse, or paragraph) per line.
    encoder : Encoder
    keys : sequence of str
        Target keys (:func:`target_keys`).
    per_word : int
    max_tokens : int
    seed : int
        Which lines win when a word has more than ``per_word``.
    progress : callable, optional
        ``progress(bytes_read, bytes_total)`` after each chunk.

    Raises
    ------
    FormatError
        On a line that is not UTF-8 (naming it).
    """
    path = Path(path)
    specials = specials_of(encoder)
    n_specials = len(encoder.tokenize("the")) - 1
    index = {key: i for i, key in enumerate(keys)}
    chooser = LineChooser(len(keys), per_word)
    digest = hashlib.sha256()
    total, done, number = path.stat().st_size, 0, -1
    pending: list[tuple[int, int, str]] = []  # (line number, offset, text) waiting to be tokenised
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle):
            digest.update(raw)
            text = decode_line(path, number, raw).strip()
            if text and not surface_forms(text).isdisjoint(index) \
                    and len(ROUGH_TOKEN.findall(text)) + n_specials <= max_tokens:
                pending.append((number, done, text))
            done += len(raw)
            if len(pending) >= SCAN_CHUNK:
                offer_lines(encoder, pending, index, specials, max_tokens, seed, chooser)
                pending = []
                if progress is not None:
                    progress(done, total)
    if pending:
        offer_lines(encoder, pending, index, specials, max_tokens, seed, chooser)
    if progress is not None:
        progress(done, total)
    plan = chooser.plan(number + 1, digest.hexdigest())
    log.info("plan: %d of %d lines, %d (line, word) pairs", len(plan.lines), plan.corpus_lines, len(plan.word_ids))
    return plan


def offer_lines(encoder, pending: list[tuple[int, int, str]], index: dict[str, int], specials: frozenset[str],
                max_tokens: int, seed: int, chooser: LineChooser) -> None:
    """Tokenise candidate lines and offer each (target, line) pair to the chooser."""
    tokens = encoder.encode([text for _, _, text in pending]).tokens
    for (line, offset, _), line_tokens in zip(pending, tokens):
        if len(line_tokens) > max_tokens:
            continue
        held = {index[w] for w, _, _ in word_spans(line_tokens, specials) if w in index}
        if held:
            rank = line_rank(seed, line)
            for target in held:
                chooser.offer(target, rank, line, offset)


def decode_line(path: Path, number: int, raw: bytes) -> str:
    """A corpus line as text; a FormatError naming the line (1-based) when it is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FormatError(path, f"not UTF-8 (byte {error.start})", line=number + 1) from None


def read_lines_at(path: str | os.PathLike, offsets: Sequence[int]) -> list[str]:
    """The lines starting at byte ``offsets`` of a file, stripped (workers read their shard's lines so).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("wb", delete=False) as f:
    ...     _ = f.write(b"first line\\nsecond line\\n")
    >>> read_lines_at(f.name, [11, 0])
    ['second line', 'first line']
    """
    path = Path(path)
    texts = []
    with open(path, "rb") as handle:
        for offset in offsets:
            handle.seek(int(offset))
            raw = handle.readline()
            try:
                texts.append(raw.decode("utf-8").strip())
            except UnicodeDecodeError:
                raise FormatError(path, f"the line at byte {int(offset)} is not UTF-8") from None
    return texts
