"""Arithmetic, analogies, similarity and probes (benchmark evaluation: evaluate_commands)."""
from __future__ import annotations

from pathlib import Path

import click

from cli.common import (
    SpaceRequest,
    echo_json,
    echo_lookup_notes,
    echo_table,
    inflections_option,
    json_option,
    open_space,
    pass_session,
    space_options,
    topn_option,
)
from cli.word_lists import known_pairs, strict_option
from embedspace.errors import MissingFile
from embedspace.paths import wordlists_dir
from embedspace.session import Session


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
@pass_session
@click.argument("expression")
@space_options
@topn_option
@restrict_option
@keep_inputs_option
@inflections_option
@json_option
def calc_command(session: Session, expression: str, space: SpaceRequest, topn: int,
                 restrict_vocab: int | None, keep_inputs: bool, no_inflections: bool, as_json: bool) -> None:
    """The keys nearest to an EXPRESSION of keys joined by + and -.

    The expression's vector is the weighted mean of its keys' unit vectors (as gensim's
    most_similar computes it); its neighbours leave the input keys out unless --keep-inputs.
    Weights: 0.5*king; keys with spaces or + - * are quoted: '"new york" - city'.
    Keys are found as typed, then in lower case; on minilm any word the model can read works.

    Example:

    \b
        embedspace calc "king - man + woman" --space minilm --topn 5
        embedspace calc "Germany - Japan + sushi" --no-inflections
    """
    from embedspace.analysis.arithmetic import calc, parse_expression

    opened = open_space(session, space)
    echo_lookup_notes(opened, [t.key for t in parse_expression(expression)])
    answers = calc(opened, expression, topn, restrict_vocab, exclude_inputs=not keep_inputs,
                   skip_inflections=no_inflections)
    echo_answers(answers, as_json)


@click.command("analogy")
@pass_session
@click.argument("words", nargs=-1)
@click.option("--positive", "-p", multiple=True, metavar="WORD", help="A key to add (repeatable).")
@click.option("--negative", "-m", multiple=True, metavar="WORD", help="A key to subtract (repeatable).")
@click.option("--method", type=click.Choice(["add", "mul"]), default="add", show_default=True,
              help="add: 3CosAdd (gensim most_similar); mul: 3CosMul (Levy & Goldberg 2014).")
