"""Spaces: list them, describe one, ask for neighbours, convert between formats."""
from __future__ import annotations

import sys
from pathlib import Path

import click
import numpy as np

from cli.common import (
    LoadOptions,
    SpaceRequest,
    echo_json,
    echo_lookup_notes,
    echo_table,
    inflections_option,
    json_option,
    load_options,
    open_space,
    pass_session,
    space_options,
    topn_option,
)
from embedspace.session import Session


@click.command("spaces")
@pass_session
@json_option
def spaces_command(session: Session, as_json: bool) -> None:
    """List the named spaces: available or not (and why), size, dims, origin.

    Any vector file path works as a space too (word2vec .bin/.txt, GloVe .txt, fastText .vec).

    Example:

    \b
        embedspace spaces --json
    """
    infos = session.spaces()
    if as_json:
        echo_json([info.as_dict() for info in infos])
        return
    rows = [(i.name, "yes" if i.available else "no", i.size or "-", i.dims or "-", i.origin if i.available else i.reason)
            for i in infos]
    echo_table(rows, ("space", "available", "size", "dims", "origin / why not"))


@click.command("info")
@pass_session
@space_options
@json_option
def info_command(session: Session, space: SpaceRequest, as_json: bool) -> None:
    """Describe one space: where it comes from, its size, dims, memory, first keys, and how alike its vectors are.

    typical_cosine is the mean cosine of random pairs of its frequent words: near 0 for a space
    with no common direction; near 1 when every vector points one way (then --remove-top helps).

    Example:

    \b
        embedspace info --space mini
    """
    import dataclasses

    from embedspace.analysis.geometry import typical_cosine

    opened = open_space(session, space)
    info = {
        "name": opened.name, "origin": opened.origin, "size": len(opened), "dims": opened.dim,
        "dtype": str(opened.vectors.dtype), "megabytes": round(opened.vectors.nbytes / 2**20, 1),
        "memory_mapped": isinstance(opened.vectors, np.memmap),
        "first_keys": opened.index_to_key[:10],
        "typical_cosine": round(typical_cosine(opened), 4) if len(opened) > 1 else None,  # needs two words
    }
    if opened.postprocessing:
        raw = session.space(space.spec, **dataclasses.replace(space.load, remove_top=0).as_kwargs())
        info["postprocessing"] = opened.postprocessing
        info["typical_cosine_raw"] = round(typical_cosine(raw), 4)
    if as_json:
        echo_json(info)
        return
    for field, value in info.items():
        click.echo(f"{field:<18} {', '.join(value) if isinstance(value, list) else value}")


@click.command("neighbors")
@pass_session
@click.argument("words", nargs=-1, required=True)
@space_options
@topn_option
@inflections_option
@json_option
def neighbors_command(session: Session, words: tuple[str, ...], space: SpaceRequest, topn: int,
                      no_inflections: bool, as_json: bool) -> None:
    """The nearest keys of each WORD by cosine similarity, best first.

    A WORD is looked up as typed, then in lower case; on minilm any word or quoted phrase the
    model can read has a vector, even when it is not one of the candidate answers.

    Example:

    \b
        embedspace neighbors tower king --space minilm --topn 5
        embedspace neighbors sushi "new york" --no-inflections
    """
    opened = open_space(session, space)
    echo_lookup_notes(opened, words)
    rows = []
    for word in words:
        key = opened.resolve(word)
        keep = None
        if no_inflections:
            from embedspace.analysis.inflections import inflection_filter

            keep = inflection_filter([key])
        found = opened.similar_by_vector(opened[key], topn=topn, exclude=[key], keep=keep)
        rows += [{"word": word, "rank": rank, "neighbor": neighbour, "cosine": round(score, 6)}
                 for rank, (neighbour, score) in enumerate(found, 1)]
    if as_json:
        echo_json(rows)
        return
    echo_table([tuple(row.values()) for row in rows], ("word", "rank", "neighbor", "cosine"))


@click.command("convert")
@pass_session
@click.argument("source")
@click.argument("dest", type=click.Path(dir_okay=True, writable=True))
@load_options
def convert_command(session: Session, source: str, dest: str, load: LoadOptions) -> None:
    """Write the space SOURCE (a name or a file) to DEST, in the format DEST's suffix names.

    .bin: word2vec binary; .txt: word2vec text; .vec: fastText text; no suffix: a space
    folder (vectors.npy + vocab.txt + meta.json, the cache format, reloaded as a memory map).
    DEST may not be the shipped data, the source itself, or a folder holding other files.

    Example:

    \b
        embedspace convert word2vec w2v-5k.bin --limit 5000
        embedspace neighbors king --space w2v-5k.bin
    """
    from embedspace.io.saving import check_destination, save_format, save_space

    save_format(dest)  # an unknown suffix fails before the space is read
    reading = [source] if source and Path(source).exists() else []
    check_destination(dest, reading=reading)  # and so does a destination that would lose something
    opened = open_space(session, SpaceRequest(source, load))
    with click.progressbar(length=len(opened), label=f"writing {dest}", file=sys.stderr) as bar:
        fmt = save_space(opened, dest, progress=bar.update, reading=reading)
    click.echo(f"wrote {len(opened)} keys x {opened.dim} dims to {dest} ({fmt})", err=True)


COMMANDS = [spaces_command, info_command, neighbors_command, convert_command]
