"""Arithmetic, analogies, similarity, probes and benchmark evaluation."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.common import echo_json, echo_table, json_option, open_space, space_options, topn_option
from embedspace.paths import wordlists_dir

WORDLISTS = wordlists_dir()


def restrict_option(command):
    """``--restrict-vocab N``: answers only from the first N keys."""
    return click.option("--restrict-vocab", type=click.IntRange(1), default=None, metavar="N",
                        help="Answer only from the first N keys (the most frequent).")(command)


def keep_inputs_option(command):
    """``--keep-inputs``: let the input words be answers too."""
    return click.option("--keep-inputs", is_flag=True,
                        help="Keep the input words among the answers (left out by default).")(command)


def echo_answers(answers: list[tuple[str, float]], as_json: bool, score_name: str = "cosine") -> None:
    """Ranked ``(key, score)`` answers as a table, or JSON objects with the key and its score."""
    if as_json:
        echo_json([{"rank": rank, "key": key, "score": round(score, 6)} for rank, (key, score) in enumerate(answers, 1)])
        return
    echo_table([(rank, key, score) for rank, (key, score) in enumerate(answers, 1)], ("rank", "key", score_name))


@click.command("calc")
@click.argument("expression")
@space_options
@topn_option
@restrict_option
@keep_inputs_option
@json_option
def calc_command(expression: str, space: str | None, topn: int, restrict_vocab: int | None, keep_inputs: bool,
                 as_json: bool) -> None:
    """The keys nearest to an EXPRESSION of keys joined by + and -.

    The expression's vector is the weighted mean of its keys' unit vectors (as gensim's
    most_similar computes it); its neighbours leave the input keys out unless --keep-inputs.
    Weights: 0.5*king; keys with spaces or + - * are quoted: '"new york" - city'.

    Example:

        embedspace calc "king - man + woman" --space minilm --topn 5
    """
    from embedspace.analysis.arithmetic import calc

    answers = calc(open_space(space), expression, topn, restrict_vocab, exclude_inputs=not keep_inputs)
    echo_answers(answers, as_json)


@click.command("analogy")
@click.argument("words", nargs=-1)
@click.option("--positive", "-p", multiple=True, metavar="WORD", help="A key to add (repeatable).")
@click.option("--negative", "-m", multiple=True, metavar="WORD", help="A key to subtract (repeatable).")
@click.option("--method", type=click.Choice(["add", "mul"]), default="add", show_default=True,
              help="add: 3CosAdd (gensim most_similar); mul: 3CosMul (Levy & Goldberg 2014).")
@space_options
@topn_option
@restrict_option
@keep_inputs_option
@json_option
def analogy_command(words: tuple[str, ...], positive: tuple[str, ...], negative: tuple[str, ...], method: str,
                    space: str | None, topn: int, restrict_vocab: int | None, keep_inputs: bool,
                    as_json: bool) -> None:
    """Solve an analogy: WORDS are B A C, read "A is to B as C is to ?" (the answer is near B - A + C).

    So `analogy king man woman` asks "man is to king as woman is to ?". Or name the terms:
    --positive king --positive woman --negative man (any number of each).

    Example:

        embedspace analogy king man woman --space minilm --method mul
    """
    from embedspace.analysis.analogy import most_similar_cosmul
    from embedspace.analysis.arithmetic import most_similar

    if words and (positive or negative):
        raise click.UsageError("give three WORDS or --positive/--negative, not both")
    if words:
        if len(words) != 3:
            raise click.UsageError(f"give three words B A C (king man woman), got {len(words)}")
        b, a, c = words
        positive, negative = (b, c), (a,)
    if not positive:
        raise click.UsageError("give three words B A C (king man woman), or at least one --positive")
    solve = most_similar if method == "add" else most_similar_cosmul
    answers = solve(open_space(space), list(positive), list(negative), topn=topn, restrict_vocab=restrict_vocab,
                    exclude_inputs=not keep_inputs)
    echo_answers(answers, as_json, "cosine" if method == "add" else "3cosmul")


@click.command("similarity")
@click.argument("first")
@click.argument("second")
@space_options
@json_option
def similarity_command(first: str, second: str, space: str | None, as_json: bool) -> None:
    """The cosine similarity of two words.

    Example:

        embedspace similarity cat dog --space minilm
    """
    from embedspace.analysis.arithmetic import similarity

    score = similarity(open_space(space), first, second)
    if as_json:
        echo_json([{"key": first, "other": second, "score": round(score, 6)}])
        return
    click.echo(f"{first}  {second}  {score:.4f}")


@click.command("odd-one-out")
@click.argument("words", nargs=-1, required=True)
@space_options
@json_option
def odd_one_out_command(words: tuple[str, ...], space: str | None, as_json: bool) -> None:
    """Which of WORDS does not belong: the one least similar to the mean of them all.

    Prints every word's cosine with that mean, most central first; the last is the odd one.

    Example:

        embedspace odd-one-out breakfast lunch dinner cereal --space minilm
    """
    from embedspace.analysis.arithmetic import rank_by_centrality

    ranked = rank_by_centrality(open_space(space), list(words))
    if as_json:
        echo_json([{"key": k, "score": round(s, 6), "odd": i == len(ranked) - 1} for i, (k, s) in enumerate(ranked)])
        return
    echo_table([(k, s) for k, s in ranked], ("key", "cosine with the mean"))
    click.echo(f"odd one out: {ranked[-1][0]}")


def shipped_or_path(value: str) -> Path:
    """A shipped word list by name (``plurals``, ``gender``, ...) or a file path."""
    for candidate in (WORDLISTS / value, WORDLISTS / f"{value}.tsv", Path(value)):
        if candidate.is_file():
            return candidate
    names = ", ".join(sorted(p.stem for p in WORDLISTS.glob("*.tsv")))
    raise FileNotFoundError(f"no such pair list: {value} (shipped: {names})")


@click.command("probe")
@click.argument("words", nargs=-1)
@click.option("--direction", "-d", metavar="EXPR", help='The direction as an expression, e.g. "cats - cat".')
@click.option("--pairs", "pairs_file", metavar="FILE",
              help="Build the direction from pairs (HIGH<TAB>LOW a line, or a shipped list: plurals, gender, ...).")
@click.option("--pca", is_flag=True, help="With --pairs: the first principal component instead of the mean difference.")
@click.option("--measure", type=click.Choice(["dot", "projection", "cosine"]), default="dot", show_default=True,
              help="dot: raw dot product (the classic demos); projection: length along the unit direction; cosine.")
@click.option("--rank", "rank_k", type=click.IntRange(1), default=None, metavar="K",
              help="Also list the K keys of the whole vocabulary scoring highest and lowest.")
@click.option("--report", "report_file", metavar="FILE", default=None,
              help="Pairs to report on (default: --pairs' own pairs, else the shipped plurals list).")
@space_options
@json_option
def probe_command(words: tuple[str, ...], direction: str | None, pairs_file: str | None, pca: bool, measure: str,
                  rank_k: int | None, report_file: str | None, space: str | None, as_json: bool) -> None:
    """Score WORDS along a direction (in the order given), with a report on labelled pairs.

    WORDS are scored in the given order and Spearman's rho says how well the scores follow it.
    The pair report counts how many pairs the HIGH word wins (plural over singular by default),
    the mean gap and the effect size (Cohen's d). --json: one object per scored key (its
    "section": words, pairs, top, bottom), then a "summary" object.

    Example:

        embedspace probe --direction "cats - cat" one two three four --space minilm
    """
    from embedspace.analysis import probes

    if (direction is None) == (pairs_file is None):
        raise click.UsageError("give either --direction EXPR or --pairs FILE")
    opened = open_space(space)
    if direction is not None:
        found = probes.direction_from_expression(opened, direction)
    else:
        found = probes.direction_from_pairs(opened, probes.read_pairs(shipped_or_path(pairs_file)),
                                            "pca" if pca else "mean")
    report_path = shipped_or_path(report_file or pairs_file or "plurals")
    result = {"direction": found.name, "measure": measure}
    if words:
        order = probes.order_report(opened, found, list(words), measure)
        result["words"] = [{"key": k, "score": round(s, 6)} for k, s in order.rows]
        result["spearman"], result["increasing"] = round(order.spearman, 6), order.increasing
    pairs = probes.pair_report(opened, found, probes.read_pairs(report_path), measure)
    result["pairs"] = {"file": str(report_path), "pairs": len(pairs.rows), "wins": pairs.wins,
                       "mean_gap": round(pairs.mean_gap, 6), "effect_size": round(pairs.effect_size, 6),
                       "missing": [f"{h} {lo}" for h, lo in pairs.missing]}
    if rank_k:
        top, bottom = probes.rank(opened, found, rank_k, measure)
        result["top"] = [{"key": k, "score": round(s, 6)} for k, s in top]
        result["bottom"] = [{"key": k, "score": round(s, 6)} for k, s in bottom]
    if as_json:
        echo_json(probe_rows(result, pairs))
        return
    echo_probe(result)


def probe_rows(result: dict, pairs) -> list[dict]:
    """The probe as a list of objects: each scored key (section words, pairs, top, bottom), then a summary."""
    rows = [{"section": "words", **w} for w in result.get("words", [])]
    rows += [{"section": "pairs", "key": high, "score": round(a, 6), "other": low, "other_score": round(b, 6)}
             for high, low, a, b in pairs.rows]
    rows += [{"section": end, **w} for end in ("top", "bottom") for w in result.get(end, [])]
    summary = {"section": "summary", "direction": result["direction"], "measure": result["measure"]}
    summary.update({k: result[k] for k in ("spearman", "increasing") if k in result})
    summary.update({f"pairs_{k}" if k in ("file", "missing") else k: v for k, v in result["pairs"].items()})
    return rows + [summary]


def echo_probe(result: dict) -> None:
    """The probe's findings as short tables."""
    click.echo(f"direction: {result['direction']}   measure: {result['measure']}")
    if "words" in result:
        echo_table([(w["key"], w["score"]) for w in result["words"]], ("word", "score"))
        rising = "yes" if result["increasing"] else "no"
        click.echo(f"spearman rho with the given order: {result['spearman']:.3f}   increasing: {rising}")
    p = result["pairs"]
    click.echo(f"\npairs of {Path(p['file']).name}: the first word wins {p['wins']} of {p['pairs']}; "
               f"mean gap {p['mean_gap']:.4f}; effect size (Cohen's d) {p['effect_size']:.2f}"
               + (f"; missing: {', '.join(p['missing'])}" if p["missing"] else ""))
    for end in ("top", "bottom"):
        if end in result:
            click.echo(f"\n{end} of the vocabulary along the direction:")
            echo_table([(w["key"], w["score"]) for w in result[end]], ("key", "score"))