@space_options
@topn_option
@restrict_option
@keep_inputs_option
@inflections_option
@json_option
def analogy_command(session: Session, words: tuple[str, ...], positive: tuple[str, ...],
                    negative: tuple[str, ...], method: str, space: SpaceRequest, topn: int,
                    restrict_vocab: int | None, keep_inputs: bool, no_inflections: bool, as_json: bool) -> None:
    """Solve an analogy: WORDS are B A C, read "A is to B as C is to ?" (the answer is near B - A + C).

    So `analogy king man woman` asks "man is to king as woman is to ?". Or name the terms:
    --positive king --positive woman --negative man (any number of each).

    Example:

    \b
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
    opened = open_space(session, space)
    echo_lookup_notes(opened, [*positive, *negative])
    answers = solve(opened, list(positive), list(negative), topn=topn, restrict_vocab=restrict_vocab,
                    exclude_inputs=not keep_inputs, skip_inflections=no_inflections)
    echo_answers(answers, as_json, "cosine" if method == "add" else "3cosmul")


@click.command("similarity")
@pass_session
@click.argument("first")
@click.argument("second")
@space_options
@json_option
def similarity_command(session: Session, first: str, second: str, space: SpaceRequest, as_json: bool) -> None:
    """The cosine similarity of two words.

    Example:

    \b
        embedspace similarity cat dog --space minilm
    """
    from embedspace.analysis.arithmetic import similarity

    score = similarity(open_space(session, space), first, second)
    if as_json:
        echo_json([{"key": first, "other": second, "score": round(score, 6)}])
        return
    click.echo(f"{first}  {second}  {score:.4f}")


@click.command("odd-one-out")
@pass_session
@click.argument("words", nargs=-1, required=True)
@space_options
@json_option
def odd_one_out_command(session: Session, words: tuple[str, ...], space: SpaceRequest, as_json: bool) -> None:
    """Which of WORDS does not belong: the one least similar to the mean of them all.

    Prints every word's cosine with that mean, most central first; the last is the odd one.

    Example:

    \b
        embedspace odd-one-out breakfast lunch dinner cereal --space minilm
    """
    from embedspace.analysis.arithmetic import rank_by_centrality

    ranked = rank_by_centrality(open_space(session, space), list(words))
    if as_json:
        echo_json([{"key": k, "score": round(s, 6), "odd": i == len(ranked) - 1} for i, (k, s) in enumerate(ranked)])
        return
    echo_table([(k, s) for k, s in ranked], ("key", "cosine with the mean"))
    click.echo(f"odd one out: {ranked[-1][0]}")


def shipped_or_path(value: str) -> Path:
    """A shipped word list by name (``plurals``, ``gender``, ...) or a file path.

    Raises
    ------
    MissingFile
        When it is neither; the message lists the shipped ones.
    """
    shipped = wordlists_dir()
    for candidate in (shipped / value, shipped / f"{value}.tsv", Path(value)):
        if candidate.is_file():
            return candidate
    names = ", ".join(sorted(p.stem for p in shipped.glob("*.tsv")))
    raise MissingFile(f"no such pair list: {value} (shipped: {names})")


@click.command("probe")
@pass_session
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
@strict_option
@space_options
@json_option
def probe_command(session: Session, words: tuple[str, ...], direction: str | None, pairs_file: str | None,
                  pca: bool, measure: str, rank_k: int | None, report_file: str | None, strict: bool,
                  space: SpaceRequest, as_json: bool) -> None:
    """Score WORDS along a direction (in the order given), with a report on labelled pairs.

    WORDS are scored in the given order and Spearman's rho says how well the scores follow it.
    The pair report counts how many pairs the HIGH word wins (plural over singular by default),
    the mean gap and the effect size (Cohen's d). With --pairs, the pairs that built the direction
    are held out: each is scored along a direction built without it (leave-one-out; 50 folds
    beyond 50 pairs), and the in-sample figures follow, labelled. --json: one object per scored
    key (its "section": words, pairs, top, bottom), then a "summary" object.

    Example:

    \b
        embedspace probe --direction "cats - cat" one two three four --space minilm
        embedspace probe --pairs gender --space word2vec
    """
    from embedspace.analysis import probes

    if (direction is None) == (pairs_file is None):
        raise click.UsageError("give either --direction EXPR or --pairs FILE")
    opened = open_space(session, space)
    method, built_from = "pca" if pca else "mean", []
    if direction is not None:
        found = probes.direction_from_expression(opened, direction)
    else:
        built_from = known_pairs(opened, probes.read_pairs(shipped_or_path(pairs_file)), strict)
        found = probes.direction_from_pairs(opened, built_from, method)
    report_path = shipped_or_path(report_file or pairs_file or "plurals")
    result = {"direction": found.name, "measure": measure}
    if words:
        order = probes.order_report(opened, found, list(words), measure)
        result["words"] = [{"key": k, "score": round(s, 6)} for k, s in order.rows]
        result["spearman"], result["increasing"] = round(order.spearman, 6), order.increasing
    report_pairs = probes.read_pairs(report_path)
    in_sample = probes.pair_report(opened, found, report_pairs, measure)
    pairs = held_out_pairs(opened, built_from, method, measure, report_pairs) or in_sample
    result["pairs"] = {"file": str(report_path), **pair_figures(pairs), "held_out": pairs.scheme,
                       "held_out_pairs": pairs.held_out, "missing": [f"{h} {lo}" for h, lo in pairs.missing]}
    if pairs.held_out or set(built_from) & set(report_pairs):
        result["pairs"]["in_sample"] = pair_figures(in_sample)
    if rank_k:
        top, bottom = probes.rank(opened, found, rank_k, measure)
        result["top"] = [{"key": k, "score": round(s, 6)} for k, s in top]
        result["bottom"] = [{"key": k, "score": round(s, 6)} for k, s in bottom]
    if as_json:
        echo_json(probe_rows(result, pairs))
        return
    echo_probe(result)


def held_out_pairs(space, built_from: list[tuple[str, str]], method: str, measure: str,
                   report_pairs: list[tuple[str, str]]):
    """The report pairs along directions built without them (probes.held_out_report), or None.

    None when the direction was not built from pairs, from fewer than two, or from none of the
    report pairs: then nothing is held out and the in-sample report is the only one.
    """
    from embedspace.analysis import probes

    if len(set(built_from)) < 2 or not set(built_from) & set(report_pairs):
        return None
    return probes.held_out_report(space, built_from, method, measure, report=report_pairs)


def pair_figures(report) -> dict:
    """A pair report's figures: pairs, wins, mean gap and effect size (rounded for output)."""
    return {"pairs": len(report.rows), "wins": report.wins, "mean_gap": round(report.mean_gap, 6),
            "effect_size": round(report.effect_size, 6)}


def probe_rows(result: dict, pairs) -> list[dict]:
    """The probe as a list of objects: each scored key (section words, pairs, top, bottom), then a summary."""
    rows = [{"section": "words", **w} for w in result.get("words", [])]
    rows += [{"section": "pairs", "key": high, "score": round(a, 6), "other": low, "other_score": round(b, 6)}
             for high, low, a, b in pairs.rows]
    rows += [{"section": end, **w} for end in ("top", "bottom") for w in result.get(end, [])]
    summary = {"section": "summary", "direction": result["direction"], "measure": result["measure"]}
    summary.update({k: result[k] for k in ("spearman", "increasing") if k in result})
    summary.update({f"pairs_{k}" if k in ("file", "missing") else k: v for k, v in result["pairs"].items()
                    if k != "in_sample"})
    summary.update({f"in_sample_{k}": v for k, v in result["pairs"].get("in_sample", {}).items() if k != "pairs"})
    return rows + [summary]


def echo_probe(result: dict) -> None:
    """The probe's findings as short tables."""
    click.echo(f"direction: {result['direction']}   measure: {result['measure']}")
    if "words" in result:
        echo_table([(w["key"], w["score"]) for w in result["words"]], ("word", "score"))
        rising = "yes" if result["increasing"] else "no"
        click.echo(f"spearman rho with the given order: {result['spearman']:.3f}   increasing: {rising}")
    p = result["pairs"]
    click.echo(f"\npairs of {Path(p['file']).name}{held_out_label(p)}: the first word wins {p['wins']} of "
               f"{p['pairs']}; mean gap {p['mean_gap']:.4f}; effect size (Cohen's d) {p['effect_size']:.2f}"
               + (f"; missing: {', '.join(p['missing'])}" if p["missing"] else ""))
    if "in_sample" in p:
        q = p["in_sample"]
        click.echo(f"in sample (along the one direction from all the --pairs: optimistic): the first word wins "
                   f"{q['wins']} of {q['pairs']}; mean gap {q['mean_gap']:.4f}; effect size (Cohen's d) "
                   f"{q['effect_size']:.2f}")
    for end in ("top", "bottom"):
        if end in result:
            click.echo(f"\n{end} of the vocabulary along the direction:")
            echo_table([(w["key"], w["score"]) for w in result[end]], ("key", "score"))


def held_out_label(p: dict) -> str:
    """How the reported pairs relate to the direction: ", held out (leave-one-out: ...)", or nothing."""
    if not p["held_out"]:
        return " (in sample: nothing left to hold out)" if "in_sample" in p else ""
    which = "each" if p["held_out_pairs"] == p["pairs"] else f"the {p['held_out_pairs']} --pairs among them each"
    return f", held out ({p['held_out']}: {which} scored along a direction built without it)"


COMMANDS = [calc_command, analogy_command, similarity_command, odd_one_out_command, probe_command]
