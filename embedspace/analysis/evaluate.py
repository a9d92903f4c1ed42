"""Benchmark evaluation: analogy sets (``questions-words.txt`` format) and word-similarity sets.

Semantics are gensim's ``evaluate_word_analogies`` / ``evaluate_word_pairs``:

- only the first ``restrict_vocab`` keys (300,000) take part: a question with a word outside them
  is skipped (or counted wrong with ``dummy4unknown=True``); every result says how many questions
  it covered, of how many, among how many keys (:class:`Coverage`);
- ``case_insensitive`` (default) compares upper-cased words, and a word's vector is that of its most
  frequent (first) case variant;
- the predicted answer is the best key that is not an input word (nor a case variant of one) within
  the restricted vocabulary. Exactly as gensim: among the 5 best keys other than the three input
  rows, the first that is not a case variant of an input; if all 5 are such variants, the 5th.

Both 3CosAdd and 3CosMul are evaluated in one batched search each (:func:`embedspace.analysis.analogy.search`);
3CosAdd predictions equal gensim's question by question. Ties are broken by the lower vocabulary
index (gensim leaves the order of exact ties unspecified).

Unlike gensim, a malformed line is an error naming its line, not a silently skipped question.
The correlations are numpy's (:mod:`embedspace.analysis.statistics`), equal to scipy's that gensim uses.
"""
from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embedspace.analysis.analogy import METHODS, check_method, scores_at, search, unit_at
from embedspace.analysis.statistics import pearson, spearman
from embedspace.errors import FormatError, InvalidInput, MissingFile
from embedspace.paths import wordlists_dir
from embedspace.space import Space
from runtime.ranking import top_k

log = logging.getLogger(__name__)

RESTRICT_VOCAB = 300_000
GENSIM_TOP = 5  # gensim looks for a non-input answer among this many best keys
BUNDLED = {  # names of the sets gensim ships in gensim/test/test_data/
    "questions-words": "questions-words.txt",
    "simlex999": "simlex999.txt",
    "wordsim353": "wordsim353.tsv",
}


def dataset_path(name_or_path: str | os.PathLike | None, default: str) -> Path:
    """A set's file: gensim's bundled sets by name (``questions-words``, ``simlex999``, ``wordsim353``),
    then a file path, then a shipped list by name (``demo_analogies``, from ``data/wordlists``).

    Raises
    ------
    FileNotFoundError
        If it is none of these.

    Examples
    --------
    >>> dataset_path("demo_analogies", "questions-words").name
    'demo_analogies.txt'
    """
    name = default if name_or_path is None else str(name_or_path)
    if name in BUNDLED or name in BUNDLED.values():
        return gensim_test_data(BUNDLED.get(name, name))
    shipped = wordlists_dir()
    for path in (Path(name), shipped / name, shipped / f"{name}.txt"):
        if path.is_file():
            return path
    names = [*BUNDLED, *sorted(p.stem for p in shipped.glob("*.txt"))]
    raise FileNotFoundError(f"no such evaluation file: {name} (or use one of: {', '.join(names)})")


def gensim_test_data(name: str) -> Path:
    """A file of gensim's ``gensim/test/test_data`` (``gensim.test.utils.datapath``), found without importing
    gensim: importing it imports scipy, seconds of start-up for reading a text file.

    Raises
    ------
    MissingFile
        When gensim (a dependency of embedspace) is not installed.
    """
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise MissingFile(f"{name} comes with gensim, which is not installed: pip install gensim")
    return Path(next(iter(spec.submodule_search_locations))) / "test" / "test_data" / name


# -- reading --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Question:
    """One analogy question ``a : b :: c : d`` of a section, with its line number (1-based)."""

    section: str
    a: str
    b: str
    c: str
    d: str
    line: int


def read_analogies(path: str | os.PathLike) -> list[Question]:
    """Questions of a ``questions-words.txt``-format file: ``: section`` headers, then ``a b c d`` lines.

    Blank lines are skipped.

    Raises
    ------
    FormatError
        For a line that is not four words, or a question before the first section header.
    """
    questions, section = [], None
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith(": "):
                section = line[2:].strip()
                continue
            words = line.split()
            if not words:
                continue
            if len(words) != 4:
                raise FormatError(path, f"expected 4 words (a b c d) or ': section', got {line.strip()!r}", line=number)
            if section is None:
                raise FormatError(path, "a question before the first ': section' header", line=number)
            questions.append(Question(section, *words, line=number))
    return questions