@click.group("evaluate")
def evaluate_group() -> None:
    """Score a space on benchmark sets: analogies (accuracy) and word similarity (correlation).

    Example:

        embedspace evaluate analogies --space word2vec
    """


@evaluate_group.command("analogies")
@click.argument("file", required=False)
@click.option("--method", type=click.Choice(["add", "mul", "both"]), default="both", show_default=True,
              help="3CosAdd, 3CosMul or both.")
@click.option("--restrict-vocab", type=click.IntRange(1), default=300_000, show_default=True, metavar="N",
              help="Only the first N keys take part (questions with other words are skipped).")
@click.option("--case-sensitive", is_flag=True, help="Compare words as written (default: case-insensitive).")
@click.option("--unknown-wrong", is_flag=True, help="Count questions with unknown words as wrong, not skipped.")
@space_options
@json_option
def evaluate_analogies_command(file: str | None, method: str, restrict_vocab: int, case_sensitive: bool,
                               unknown_wrong: bool, space: str | None, as_json: bool) -> None:
    """Accuracy on an analogy set in questions-words.txt format (default: gensim's questions-words.txt).

    Per section and in total, for 3CosAdd and 3CosMul; the same semantics as gensim's
    evaluate_word_analogies (3CosAdd answers equal gensim's question by question).

    Example:

        embedspace evaluate analogies --space minilm
        embedspace evaluate analogies data/wordlists/demo_analogies.txt --space minilm
    """
    from embedspace.analysis.evaluate import evaluate_analogies

    opened = open_space(space)
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
    first = next(iter(results.values()))
    click.echo(f"{first.oov} of {first.questions} questions ({100 * first.oov_ratio:.1f}%) have a word outside the "
               f"first {restrict_vocab} keys: " + ("counted wrong" if unknown_wrong else "skipped"))


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
    """One object per section and method (the total last): correct, questions evaluated, accuracy."""
    rows = []
    for method, result in results.items():
        for section in result.sections + [result.total]:
            total = len(section.correct) + len(section.incorrect)
            rows.append({"section": section.name, "method": method, "correct": len(section.correct),
                         "questions": total, "accuracy": round(section.accuracy, 6)})
    return rows


