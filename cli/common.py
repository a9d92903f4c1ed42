"""What every command shares: error handling, and options defined once as decorators."""
from __future__ import annotations

import contextlib
import json
import logging
import sys

import click

from embedspace.errors import EmbedspaceError

USER_ERRORS = (EmbedspaceError, KeyError, ValueError, FileNotFoundError, PermissionError, IsADirectoryError)


class FriendlyGroup(click.Group):
    """A click group that turns a user error into one line on stderr and exit status 1.

    Usage errors keep click's own handling (exit 2); bugs keep their traceback.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except USER_ERRORS as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
            raise click.ClickException(one_line(message)) from None


def one_line(message: object) -> str:
    """The message on a single line (a CLI error never spans several)."""
    return " ".join(str(message).split())


def json_option(command):
    """``--json``: machine-readable output instead of a table."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(command)


def space_option(command):
    """``--space``: which space to ask (a name from ``embedspace spaces`` or a path)."""
    return click.option(
        "--space", "-s", default=None, metavar="SPACE",
        help="A space name (minilm, word2vec, mini) or a vector file path. Default: minilm if found, else word2vec.",
    )(command)


LOAD_OPTIONS = "embedspace.load_options"  # ctx.meta key where the options below are kept for open_space


def _keep_load_option(ctx: click.Context, param: click.Parameter, value) -> None:
    """Store one of the load options in ``ctx.meta`` (they reach :func:`open_space`, not the command)."""
    ctx.meta.setdefault(LOAD_OPTIONS, {})[param.name] = value


def load_options(command):
    """``--limit``, ``--format``, ``--trust-pickle``, ``--all-tokens``: how :func:`open_space` reads a space.

    They are not passed to the command: call ``open_space(spec)``, which applies them.
    """
    from embedspace.io.formats import FORMATS

    options = [
        click.option("--limit", type=click.IntRange(1), default=None, metavar="N", expose_value=False,
                     callback=_keep_load_option, help="Read only the first N keys (the most frequent)."),
        click.option("--format", "format", type=click.Choice(FORMATS), default=None, expose_value=False,
                     callback=_keep_load_option, help="The file's format (default: detected from its content)."),
        click.option("--trust-pickle", "trust_pickle", is_flag=True, expose_value=False,
                     callback=_keep_load_option,
                     help="Allow gensim .kv/.model files: they are pickles, which can run code. Only for files you trust."),
        click.option("--all-tokens", "keep_all_tokens", is_flag=True, expose_value=False,
                     callback=_keep_load_option,
                     help="minilm: keep word pieces (##s), special and non-alphabetic tokens too."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def space_options(command):
    """``--space`` and the :func:`load_options`; the command gets ``space`` and calls ``open_space(space)``."""
    return space_option(load_options(command))


def open_space(spec):
    """The space ``spec`` (None: the default, named on stderr), read with the command's load options.

    Reading a large vector file (not its cache) shows a progress bar on stderr.
    """
    from embedspace.io.registry import default_space_name, load_space

    ctx = click.get_current_context(silent=True)
    options = dict(ctx.meta.get(LOAD_OPTIONS, {})) if ctx is not None else {}
    if spec is None:
        spec = default_space_name()
        click.echo(f"using space {spec!r} (the default; choose one with --space)", err=True)
    with contextlib.ExitStack() as stack:
        bars = []

        def progress(done: int, total: int) -> None:
            if not bars:
                bars.append(stack.enter_context(
                    click.progressbar(length=total, label=f"reading {spec}", file=sys.stderr)))
            bars[0].update(done - bars[0].pos)

        return load_space(spec, progress=progress, **options)


def model_choice(command):
    """``--model``: which transformer (the pretrained MiniLM, or our mini GPT)."""
    return click.option("--model", "-m", type=click.Choice(["minilm", "mini"]), default="minilm", show_default=True,
                        help="minilm: pretrained all-MiniLM-L6-v2 (bidirectional, WordPiece); "
                             "mini: our word-level GPT (causal: only the left context counts).")(command)


def topn_option(command):
    """``--topn``: how many results."""
    return click.option("--topn", "-n", default=10, show_default=True, type=click.IntRange(1), help="How many results.")(command)


def echo_json(data) -> None:
    """Print ``data`` as indented JSON."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def echo_table(rows: list[tuple], headers: tuple[str, ...]) -> None:
    """Print rows as an aligned text table; floats with 4 decimals."""
    cells = [[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def configure_logging(verbosity: int) -> None:
    """Log warnings by default, info with -v, debug with -vv, to stderr."""
    level = logging.WARNING - 10 * min(verbosity, 2)
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