def read_pairs(path: str | os.PathLike, delimiter: str = "\t") -> list[tuple[str, str, float, int]]:
    """Word pairs and their human score, ``(a, b, score, line)``, of a simlex/wordsim-style file.

    Lines starting with ``#`` and blank lines are skipped.

    Raises
    ------
    FormatError
        For a line that is not three fields, or whose score is not a number.
    """
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\r\n").split(delimiter)
            if len(fields) != 3:
                raise FormatError(path, f"expected 3 fields (word, word, score), got {len(fields)}", line=number)
            try:
                score = float(fields[2])
            except ValueError:
                raise FormatError(path, f"the score {fields[2].strip()!r} is not a number", line=number) from None
            pairs.append((fields[0].strip(), fields[1].strip(), score, number))
    return pairs


# -- the vocabulary as gensim sees it -------------------------------------------------------------

class FoldedVocabulary:
    """The first ``restrict_vocab`` keys, folded (upper-cased) when case-insensitive.

    ``index[form]`` is the row of the form's first (most frequent) variant; ``variants(form)``
    every row whose key folds to ``form``.
    """

    def __init__(self, space: Space, restrict_vocab: int | None, case_insensitive: bool):
        self.fold = str.upper if case_insensitive else str
        self.rows = len(space) if restrict_vocab is None else min(restrict_vocab, len(space))
        self.index: dict[str, int] = {}
        self.members: dict[str, list[int]] = {}
        for row, key in enumerate(space.index_to_key[: self.rows]):
            form = self.fold(key)
            self.index.setdefault(form, row)
            self.members.setdefault(form, []).append(row)

    def variants(self, form: str, inputs: Sequence[int]) -> list[int]:
        """Rows folding to ``form`` other than the ``inputs``."""
        return [row for row in self.members.get(form, ()) if row not in inputs]


# -- coverage -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Coverage:
    """How much of a benchmark set a space answered: ``covered`` of ``items``, among ``keys`` of ``space_keys``.

    Examples
    --------
    >>> Coverage(19544, 7882, 30000, 30000).sentence()
    "7,882 of 19,544 questions covered (40.3%); the other 11,662 have a word outside the space's 30,000 keys: skipped"
    >>> Coverage(10, 10, 300000, 3000000).sentence("pairs")
    "all 10 pairs covered: every word is among the first 300,000 of the space's 3,000,000 keys"
    """

    items: int  # questions (or pairs) in the set
    covered: int  # those whose every word is among the keys that took part
    keys: int  # keys that took part: the first restrict_vocab of the space, or all of them
    space_keys: int  # keys of the space

    @property
    def ratio(self) -> float:
        """Fraction of the set covered (0.0 for an empty set)."""
        return self.covered / self.items if self.items else 0.0

    def vocabulary(self) -> str:
        """The keys that took part, in words: "the space's 30,000 keys" or "the first 300,000 of the space's ..."."""
        if self.keys < self.space_keys:
            return f"the first {self.keys:,} of the space's {self.space_keys:,} keys"
        return f"the space's {self.space_keys:,} keys"

    def sentence(self, items: str = "questions", unknown: str = "skipped") -> str:
        """One line: how many were covered, of how many, and what became of the others (``unknown``)."""
        if self.covered == self.items:
            return f"all {self.items:,} {items} covered: every word is among {self.vocabulary()}"
        others = self.items - self.covered
        return (f"{self.covered:,} of {self.items:,} {items} covered ({100 * self.ratio:.1f}%); the other "
                f"{others:,} {'has' if others == 1 else 'have'} a word outside {self.vocabulary()}: {unknown}")


# -- analogies ------------------------------------------------------------------------------------

@dataclass
class Section:
    """Questions of one section, split as gensim splits them (upper-cased when case-insensitive)."""

    name: str
    correct: list[tuple[str, str, str, str]] = field(default_factory=list)
    incorrect: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Fraction correct; 0.0 for a section with no evaluated question (as gensim)."""
        total = len(self.correct) + len(self.incorrect)
        return len(self.correct) / total if total else 0.0


@dataclass
class AnalogyResult:
    """One method's score on an analogy set: per-section results, the total, and every prediction."""

    method: str
    sections: list[Section]
    total: Section
    questions: int  # every question in the file
    oov: int  # questions with a word outside the restricted vocabulary
    predictions: dict[int, str | None]  # line number -> predicted key (None when not evaluated)
    coverage: Coverage | None = None  # the questions covered, and among how many keys

    @property
    def accuracy(self) -> float:
        return self.total.accuracy

    @property
    def oov_ratio(self) -> float:
        """Fraction of the questions with an unknown word."""
        return self.oov / self.questions if self.questions else 0.0


