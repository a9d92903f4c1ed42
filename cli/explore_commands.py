"""``explore``: a whole space in one interactive page, with every word's nearest neighbours."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.common import SpaceRequest, load_options, open_space, pass_session
from cli.plot_commands import GreedyAxesCommand, read_word_list
from cli.word_lists import known_positions, strict_option


@click.command("explore", cls=GreedyAxesCommand)
@click.argument("space", required=False, metavar="[SPACE]")
@click.option("--out", "-o", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The page to write (.html); it works offline.")
@click.option("--method", "-m", type=click.Choice(["pca", "tsne", "umap", "axes"]), default=None,
              help="How to place the points: pca (default), tsne, umap (pip install 'embedspace[umap]'), or axes.")
@click.option("--axes", "axes", multiple=True, metavar="EXPR...",
              help='With --method axes: 2 or 3 directions, e.g. --axes "woman - man" "king - man".')
@click.option("--dims", type=click.IntRange(2, 3), default=None, help="2 or 3 dimensions (default 3; axes: one per axis).")
@click.option("--words", "words_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Only these words: one per line, or word<TAB>group on every line (groups colour the points).")
@click.option("--coords", "coords_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Show these coordinates as they are: key,x,y[,z][,group] rows (what plot --coords-csv writes).")
@click.option("--neighbours", "topn", type=click.IntRange(0), default=10, show_default=True,
              help="Nearest words stored per point (0: none).")
@click.option("--unit", is_flag=True, help="Scale every vector to unit length before projecting.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed for PCA's solver, t-SNE and UMAP.")
@strict_option
@load_options
@pass_session
def explore_command(session, space: str | None, out: Path, method: str | None, axes: tuple[str, ...], dims: int | None,
                    words_file: Path | None, coords_file: Path | None, topn: int, unit: bool, seed: int,
                    strict: bool, load) -> None:
    """Write SPACE as one interactive page: every word a point, each with its nearest neighbours.

    Rotate and zoom the 3D projection, hover to read a word, search for one, click it to list its
    nearest neighbours in the original space (computed here, stored in the page) and show only
    them. Every point is drawn and every word stored: no cap, no sampling. --limit N keeps the N
    most frequent words; --words FILE shows just the words listed (coloured by group, if given).

    Example:

    \b
        embedspace explore word2vec --limit 1000 --out word2vec-1k.html
        embedspace explore word2vec --out word2vec.html   # slow: every word of the space
        embedspace explore minilm --method tsne --limit 5000 --out minilm-tsne.html   # slow: minutes
        embedspace plot king queen man woman prince princess --space word2vec --out royals.png --coords-csv royals.csv
        embedspace explore word2vec --coords royals.csv --out royals.html
    """
    from embedspace.viz.explore import explore_view, read_coordinates
    from embedspace.viz.figures import is_page_path
    from embedspace.viz.interactive import write_page

    if not is_page_path(out):
        raise click.UsageError(f"--out names the page to write: a .html file, not {out.name!r}")
    if coords_file is not None and (method or axes):
        raise click.UsageError("--coords shows the coordinates as they are: leave out --method and --axes")
    method = method or "pca"
    if (method == "axes") != bool(axes) or (axes and not 2 <= len(axes) <= 3):
        raise click.UsageError('--method axes goes with 2 or 3 --axes: --axes "woman - man" "king - man"')
    if axes and dims is not None and dims != len(axes):
        raise click.UsageError(f"--dims {dims} but {len(axes)} axes were given")
    opened = open_space(session, SpaceRequest(space, load))
    words, groups = read_word_list(words_file) if words_file is not None else (None, None)
    if words is not None and len(set(words)) < len(words):
        first = {word: i for i, word in reversed(list(enumerate(words)))}  # each word's first line
        click.echo(f"{len(words) - len(first)} repeated words left out (each keeps its first line)", err=True)
        keep = sorted(first.values())
        words, groups = [words[i] for i in keep], [groups[i] for i in keep] if groups is not None else None
    if words is not None:  # a word the space lacks is left out, with a note (--strict: fail)
        keep = known_positions(opened, words, strict)
        words, groups = [words[i] for i in keep], [groups[i] for i in keep] if groups is not None else None
    coords = read_coordinates(coords_file) if coords_file is not None else None
    if coords is not None and words is not None:
        raise click.UsageError("give --words or --coords, not both: the coordinates name their own words")
    count = len(coords.keys) if coords is not None else len(words) if words is not None else len(opened)
    if method in ("tsne", "umap"):
        click.echo(f"laying out all {count:,} points with {method} (no sampling); this can take a while", err=True)
    options = {"normalize": unit} if method != "axes" else {}
    with click.progressbar(length=count, label="nearest neighbours", file=sys.stderr) as bar:
        view = explore_view(opened, words=words, groups=groups, method=method, dims=dims or len(axes) or 3,
                            axes=axes, coords=coords, topn=topn, seed=seed, options=options,
                            progress=lambda done, total: bar.update(done - bar.pos))
    write_page(out, [view], title=view.title)
    size = out.stat().st_size / 2**20
    click.echo(f"wrote {out} ({count:,} points, {topn} neighbours each, {size:.1f} MB)")


COMMANDS = [explore_command]