@evaluate_group.command("similarity")
@click.argument("files", nargs=-1)
@click.option("--restrict-vocab", type=click.IntRange(1), default=300_000, show_default=True, metavar="N",
              help="Only the first N keys take part (pairs with other words are skipped).")
@click.option("--case-sensitive", is_flag=True, help="Compare words as written (default: case-insensitive).")
@click.option("--unknown-zero", is_flag=True, help="Score pairs with unknown words as similarity 0, not skipped.")
@space_options
@json_option
def evaluate_similarity_command(files: tuple[str, ...], restrict_vocab: int, case_sensitive: bool,
                                unknown_zero: bool, space: str | None, as_json: bool) -> None:
    """Pearson and Spearman correlation with human similarity scores (default: simlex999 and wordsim353).

    FILES hold word<TAB>word<TAB>score lines; gensim's evaluate_word_pairs semantics.

    Example:

        embedspace evaluate similarity simlex999 wordsim353 --space minilm
    """
    from embedspace.analysis.evaluate import evaluate_similarity

    opened = open_space(space)
    rows = []
    for file in files or ("simlex999", "wordsim353"):
        result = evaluate_similarity(opened, file, restrict_vocab=restrict_vocab,
                                     case_insensitive=not case_sensitive, dummy4unknown=unknown_zero)
        rows.append({"set": file, "pairs": result.pairs, "oov_ratio": round(result.oov_ratio, 6),
                     "pearson": round(result.pearson, 6), "spearman": round(result.spearman, 6)})
    if as_json:
        echo_json(rows)
        return
    echo_table([(r["set"], r["pairs"], f"{100 * r['oov_ratio']:.1f}%", r["pearson"], r["spearman"]) for r in rows],
               ("set", "pairs", "unknown", "pearson", "spearman"))


COMMANDS = [calc_command, analogy_command, similarity_command, odd_one_out_command, probe_command, evaluate_group]
