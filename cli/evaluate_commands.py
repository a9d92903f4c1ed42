"""Benchmark evaluation: accuracy on analogy sets, correlation with human similarity scores."""
from __future__ import annotations

import sys

import click

from cli.common import (
    SpaceRequest,
    echo_json,
    echo_table,
    json_option,
    open_space,
    pass_session,
    space_options,
)
from embedspace.session import Session


@click.group("evaluate")
def evaluate_group() -> None:
    """Score a space on benchmark sets: analogies (accuracy) and word similarity (correlation).

    Example:

    \b
        embedspace evaluate analogies demo_analogies --space word2vec
    """


def benchmark_options(items: str, unknown_option):
    """What the evaluate commands share: --restrict-vocab, --case-sensitive, ``unknown_option`` (how
    unknown words count), then --space with the load options, and --json.

    ``items`` names what a benchmark set holds (``questions``, ``pairs``) in the help text.
    """
    shared = [
        click.option("--restrict-vocab", type=click.IntRange(1), default=300_000, show_default=True, metavar="N",
                     help=f"Only the first N keys take part ({items} with other words are skipped)."),
        click.option("--case-sensitive", is_flag=True, help="Compare words as written (default: case-insensitive)."),
        unknown_option,
        space_options,
        json_option,
    ]

    def decorate(command):
        for decorator in reversed(shared):
            command = decorator(command)
        return command

    return decorate


@evaluate_group.command("analogies")
@pass_session
@click.argument("file", required=False)
@click.option("--method", type=click.Choice(["add", "mul", "both"]), default="both", show_default=True,
              help="3CosAdd, 3CosMul or both.")
@benchmark_options("questions", click.option("--unknown-wrong", is_flag=True,
                                             help="Count questions with unknown words as wrong, not skipped."))
def evaluate_analogies_command(session: Session, file: str | None, method: str, restrict_vocab: int,
                               case_sensitive: bool, unknown_wrong: bool, space: SpaceRequest,
                               as_json: bool) -> None:
    """Accuracy on an analogy set in questions-words.txt format (default: gensim's questions-words.txt).

    Per section and in total, for 3CosAdd and 3CosMul; the same semantics as gensim's
    evaluate_word_analogies (3CosAdd answers equal gensim's question by question).

    Example:

    \b
        embedspace evaluate analogies --space minilm
        embedspace evaluate analogies demo_analogies --space minilm
    """
    from embedspace.analysis.evaluate import evaluate_analogies

    opened = open_space(session, space)
    methods = ["add", "mul"] if method == "both" else [method]
    with LazyProgressBar("evaluating") as progress:
        results = evaluate_analogies(opened, file, methods, restrict_vocab, not case_sensitive, unknown_wrong, progress)
    rows = analogy_rows(results)
    if as_json:
        echo_json(rows)
        return
    headers = ("section", "questions") + tuple(h for m in results for h in (f"{m} correct", f"{m} accuracy"))
    table = {}
    for row in rows:
        table.setdefault(row["section"], [row["section"], row["questions"]]).extend([row["correct"], row["accuracy"]])
    echo_table([tuple(cells) for cells in table.values()], headers)
    coverage = next(iter(results.values())).coverage
    click.echo(coverage.sentence("questions", "counted wrong" if unknown_wrong else "skipped"))


class LazyProgressBar:
    """A click progress bar on stderr that appears with the first progress report (not before an early error)."""

    def __init__(self, label: str):
        self.label, self.bar = label, None

    def __enter__(self):
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr).__enter__()
        self.bar.update(done - self.bar.pos)

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc_info)


def analogy_rows(results: dict) -> list[dict]:
    """One object per section and method (the total last): correct, questions evaluated, accuracy.

    Each total also says how many questions of the set were covered, of how many, among how many keys.
    """
    rows = []
    for method, result in results.items():
        for section in result.sections + [result.total]:
            total = len(section.correct) + len(section.incorrect)
            rows.append({"section": section.name, "method": method, "correct": len(section.correct),
                         "questions": total, "accuracy": round(section.accuracy, 6)})
        rows[-1].update(coverage_fields(result.coverage, "questions"))
    return rows


def coverage_fields(coverage, items: str) -> dict:
    """``covered``, ``<items>_in_set``, ``keys`` and ``space_keys``: how much of a set the space answered."""
    return {"covered": coverage.covered, f"{items}_in_set": coverage.items, "keys": coverage.keys,
            "space_keys": coverage.space_keys}


@evaluate_group.command("similarity")
@pass_session
@click.argument("files", nargs=-1)
@benchmark_options("pairs", click.option("--unknown-zero", is_flag=True,
                                         help="Score pairs with unknown words as similarity 0, not skipped."))
def evaluate_similarity_command(session: Session, files: tuple[str, ...], restrict_vocab: int,
                                case_sensitive: bool, unknown_zero: bool, space: SpaceRequest,
                                as_json: bool) -> None:
    """Pearson and Spearman correlation with human similarity scores (default: simlex999 and wordsim353).

    FILES hold word<TAB>word<TAB>score lines; gensim's evaluate_word_pairs semantics.

    Example:

    \b
        embedspace evaluate similarity simlex999 wordsim353 --space minilm
    """
    from embedspace.analysis.evaluate import evaluate_similarity

    opened = open_space(session, space)
    rows = []
    for file in files or ("simlex999", "wordsim353"):
        result = evaluate_similarity(opened, file, restrict_vocab=restrict_vocab,
                                     case_insensitive=not case_sensitive, dummy4unknown=unknown_zero)
        rows.append({"set": file, "pairs": result.pairs, "oov_ratio": round(result.oov_ratio, 6),
                     "pearson": round(result.pearson, 6), "spearman": round(result.spearman, 6),
                     **coverage_fields(result.coverage, "pairs")})
    if as_json:
        echo_json(rows)
        return
    echo_table([(r["set"], r["pairs"], r["pairs_in_set"], f"{100 * r['oov_ratio']:.1f}%", r["pearson"], r["spearman"])
                for r in rows], ("set", "pairs", "of", "unknown", "pearson", "spearman"))
    click.echo(f"pairs with a word outside {result.coverage.vocabulary()}: "
               + ("scored as similarity 0" if unknown_zero else "skipped"))


COMMANDS = [evaluate_group]
