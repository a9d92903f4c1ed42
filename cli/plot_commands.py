"""Pictures and exports: plot, plot-analogy, plot-probe, export-projector."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.common import SpaceRequest, open_space, pass_session, space_options
from cli.word_lists import known_words, strict_option
from embedspace.errors import FormatError
from embedspace.session import Session

PROJECTION_TITLES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP", "axes": "Named axes"}


class GreedyAxesCommand(click.Command):
    """Lets ``--axes`` take several values: ``--axes "italy - germany" "hitler - germany"``.

    Every argument after ``--axes`` up to the next option is one axis (as argparse's ``nargs='+'``);
    they are rewritten to ``--axes A --axes B`` before click parses them.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread_option(args, "--axes"))


def spread_option(args: list[str], option: str) -> list[str]:
    """``[option, a, b, "--x"]`` -> ``[option, a, option, b, "--x"]`` (values end at the next option).

    Examples
    --------
    >>> spread_option(["w", "--axes", "a - b", "c", "--out", "f.png"], "--axes")
    ['w', '--axes', 'a - b', '--axes', 'c', '--out', 'f.png']
    """
    spread, taking = [], False
    for arg in args:
        if arg == "--":
            taking = False
        elif arg == option:
            taking = True
            continue
        elif taking and arg.startswith("-") and len(arg) > 1 and not arg.startswith("- "):
            taking = False
        if taking:
            spread.append(option)
        spread.append(arg)
    return spread


def out_option(command):
    """``--out FILE``: the picture to write (PNG, SVG or PDF, by extension), or an interactive page (.html)."""
    return click.option("--out", "-o", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                        help="The picture to write: .png, .svg or .pdf; or .html for an interactive page "
                             "(works offline).")(command)


@click.command("plot", cls=GreedyAxesCommand)
@pass_session
@click.argument("words", nargs=-1, required=True)
@click.option("--method", "-m", type=click.Choice(["pca", "tsne", "umap", "axes"]), default="pca", show_default=True,
              help="PCA, t-SNE, UMAP (pip install 'embedspace[umap]'), or named axes.")
@click.option("--axes", "axes", multiple=True, metavar="EXPR...",
              help='With --method axes: 2 or 3 directions, e.g. --axes "italy - germany" "hitler - germany".')