def evaluate_analogies(space: Space, path: str | os.PathLike | None = None, methods: Sequence[str] = METHODS,
                       restrict_vocab: int | None = RESTRICT_VOCAB, case_insensitive: bool = True,
                       dummy4unknown: bool = False,
                       progress: Callable[[int, int], None] | None = None) -> dict[str, AnalogyResult]:
    """Accuracy of ``space`` on an analogy set, per section and in total, for each method.

    Parameters
    ----------
    space : Space
    path : str or path, optional
        A ``questions-words.txt``-format file, or a bundled set's name; default ``questions-words``.
    methods : sequence of {"add", "mul"}
        3CosAdd and/or 3CosMul.
    restrict_vocab : int, optional
        Only the first ``restrict_vocab`` keys take part (default 300,000; None for all).
    case_insensitive : bool
        Compare upper-cased words; the most frequent case variant's vector is used.
    dummy4unknown : bool
        Count questions with unknown words as wrong instead of skipping them.
    progress : callable(done, total), optional
        Called as the searches advance.

    Returns
    -------
    dict of method -> AnalogyResult

    Examples
    --------
    >>> import tempfile
    >>> space = Space(["king", "man", "woman", "queen"],
    ...               np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32))
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write(": family\\nman king woman queen\\nman king woman prince\\n")
    >>> result = evaluate_analogies(space, f.name, methods=["add"])["add"]
    >>> result.accuracy, result.oov, result.coverage.sentence()
    (1.0, 1, "1 of 2 questions covered (50.0%); the other 1 has a word outside the space's 4 keys: skipped")
    """
    for method in methods:
        check_method(method)
    questions = read_analogies(dataset_path(path, "questions-words"))
    vocab = FoldedVocabulary(space, restrict_vocab, case_insensitive)
    folded = [tuple(vocab.fold(w) for w in (q.a, q.b, q.c, q.d)) for q in questions]
    known = [i for i, words in enumerate(folded) if all(w in vocab.index for w in words)]
    rows = np.array([[vocab.index[w] for w in folded[i][:3]] for i in known], dtype=np.int64).reshape(-1, 3)
    exclude = exclusions(vocab, [folded[i] for i in known], rows)
    coverage = Coverage(len(questions), len(known), vocab.rows, len(space))
    log.info("%s", coverage.sentence())
    results = {}
    for n, method in enumerate(methods):
        def step(done: int, total: int, n: int = n) -> None:
            if progress is not None:
                progress(n * total + done, len(methods) * total)

        predicted = predict(space, vocab, rows, exclude, [folded[i] for i in known], method, step)
        results[method] = tally(method, questions, folded, known, predicted, vocab, space, dummy4unknown)
        results[method].coverage = coverage
    return results


def exclusions(vocab: FoldedVocabulary, folded: list[tuple[str, ...]], rows: np.ndarray) -> np.ndarray:
    """Rows each question may not answer [Q, E]: its three input rows, then their other case variants (-1 pads)."""
    lists = [list(r) + [v for form in dict.fromkeys(words[:3]) for v in vocab.variants(form, r)]
             for words, r in zip(folded, rows.tolist())]
    width = max((len(x) for x in lists), default=3)
    exclude = np.full((len(lists), width), -1, dtype=np.int64)
    for i, x in enumerate(lists):
        exclude[i, : len(x)] = x
    return exclude


def predict(space: Space, vocab: FoldedVocabulary, rows: np.ndarray, exclude: np.ndarray,
            folded: list[tuple[str, ...]], method: str, progress) -> np.ndarray:
    """The predicted row of each question [Q] (-1 when nothing is left to predict).

    The best row outside ``exclude``; where 5 or more case variants of the inputs score higher,
    gensim's answer is the 5th of them, and so is ours.
    """
    if len(rows) == 0:
        return np.empty(0, dtype=np.int64)
    positive, negative = rows[:, 1:], rows[:, :1]  # b, c | a
    found, best = search(space, positive, negative, method, 1, vocab.rows, exclude, progress)
    found, best = found[:, 0], best[:, 0]
    variants = exclude[:, 3:]  # [Q, E - 3] (-1 pads)
    crowded = np.flatnonzero((variants >= 0).sum(axis=1) >= GENSIM_TOP)
    for q in crowded:  # rare: only spaces with many case variants get here
        candidates = np.sort(variants[q][variants[q] >= 0])  # rows ascending: ties by position are ties by row
        scores = scores_at(space, positive[q:q + 1], negative[q:q + 1], method, candidates[None, :])[0]
        above = scores > best[q]
        if above.sum() >= GENSIM_TOP:
            found[q] = candidates[above][top_k(scores[above], GENSIM_TOP)[-1]]
    return found


