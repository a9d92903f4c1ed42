"""Rebuild data/wordlists/frequent_words.txt: the candidate words of the open-vocabulary ``minilm`` space.

    .venv/bin/python data/build_vocabulary.py            # after data/build_word2vec.py --corpus-only
    .venv/bin/python data/build_vocabulary.py --size 30000 --out /tmp/words.txt

The candidates are the words a query's neighbours are searched among (any other word still gets a
vector when it is asked about). A word's rank is the better of two ranks:

1. its rank by frequency in our corpus (``tokens.txt`` of ``data/build_word2vec.py``, under
   ``$EMBEDSPACE_CACHE/corpus``): Shakespeare, the King James Bible, WordNet glosses, GCIDE;
2. its rank among the whole words of all-MiniLM-L6-v2's WordPiece vocabulary (``vocab.txt``), which
   lists BERT's words roughly by frequency in its own training text (Wikipedia and books), and so
   brings the modern words our corpus lacks (``website``, ``toronto``, ``album``).

A word is lower-case ASCII letters, two or more (and ``a``, ``i``). The file holds the ``--size``
best-ranked words, most frequent first, then the words of the shipped word lists (``data/wordlists``:
the demos' own words, such as ``bratwurst``) that are not among them, in the order the lists give them.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "wordlists" / "frequent_words.txt"
WORD = re.compile(r"[a-z]{2,}|[ai]")
SIZE = 30_000


def is_candidate(word: str) -> bool:
    """Lower-case ASCII letters, two or more, or the words ``a`` and ``i``.

    >>> [w for w in ["tower", "a", "v", "don't", "Paris", "café"] if is_candidate(w)]
    ['tower', 'a']
    """
    return WORD.fullmatch(word) is not None


def rank_words(corpus_ranked: Iterable[str], tokenizer_words: Iterable[str], size: int) -> list[str]:
    """The ``size`` best words by the better of their corpus rank and their rank among the tokenizer's words.

    Ties go to the corpus's order, then the tokenizer's.

    >>> rank_words(["the", "thou", "king", "hath"], ["the", "website", "king"], 4)
    ['the', 'thou', 'website', 'king']
    """
    rank: dict[str, tuple[int, int]] = {}
    for i, word in enumerate(w for w in corpus_ranked if is_candidate(w)):
        rank.setdefault(word, (i, 0))
    for i, word in enumerate(w for w in tokenizer_words if is_candidate(w)):
        rank[word] = min(rank.get(word, (i, 1)), (i, 1))
    return sorted(rank, key=rank.__getitem__)[:size]


def wordlist_words(folder: Path) -> list[str]:
    """Every candidate word of the shipped word lists (``#`` and ``:`` lines skipped), in file order."""
    words = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".tsv", ".txt")):
        if path.name == OUT.name:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith(("#", ":")):
                words += [w.lower() for w in re.split(r"[\t ]+", line.strip()) if is_candidate(w.lower())]
    return words


def corpus_ranking(tokens_file: Path) -> list[str]:
    """The corpus's words, most frequent first (ties: first seen first)."""
    counts: Counter = Counter()
    with open(tokens_file, encoding="utf-8") as handle:
        for line in handle:
            counts.update(line.split())
    return [word for word, _ in counts.most_common()]


def main(argv: list[str] | None = None) -> int:
    from embedspace.training.corpus import corpus_dir
    from transformer.minilm_files import find_minilm_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=SIZE, help="ranked words before the word lists' own")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    tokens = corpus_dir() / "tokens.txt"
    if not tokens.is_file():
        print(f"{tokens} is missing: run data/build_word2vec.py --corpus-only first", file=sys.stderr)
        return 1
    tokenizer_words = (find_minilm_dir() / "vocab.txt").read_text(encoding="utf-8").split("\n")
    ranked = rank_words(corpus_ranking(tokens), tokenizer_words, args.size)
    words = list(dict.fromkeys(ranked + wordlist_words(HERE / "wordlists")))
    args.out.write_text("\n".join(words) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} words to {args.out} ({len(words) - len(ranked)} from the word lists only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
