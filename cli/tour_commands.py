"""Static vs contextual vectors (``context``) and the guided tour (``tour``).

The library is imported inside each command: cli.main imports every command module at start, and
the encoders, the tour and matplotlib (about 0.8 s for the tour) would slow every other command.
"""
from __future__ import annotations

import click

from cli.common import echo_json, echo_table, json_option, model_choice


@click.command("context")
@click.argument("sentences", nargs=-1, required=True)
@click.option("--word", "-w", required=True, help="The word to follow through the layers.")
@model_choice
@click.option("--layer", "-l", "layers", type=int, multiple=True,
              help="Layer at which to list neighbours (repeatable; -1 = last). Default: first and last.")
@click.option("--topn", "-n", default=5, show_default=True, type=click.IntRange(1), help="Neighbours per layer.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write the layer-drift chart to this file (.png/.svg/.pdf, or .html for an interactive page).")
@json_option
def context(sentences, word, model, layers, topn, plot, as_json):
    """How the context tugs WORD's vector, layer by layer, in each SENTENCE.

    For every pair of sentences: the cosine between the word's vectors at each layer
    (layer 0 = what enters the first block). For every sentence: the cosine to the word's
    static W_E row, and the nearest W_E words at the chosen layers. A word split into
    several word pieces is mean-pooled. --model takes minilm, mini or a train-mini folder.

    Example:

    \b
        embedspace context "a machine learning model" "a fashion model" --word model --plot drift.png
        embedspace context "the king is dead" "long live the king" --word king --model mini
    """
    from embedspace.contextual.compare import compare_contexts
    from embedspace.session import Session

    with Session() as session:
        static = session.space("minilm-we" if model == "minilm" else model, remove_top=0)  # the raw W_E rows
        result = compare_contexts(session.encoder(model), sentences, word, layers=layers or None, topn=topn,
                                  space=static)
    if plot:
        save_drift_plot(result, plot)
    if as_json:
        echo_json(result.to_dict())
        return
    echo_comparison(result)
    if plot:
        click.echo(f"\nplot: {plot}")


def save_drift_plot(result, path: str) -> None:
    """The layer-drift chart of a comparison, written to ``path`` (a picture, or an .html page)."""
    from embedspace.viz.figures import is_page_path

    title = f"'{result.word}' in context ({result.model}): cosine by layer"
    if is_page_path(path):  # -- interactive page (embedspace.viz.interactive) --
        from embedspace.viz.interactive import write_page
        from embedspace.viz.interactive_views import drift_view

        details = [("model", result.model), ("note", result.note),
                   *((f"sentence {i}", o.sentence) for i, o in enumerate(result.occurrences, start=1))]
        write_page(path, [drift_view(result.layer_drift(), title=title, details=details)], title=title)
        return
    from embedspace.viz.plots import plot_layer_drift, save_figure

    save_figure(plot_layer_drift(result.layer_drift(), title=title), path)


def echo_comparison(result) -> None:
    """The readable form: sentences, a cosine table by layer, then the neighbours."""
    click.echo(f"'{result.word}' in {len(result.occurrences)} sentences, model {result.model} "
               f"({result.n_layers} layers; layer 0 = input to the first block)")
    click.echo(f"note: {result.note}\n")
    for i, occurrence in enumerate(result.occurrences, start=1):
        click.echo(f"  {i}. {occurrence.sentence}   [tokens: {' '.join(occurrence.pieces)}]")
    click.echo()
    curves = result.layer_drift(max_pairs=len(result.pairs))
    rows = [(layer, *(values[layer] for values in curves.values())) for layer in range(result.n_layers + 1)]
    echo_table(rows, ("layer", *curves))
    for i, occurrence in enumerate(result.occurrences, start=1):
        click.echo()
        for layer, found in occurrence.neighbours.items():
            words = ", ".join(f"{w} ({s:.2f})" for w, s in found)
            click.echo(f"sentence {i}, layer {layer} neighbours: {words}")


@click.command("tour")
@click.option("--out", "-o", "out_dir", default="tour", show_default=True, type=click.Path(file_okay=False),
              help="Folder for report.md, report.html and the figures.")
def tour(out_dir):
    """Run the classic demonstrations on the shipped spaces and write an illustrated report.

    word2vec, MiniLM's W_E and the mini GPT's W_E side by side: neighbours, analogies, the
    plurality and gender directions, PCA and named-axes plots, a word in context layer by
    layer, attention, temperature, and GPT-3's parameter count. Progress goes to stderr.

    Example:

    \b
        embedspace tour --out tour   # slow: a minute or two; then open tour/report.html
    """
    from embedspace.tour.run import run_tour

    def progress(step: int, total: int, title: str) -> None:
        if title != "done":
            click.echo(f"[{step}/{total}] {title}", err=True)

    report = run_tour(out_dir, progress=progress)
    click.echo(report.summary())
    if report.failed:
        names = ", ".join(s.title for s in report.failed)
        raise click.ClickException(f"{len(report.failed)} section(s) failed: {names} (run with -v for details)")


COMMANDS = [context, tour]
