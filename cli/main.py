"""The ``embedspace`` group: each topic's commands live in their own module and are added here."""
from __future__ import annotations

import click

from cli import (
    analysis_commands,
    corpus_commands,
    corpus_scale_commands,
    evaluate_commands,
    explore_commands,
    minilm_commands,
    model_commands,
    plot_commands,
    space_commands,
    tour_commands,
)
from cli.common import FriendlyGroup, configure_logging
from embedspace.session import Session


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True,
              help="More logging on stderr (-v info, -vv debug); -v also shows an internal error's traceback.")
@click.version_option(package_name="embedspace")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """See how meaning lives in embedding spaces, and measure it.

    Example:

    \b
        embedspace neighbors tower --space minilm
    """
    configure_logging(verbose)
    ctx.obj = ctx.with_resource(Session())  # what this invocation loads; closed when it ends


for module in (space_commands, corpus_commands, analysis_commands, evaluate_commands, model_commands, minilm_commands,
               plot_commands, tour_commands, explore_commands, corpus_scale_commands):
    for command in module.COMMANDS:
        cli.add_command(command)