@click.option("--dims", type=click.IntRange(2, 3), default=None, help="2 or 3 dimensions (default 2; axes: one per axis).")
@click.option("--orthogonalize", is_flag=True, help="Named axes: make each axis orthogonal to the earlier ones.")
@click.option("--unit", is_flag=True, help="Scale every vector to unit length first (cosine geometry).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed for t-SNE and UMAP.")
@click.option("--title", default=None, help="The picture's title.")
@out_option
@click.option("--coords-csv", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the coordinates as CSV (key,x,y[,z],group).")
@strict_option
@space_options
def plot_command(session: Session, words: tuple[str, ...], method: str, axes: tuple[str, ...],
                 dims: int | None, orthogonalize: bool, unit: bool, seed: int, title: str | None, out: Path,
                 coords_csv: Path | None, strict: bool, space: SpaceRequest) -> None:
    """Project WORDS to 2D or 3D and draw them, labelled.

    With --method axes each axis is a direction you name (a word or an expression); a word's
    coordinate is its projection onto that axis. List WORDS before --axes (or end the axes with
    another option).

    Example:

    \b
        embedspace plot king queen man woman prince princess --dims 3 --out royals.png
        embedspace plot king queen man woman prince princess --dims 3 --out royals.html
        embedspace plot italy germany rome berlin hitler mussolini --method axes --axes "italy - germany" "hitler - germany" --out axes.png
    """
    from embedspace.viz.figures import is_page_path
    from embedspace.viz.projections import project

    if method == "axes" and not 2 <= len(axes) <= 3:
        raise click.UsageError("--method axes needs 2 or 3 axes: --axes \"italy - germany\" \"hitler - germany\"")
    if method != "axes" and axes:
        raise click.UsageError("--axes goes with --method axes")
    if method == "axes" and dims is not None and dims != len(axes):
        raise click.UsageError(f"--dims {dims} but {len(axes)} axes were given")
    options = {"normalize": unit} | ({"orthogonalize": orthogonalize} if method == "axes" else {})
    opened = open_space(session, space)
    words = known_words(opened, list(dict.fromkeys(words)), strict)  # a missing word is left out, with a note
    coords, projection = project(opened, words, method, n_components=dims or 2, axes=axes, random_state=seed,
                                 **options)
    heading = title or f"{PROJECTION_TITLES[method]} of {len(words)} words ({opened.name})"
    if is_page_path(out):  # -- interactive page (embedspace.viz.interactive) --
        from embedspace.viz.interactive import write_page
        from embedspace.viz.interactive_views import points_view

        view = points_view(coords, words, projection, title=heading, details=[("space", opened.name)])
        write_page(out, [view], title=heading)
    else:
        from embedspace.viz.plots import plot_points, save_figure

        save_figure(plot_points(coords, words, title=heading, axis_labels=projection.axis_labels()), out)
    click.echo(f"wrote {out}")
    if coords_csv is not None:
        from embedspace.io.export import write_coordinates_csv

        write_coordinates_csv(coords_csv, words, coords)
        click.echo(f"wrote {coords_csv}")


@click.command("plot-analogy")
@pass_session
@click.argument("a")
@click.argument("b")
@click.argument("c")
@click.option("--expected", default=None, metavar="WORD", help="The word A - B + C should reach (default: the nearest).")
@click.option("--title", default=None, help="The picture's title.")
@out_option
@space_options
def plot_analogy_command(session: Session, a: str, b: str, c: str, expected: str | None, title: str | None,
                         out: Path, space: SpaceRequest) -> None:
    """Draw A - B + C as a parallelogram: B -> C beside A -> the answer, in the PCA plane of the words.

    The star marks A - B + C (of unit vectors, as gensim combines them), annotated with its
    nearest word (A, B and C left out). An .html page shows it in 3D: it opens on the picture's
    plane, and rotating shows the third principal component.

    Example:

    \b
        embedspace plot-analogy king man woman --expected queen --out analogy.png
        embedspace plot-analogy king man woman --expected queen --out analogy.html
    """
    from embedspace.viz.figures import is_page_path

    if is_page_path(out):  # -- interactive page (embedspace.viz.interactive) --
        from embedspace.viz.interactive import write_page
        from embedspace.viz.interactive_views import analogy_view

        view = analogy_view(open_space(session, space), a, b, c, expected=expected, title=title)
        write_page(out, [view], title=view.title)
    else:
        from embedspace.viz.plots import plot_analogy, save_figure

        save_figure(plot_analogy(open_space(session, space), a, b, c, expected=expected, title=title), out)
    click.echo(f"wrote {out}")


@click.command("plot-probe")
@pass_session
@click.argument("words", nargs=-1)
@click.option("--direction", "-d", required=True, metavar="EXPR",
              help='The direction, e.g. "cats - cat" or "woman - man".')
@click.option("--pairs", "pairs_file", default=None, metavar="FILE",
              help="Draw these pairs (HIGH<TAB>LOW a line, or a shipped list: plurals, gender, ...): every pair on "
                   "its own row, its two words joined; WORDS follow as single points.")
@click.option("--names", nargs=2, default=("first word", "second word"), show_default=True, metavar="HIGH LOW",
              help='With --pairs: what the two columns are, e.g. --names plural singular.')
@click.option("--measure", type=click.Choice(["dot", "projection", "cosine"]), default="dot", show_default=True,
              help="dot: raw dot product (as embedspace probe); projection: length along the unit direction; cosine.")
@click.option("--title", default=None, help="The picture's title.")
@strict_option
@out_option
@space_options
def plot_probe_command(session: Session, words: tuple[str, ...], direction: str, pairs_file: str | None,
                       names: tuple[str, str], measure: str, title: str | None, strict: bool, out: Path,
                       space: SpaceRequest) -> None:
    """Bars of WORDS sorted by their score along a direction (highest at the top); or, with --pairs, every pair.

    The scores are those of ``embedspace probe`` (same direction, same measure). With --pairs each
    pair is one row, its two words joined by a line (red where the first word scores lower); the
    pairs the direction was built from come first, marked, then the held-out ones. Words and pairs
    the space lacks are left out and named on stderr (--strict: fail instead).

    Example:

    \b
        embedspace plot-probe --direction "cats - cat" dog dogs car cars child children --out plural.png
        embedspace plot-probe --direction "cats - cat" dog dogs car cars child children --out plural.html
        embedspace plot-probe --direction "cats - cat" --pairs plurals --names plural singular one two three four --out pairs.png
    """
    from embedspace.analysis.probes import direction_from_expression, score
    from embedspace.viz.figures import is_page_path

    if not words and pairs_file is None:
        raise click.UsageError("give WORDS to score, or --pairs FILE")
    opened = open_space(session, space)
    words = known_words(opened, list(dict.fromkeys(words)), strict)  # a missing word is left out, with a note
    found = direction_from_expression(opened, direction)
    scores = score(opened, found, words, measure)  # [N]
    measure_label = {"dot": "dot product with", "projection": "projection onto", "cosine": "cosine with"}[measure]
    heading, xlabel = title or f"Words along “{found.name}” ({opened.name})", f"{measure_label} {found.name}"
    details = [("direction", found.name), ("measure", measure), ("space", opened.name)]
    if pairs_file is not None:
        draw_pairs(opened, found, pairs_file, names, list(zip(words, map(float, scores))), measure, title,
                   xlabel, details, out)
    elif is_page_path(out):  # -- interactive page (embedspace.viz.interactive) --
        from embedspace.viz.interactive import write_page
        from embedspace.viz.interactive_views import probe_view

        write_page(out, [probe_view(words, scores, title=heading, xlabel=xlabel, details=details)], title=heading)
    else:
        from embedspace.viz.plots import plot_probe, save_figure

        save_figure(plot_probe(words, scores, title=heading, xlabel=xlabel), out)
    click.echo(f"wrote {out}")


def draw_pairs(space, direction, pairs_file: str, names: tuple[str, str], extra: list[tuple[str, float]],
               measure: str, title: str | None, xlabel: str, details: list, out: Path) -> None:
    """plot-probe --pairs: every pair of the file on its own row, as a picture or a page."""
    from cli.analysis_commands import shipped_or_path
    from embedspace.analysis.probes import pair_report, read_pairs
    from embedspace.viz.figures import is_page_path
    from embedspace.viz.geometry import pair_rows

    path = shipped_or_path(pairs_file)
    pairs = read_pairs(path)
    report = pair_report(space, direction, pairs, measure)
    if report.missing:
        click.echo(f"left out {len(report.missing)} of {len(pairs)} pairs ({space.name} lacks a word): "
                   + ", ".join(f"{h}/{lo}" for h, lo in report.missing), err=True)
    rows = pair_rows(report.rows, built_from=direction.pairs)
    shown = "all" if not report.missing else f"{len(report.rows)} of"
    heading = title or f"{report.wins}/{len(report.rows)} pairs along “{direction.name}” ({space.name})"
    details = [*details, ("pairs", f"{path.name}: {shown} {len(pairs)} pairs shown")]
    if is_page_path(out):
        from embedspace.viz.interactive import write_page
        from embedspace.viz.interactive_views import pairs_view

        write_page(out, [pairs_view(rows, names, extra=extra, extra_name="words", title=heading, xlabel=xlabel,
                                    details=details)], title=heading)
    else:
        from embedspace.viz.plots import plot_pairs, save_figure

        save_figure(plot_pairs(rows, title=heading, xlabel=xlabel, names=names, extra=extra, extra_name="words"),
                    out)


@click.command("export-projector")
@pass_session
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--words", "words_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Export only these words: one per line, optionally followed by a tab and a group.")
@space_options
def export_projector_command(session: Session, directory: Path, words_file: Path | None,
                             space: SpaceRequest) -> None:
    """Write vectors.tsv and metadata.tsv into DIRECTORY for the TensorFlow Embedding Projector.

    Load both at https://projector.tensorflow.org ("Load"). --limit N keeps the N most frequent
    words of the space; --words FILE exports just the words listed (and their groups, if given).

    Example:

    \b
        embedspace export-projector --space word2vec --limit 5000 projector/
    """
    from embedspace.io.export import export_projector

    opened = open_space(session, space)
    words, groups = read_word_list(words_file) if words_file is not None else (None, None)
    count = len(words) if words is not None else len(opened)
    with click.progressbar(length=count, label="writing vectors.tsv", file=sys.stderr) as bar:
        vectors, metadata = export_projector(opened, directory, words=words, groups=groups, progress=bar.update)
    click.echo(f"wrote {vectors} and {metadata} ({count} vectors of {opened.dim} dimensions); "
               "load them at https://projector.tensorflow.org")


def read_word_list(path: Path) -> tuple[list[str], list[str] | None]:
    """Words (and groups, when every line has ``word<TAB>group``) from a file; blank lines are skipped.

    Raises
    ------
    FormatError
        For a file that is not UTF-8 text, holds no words, or gives groups on some lines only.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise FormatError(path, f"not UTF-8 text ({error.reason} at byte {error.start})") from None
    lines = [line.rstrip("\r\n") for line in text.splitlines()]
    rows = [line.split("\t", 1) for line in lines if line.strip()]
    if not rows:
        raise FormatError(path, "no words in the file")
    words = [row[0].strip() for row in rows]
    with_group = [len(row) == 2 for row in rows]
    if any(with_group) and not all(with_group):
        raise FormatError(path, "give a group on every line (word<TAB>group) or on none")
    return words, [row[1].strip() for row in rows] if all(with_group) else None


COMMANDS = [plot_command, plot_analogy_command, plot_probe_command, export_projector_command]
