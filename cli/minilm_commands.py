"""Tokens, contextual embeddings and attention patterns from MiniLM or our mini GPT."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.common import echo_json, echo_table, json_option, model_choice, pass_session
from embedspace.errors import FormatError
from embedspace.session import Session

SHOWN_VALUES = 6  # leading vector components shown in the readable (non-JSON) output


def preview(vector) -> str:
    """The first components of a vector, for reading: ``[0.0123, -0.0456, ...]``."""
    shown = ", ".join(f"{v:+.4f}" for v in vector[:SHOWN_VALUES])
    return f"[{shown}{', ...' if len(vector) > SHOWN_VALUES else ''}]"


@click.command("tokens")
@pass_session
@click.argument("text")
@model_choice
@json_option
def tokens_command(session: Session, text: str, model: str, as_json: bool) -> None:
    """The tokens and ids a model sees for TEXT (specials included).

    MiniLM splits rare words into WordPiece pieces (a "##" piece continues a word) between
    [CLS] and [SEP]; the mini GPT sees whole lower-cased words after <bos>, unknown ones as <unk>.

    Example:

    \b
        embedspace tokens "Tokenization is unbelievably fun" --model minilm
        embedspace tokens "the cat sat on the mat" --model mini --json
    """
    batch = session.encoder(model).encode([text])
    rows = list(zip(range(len(batch.tokens[0])), batch.tokens[0], batch.ids[0].tolist()))
    if as_json:
        echo_json([{"position": p, "token": t, "id": i} for p, t, i in rows])
        return
    echo_table(rows, ("position", "token", "id"))


def read_texts(texts: tuple[str, ...], file: Path | None) -> list[str]:
    """The TEXT arguments and the non-empty lines of ``file``; none at all is a usage error."""
    found = list(texts)
    if file is not None:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as error:
            raise FormatError(file, f"not UTF-8 text ({error.reason} at byte {error.start})") from None
        found += [line.strip() for line in lines if line.strip()]
    if not found:
        raise click.UsageError("give at least one TEXT or a --file with one text per line")
    return found


@click.command("embed")
@pass_session
@click.argument("texts", nargs=-1)
@click.option("--file", "-f", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A text file: one text per line (added after the TEXT arguments).")
@model_choice
@click.option("--tokens", "per_token", is_flag=True, help="Per-token hidden states instead of one vector per text.")
@click.option("--layer", "-l", type=int, default=-1, show_default=True,
              help="With --tokens: the layer, 0 (token + position embeddings) to the last; -1 is the last.")
@json_option
def embed_command(session: Session, texts: tuple[str, ...], file: Path | None, model: str, per_token: bool,
                  layer: int, as_json: bool) -> None:
    """Contextual vectors: one sentence embedding per TEXT, or with --tokens every token's vector at a layer.

    A sentence embedding is the last layer's hidden states mean-pooled over the text's tokens,
    then L2-normalised (as all-MiniLM-L6-v2 is meant to be used); with several texts their
    cosine similarities follow. --json prints every vector in full.

    Example:

    \b
        embedspace embed "The car is blue" "A red automobile" --model minilm
        embedspace embed "a fashion model" --tokens --layer 3 --json
    """
    from embedspace.contextual.encoders import BATCH_SIZE, check_layer

    found = read_texts(texts, file)
    encoder = session.encoder(model)
    if per_token:
        resolved = check_layer(layer, encoder.n_layer)
        echo_token_vectors(encoder.run(found), resolved, as_json)
        return
    if len(found) > BATCH_SIZE:
        with click.progressbar(length=len(found), label="embedding", file=sys.stderr) as bar:
            vectors = encoder.sentence_embeddings(found, progress=bar.update)
    else:
        vectors = encoder.sentence_embeddings(found)
    if as_json:
        echo_json([{"text": t, "vector": [round(float(v), 6) for v in vec]} for t, vec in zip(found, vectors)])
        return
    click.echo(f"{model}: {len(found)} sentence embedding(s) of {vectors.shape[1]} dims (unit length)")
    echo_table([(i, shorten(t), preview(v)) for i, (t, v) in enumerate(zip(found, vectors), 1)],
               ("#", "text", "vector"))
    if len(found) > 1:
        click.echo("\ncosine similarities")
        cosines = vectors @ vectors.T
        echo_table([(i, *map(float, row)) for i, row in enumerate(cosines, 1)],
                   ("#", *map(str, range(1, len(found) + 1))))


def echo_token_vectors(runs, layer: int, as_json: bool) -> None:
    """Each text's tokens with their hidden state at ``layer``: in full as JSON, else norm and first values."""
    if as_json:
        echo_json([{"text": run.text, "layer": layer, "tokens": [
            {"position": p, "token": t, "id": i, "vector": [round(float(v), 6) for v in run.hidden_states[layer, p]]}
            for p, (t, i) in enumerate(zip(run.tokens, run.ids))]} for run in runs])
        return
    for number, run in enumerate(runs, 1):
        if number > 1:
            click.echo()
        click.echo(f"{shorten(run.text)}: layer {layer}, {run.hidden_states.shape[-1]} dims")
        vectors = run.hidden_states[layer]                              # [T, C]
        norms = (vectors * vectors).sum(axis=1) ** 0.5
        echo_table([(p, t, float(n), preview(v)) for p, (t, n, v) in enumerate(zip(run.tokens, norms, vectors))],
                   ("position", "token", "norm", "vector"))


def shorten(text: str, width: int = 48) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: width - 3] + "..."


@click.command("attention")
@pass_session
@click.argument("text")
@model_choice
@click.option("--layer", "-l", type=int, default=1, show_default=True,
              help="Block 1 to the last (-1 is the last): its attention produced hidden-state layer L.")
@click.option("--head", "-H", "head", type=click.IntRange(0), default=0, show_default=True, help="Head, from 0.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw the heatmap to this .png, .svg or .pdf file.")
@json_option
def attention_command(session: Session, text: str, model: str, layer: int, head: int, out: Path | None,
                      as_json: bool) -> None:
    """One attention head's weights on TEXT: row = the token attending (query), column = the token attended to.

    Each row sums to 1: how the token at that row mixes the values of every token when
    building its next vector. The mini GPT is causal: nothing right of the diagonal.

    Example:

    \b
        embedspace attention "The car is blue" --model minilm --layer 1 --head 0
        embedspace attention "The car is blue" --layer -1 --head 3 --out attention.png
    """
    from embedspace.contextual.encoders import check_layer

    encoder = session.encoder(model)
    block = check_layer(layer, encoder.n_layer, first=1)
    tokens, weights = encoder.attention(text, block, head)
    if out is not None:
        from embedspace.viz.plots import plot_attention, save_figure

        ax = plot_attention(weights, tokens, title=f"{model}: layer {block}, head {head} on {shorten(text, 40)!r}")
        click.echo(f"wrote {save_figure(ax, out)}", err=True)
    if as_json:
        echo_json([{"position": p, "token": t, "weights": [round(float(w), 6) for w in row]}
                   for p, (t, row) in enumerate(zip(tokens, weights))])
        return
    click.echo(f"{model}: layer {block} of {encoder.n_layer}, head {head} of {encoder.cfg.n_head} "
               "(rows attend to columns; each row sums to 1)")
    echo_table([(t, *(f"{w:.2f}" for w in row)) for t, row in zip(tokens, weights)], ("", *tokens))


COMMANDS = [tokens_command, embed_command, attention_command]
