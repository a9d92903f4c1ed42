"""What every command shares: the session, error handling, and options defined once as decorators."""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import sys
import traceback

import click

from embedspace.session import Session
from runtime.errors import UserError

# What the user can cause: the project's own errors, and the OS refusing a file they named.
USER_ERRORS = (UserError, FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)
# What click handles itself: usage errors (exit 2), Ctrl-C and end of input, a reader of stdout gone (`| head`).
CLICK_HANDLED = (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit, EOFError,
                 BrokenPipeError)


class FriendlyGroup(click.Group):
    """A click group that shows a user error as one line on stderr (exit 1), and anything else as a bug.

    Usage errors keep click's own handling (exit 2). An unexpected exception is a bug: one line
    says so (exit 1), and ``-v`` adds its traceback.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CLICK_HANDLED:
            raise
        except USER_ERRORS as error:
            error = with_other_spaces(error)
            raise click.ClickException(one_line(str(error) or type(error).__name__)) from None
        except Exception as error:  # noqa: BLE001 - anything else is a bug, reported as one
            raise InternalError(error, ctx.params.get("verbose", 0)) from None


class InternalError(click.ClickException):
    """A bug: shown as ``embedspace: internal error (this is a bug): Type: message``, the traceback under ``-v``."""

    def __init__(self, error: BaseException, verbose: int = 0):
        self.error, self.verbose = error, verbose
        super().__init__(f"{type(error).__name__}: {one_line(error)}")

    def show(self, file=None) -> None:
        if self.verbose:
            click.echo("".join(traceback.format_exception(self.error)).rstrip(), err=True)
            click.echo(f"embedspace: internal error (this is a bug): {self.message}", err=True)
        else:
            click.echo(f"embedspace: internal error (this is a bug): {self.message}; "
                       "run with -v for the traceback", err=True)


def with_other_spaces(error: BaseException) -> BaseException:
    """An unknown word's error naming the shipped spaces that hold the word (read from their word files)."""
    from embedspace.errors import NotACandidate, UnknownKeyError

    if not isinstance(error, UnknownKeyError) or isinstance(error, NotACandidate) or not error.space:
        return error
    from embedspace.catalog import spaces_holding

    return error.found_in(spaces_holding(error.key))


def one_line(message: object) -> str:
    """The message on a single line (a CLI error never spans several)."""
    return " ".join(str(message).split())


def pass_session(command):
    """Give the command the invocation's :class:`~embedspace.session.Session` as its first argument.

    The ``embedspace`` group opens one per invocation and closes it at the end; a command invoked
    on its own (in a test) gets one closed with its own context.
    """
    @functools.wraps(command)
    def with_session(*args, **kwargs):
        ctx = click.get_current_context()
        session = ctx.find_object(Session)
        if session is None:
            session = ctx.obj = ctx.with_resource(Session())
        return command(session, *args, **kwargs)

    return with_session


