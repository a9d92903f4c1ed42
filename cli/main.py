"""The ``embedspace`` group: each topic's commands live in their own module, imported when one of them runs.

:data:`TOPICS` lists every command by the module that defines it. A command's module is imported when
the command is invoked (or when ``--help`` lists the commands), so ``embedspace neighbors`` does not
pay for the plotting, training and corpus commands' modules at start-up (click's documented pattern for
lazily loaded subcommands). ``tests/cli/test_cli_help.py`` checks that the table and the modules'
``COMMANDS`` name the same commands.
"""
from __future__ import annotations

import click

from cli.common import FriendlyGroup, configure_logging
from embedspace.session import Session


def topic_commands(topic: str) -> list[click.Command]:
    """The commands of one topic module (``cli/<topic>_commands.py``), imported now."""
    if topic == "space":
        from cli import space_commands as module
    elif topic == "corpus":
        from cli import corpus_commands as module
    elif topic == "analysis":
        from cli import analysis_commands as module
    elif topic == "evaluate":
        from cli import evaluate_commands as module
    elif topic == "model":
        from cli import model_commands as module
    elif topic == "minilm":
        from cli import minilm_commands as module
    elif topic == "plot":
        from cli import plot_commands as module
    elif topic == "tour":
        from cli import tour_commands as module
    elif topic == "explore":
        from cli import explore_commands as module
    elif topic == "corpus_scale":
        from cli import corpus_scale_commands as module
    else:
        raise ValueError(f"no command module for the topic {topic!r}")
    return module.COMMANDS


TOPICS = {  # command name -> its topic: the module cli/<topic>_commands.py that defines it
    "spaces": "space", "info": "space", "neighbors": "space", "convert": "space",
    "train-word2vec": "corpus",
    "calc": "analysis", "analogy": "analysis", "similarity": "analysis", "odd-one-out": "analysis", "probe": "analysis",
    "evaluate": "evaluate",
    "params": "model", "train-mini": "model", "next": "model", "generate": "model",
    "tokens": "minilm", "embed": "minilm", "attention": "minilm",
    "plot": "plot", "plot-analogy": "plot", "plot-probe": "plot", "export-projector": "plot",
    "context": "tour", "tour": "tour",
    "explore": "explore",
    "contextuality": "corpus_scale", "senses": "corpus_scale", "distill": "corpus_scale",
}


class LazyGroup(FriendlyGroup):
    """A :class:`~cli.common.FriendlyGroup` whose commands are imported from :data:`TOPICS` when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*TOPICS, *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in TOPICS:
            for command in topic_commands(TOPICS[name]):
                self.add_command(command)
        return self.commands.get(name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