def tally(method: str, questions: list[Question], folded: list[tuple[str, ...]], known: list[int],
          predicted: np.ndarray, vocab: FoldedVocabulary, space: Space, dummy4unknown: bool) -> AnalogyResult:
    """Split the questions into per-section correct / incorrect lists, as gensim does."""
    answer = dict(zip(known, predicted.tolist()))
    sections: dict[str, Section] = {}
    predictions: dict[int, str | None] = {}
    for i, question in enumerate(questions):
        section = sections.setdefault(question.section, Section(question.section))
        row = answer.get(i)
        predictions[question.line] = space.index_to_key[row] if row is not None and row >= 0 else None
        if row is None and not dummy4unknown:
            continue
        hit = row is not None and row >= 0 and vocab.fold(space.index_to_key[row]) == folded[i][3]
        (section.correct if hit else section.incorrect).append(folded[i])
    ordered = list(sections.values())
    total = Section("Total accuracy", [q for s in ordered for q in s.correct], [q for s in ordered for q in s.incorrect])
    return AnalogyResult(method, ordered, total, len(questions), len(questions) - len(known), predictions)


# -- word similarity ------------------------------------------------------------------------------

@dataclass
class SimilarityResult:
    """Agreement of the space's cosines with human similarity scores."""

    pearson: float
    spearman: float
    pairs: int  # pairs compared
    oov: int  # pairs with a word outside the restricted vocabulary
    coverage: Coverage | None = None  # the pairs covered, and among how many keys

    @property
    def oov_ratio(self) -> float:
        """Fraction of the pairs with an unknown word (gensim reports it in percent)."""
        return self.oov / (self.pairs + self.oov) if self.pairs + self.oov else 0.0


def evaluate_similarity(space: Space, path: str | os.PathLike | None = None, delimiter: str = "\t",
                        restrict_vocab: int | None = RESTRICT_VOCAB, case_insensitive: bool = True,
                        dummy4unknown: bool = False) -> SimilarityResult:
    """Pearson and Spearman correlation of cosine similarity with a human-scored pair set.

    ``path`` is a file of ``word<TAB>word<TAB>score`` lines or a bundled set (``wordsim353``
    by default, ``simlex999``). With ``dummy4unknown``, pairs with unknown words count with similarity 0.

    Raises
    ------
    InvalidInput
        When no pair can be scored.

    Examples
    --------
    >>> import tempfile
    >>> space = Space(["cat", "dog", "car"], np.array([[1, 0.2], [1, 0.4], [0, 1]], dtype=np.float32))
    >>> with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
    ...     _ = f.write("cat\\tdog\\t9\\ncat\\tcar\\t1\\ndog\\tcar\\t2\\ncat\\tzebra\\t3\\n")
    >>> result = evaluate_similarity(space, f.name)
    >>> round(result.spearman, 3), result.pairs, result.oov, result.coverage.covered
    (1.0, 3, 1, 3)
    """
    file = dataset_path(path, "wordsim353")
    vocab = FoldedVocabulary(space, restrict_vocab, case_insensitive)
    gold, rows, oov = [], [], 0  # rows: (a, b) of each pair, or None for an unknown pair scored 0
    for a, b, score, _ in read_pairs(file, delimiter):
        a, b = vocab.fold(a), vocab.fold(b)
        known = a in vocab.index and b in vocab.index
        oov += not known
        if known or dummy4unknown:
            gold.append(score)
            rows.append((vocab.index[a], vocab.index[b]) if known else None)
    if not gold:
        raise InvalidInput(f"no pair of {file} could be scored: every pair has a word unknown to {space.name!r}")
    pairs = len(gold) - (oov if dummy4unknown else 0)
    found = np.array([r for r in rows if r is not None], dtype=np.int64).reshape(-1, 2)
    cosines = iter(np.einsum("pd,pd->p", unit_at(space, found[:, 0]), unit_at(space, found[:, 1])).tolist())
    model = [next(cosines) if r is not None else 0.0 for r in rows]
    coverage = Coverage(pairs + oov, pairs, vocab.rows, len(space))
    return SimilarityResult(pearson(gold, model), spearman(gold, model), pairs, oov, coverage)