def json_option(command):
    """``--json``: machine-readable output instead of a table."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(command)


@dataclasses.dataclass(frozen=True)
class LoadOptions:
    """How to read a space: ``load_space``'s keyword arguments, as the options below give them."""

    limit: int | None = None  # only the first N keys
    format: str | None = None  # a file's format (None: detected)
    trust_pickle: bool = False  # allow gensim pickles
    keep_all_tokens: bool = False  # minilm-we: word pieces and specials too
    remove_top: int | None = None  # all-but-the-top directions removed (None: the space's default)
    encoding: str = "utf-8"  # a file's key encoding
    unicode_errors: str = "strict"  # bad key bytes: an error, replaced or ignored
    verify: bool = False  # check the cache against a hash of the whole source

    def as_kwargs(self) -> dict:
        """The fields as keyword arguments of ``load_space`` / ``Session.space``."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class SpaceRequest:
    """The space a command was asked to use: ``--space`` and how to read it."""

    spec: str | None = None  # a name or a path; None: the default space
    load: LoadOptions = LoadOptions()


def load_options(command):
    """``--limit``, ``--format``, ``--trust-pickle``, ``--all-tokens``, ``--remove-top``, ``--encoding``,
    ``--unicode-errors``, ``--verify``: given as ``load`` (LoadOptions)."""
    from embedspace.io.checks import UNICODE_ERRORS
    from embedspace.io.detect import FORMATS

    @functools.wraps(command)
    def with_load_options(*args, limit, format, trust_pickle, keep_all_tokens, remove_top, encoding, unicode_errors,
                          verify, **kwargs):
        load = LoadOptions(limit=limit, format=format, trust_pickle=trust_pickle, keep_all_tokens=keep_all_tokens,
                           remove_top=remove_top, encoding=encoding, unicode_errors=unicode_errors, verify=verify)
        return command(*args, load=load, **kwargs)

    options = [
        click.option("--limit", type=click.IntRange(1), default=None, metavar="N",
                     help="Read only the first N keys (the most frequent; for minilm, by the rank in "
                          "data/wordlists/frequent_words.txt)."),
        click.option("--format", "format", type=click.Choice(FORMATS), default=None,
                     help="The file's format (default: detected from its content)."),
        click.option("--trust-pickle", "trust_pickle", is_flag=True,
                     help="Allow gensim .kv/.model files: they are pickles, which can run code. Only for files you trust."),
        click.option("--all-tokens", "keep_all_tokens", is_flag=True,
                     help="minilm-we: keep word pieces (##s), special and non-alphabetic tokens too."),
        click.option("--remove-top", "remove_top", type=click.IntRange(0), default=None, metavar="D",
                     help="Centre the space and remove its top D principal directions before cosines "
                          "(all-but-the-top). Default: one per 25 dims for mini models (5 for the shipped mini), "
                          "0 (the raw space) for the others."),
        click.option("--encoding", default="utf-8", show_default=True, metavar="CODEC",
                     help="A vector file's key encoding (latin-1, cp1252, ...), as gensim's encoding=."),
        click.option("--unicode-errors", "unicode_errors", type=click.Choice(UNICODE_ERRORS), default="strict",
                     show_default=True, help="Keys with bytes the encoding cannot read: an error, replaced by "
                                             "U+FFFD, or dropped (gensim's unicode_errors=)."),
        click.option("--verify", is_flag=True,
                     help="Check the cached copy against a hash of the whole source file (the cache otherwise "
                          "trusts its identity, size, times and first and last MiB)."),
    ]
    for option in reversed(options):
        with_load_options = option(with_load_options)
    return with_load_options


def space_options(command):
    """``--space`` and the :func:`load_options`: the command gets them as one ``space`` (SpaceRequest).

    It opens the space with ``open_space(session, space)``.
    """
    @functools.wraps(command)
    def with_space(*args, space, load, **kwargs):
        return command(*args, space=SpaceRequest(space, load), **kwargs)

    return click.option(
        "--space", "-s", default=None, metavar="SPACE",
        help="A space name (minilm, word2vec, mini, minilm-we, minilm-distilled), a vector file or a train-mini model folder. "
             "Default: minilm if found, else word2vec.",
    )(load_options(with_space))


def open_space(session: Session, request: SpaceRequest):
    """The space ``request`` asks for, from ``session`` (the default one is named on stderr).

    Reading a large vector file, or building a space's matrix (not its cache), shows a progress bar
    on stderr; a space post-processed by default (``mini``: all-but-the-top) says so there.
    """
    spec = request.spec
    if spec is None:
        from embedspace.catalog import default_space_name

        spec = default_space_name()
        click.echo(f"using space {spec!r} (the default; choose one with --space)", err=True)
    with contextlib.ExitStack() as stack:
        bars = []

        def progress(done: int, total: int) -> None:
            if not bars:
                from embedspace.catalog import find_provider

                label = f"building {spec} (once)" if find_provider(spec, session.registry) else f"reading {spec}"
                bars.append(stack.enter_context(click.progressbar(length=total, label=label, file=sys.stderr)))
            bars[0].update(done - bars[0].pos)

        opened = session.space(spec, progress=progress, **request.load.as_kwargs())
    if request.load.remove_top is None and opened.postprocessing:
        click.echo(f"note: {opened.name}: {opened.postprocessing} before cosines, as its raw vectors all point "
                   "one way; --remove-top 0 for the raw space", err=True)
    return opened


def echo_lookup_notes(space, words) -> None:
    """One line on stderr for each word not read as typed (a case-folded key, a word read by the model)."""
    for word in dict.fromkeys(words):
        note = space.lookup_note(word)
        if note:
            click.echo(f"note: {note}", err=True)


def inflections_option(command):
    """``--no-inflections``: leave out answers that merely inflect an input word."""
    return click.option("--no-inflections", "no_inflections", is_flag=True,
                        help="Leave out answers that share a stem with an input word (kings for king, germans "
                             "for germany; the rule: embedspace.analysis.inflections).")(command)


def check_model(ctx, param, value: str) -> str:
    """``minilm``, ``mini`` or a model folder written by train-mini; a usage error otherwise."""
    from pathlib import Path

    if value in ("minilm", "mini") or Path(value).is_dir():
        return value
    raise click.BadParameter(f"{value!r} is neither minilm, mini nor a model folder")


def model_choice(command):
    """``--model``: which transformer (the pretrained MiniLM, our mini GPT, or a model folder of train-mini)."""
    return click.option("--model", "-m", default="minilm", show_default=True, metavar="MODEL", callback=check_model,
                        help="minilm: pretrained all-MiniLM-L6-v2 (bidirectional, WordPiece); "
                             "mini: our word-level GPT (causal: only the left context counts); "
                             "or a model folder written by train-mini.")(command)


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
