"""Every command registered on the ``embedspace`` group, now or later, has help text with an example."""
from __future__ import annotations

import pytest
from cli_checks import all_commands
from click.testing import CliRunner

from cli.main import cli

COMMANDS = all_commands(cli)


def test_the_core_commands_are_registered():
    assert {("spaces",), ("info",), ("neighbors",), ("convert",)} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "embedspace")
def test_help_has_a_description_and_an_example(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    usage, _, body = result.output.partition("\n\n")
    assert usage.startswith("Usage:")
    description = body.split("Example:")[0].strip()
    assert description and not description.startswith("Options:"), f"{' '.join(path)} has no help text"
    example = result.output.partition("Example:")[2].strip().split("\n\n")[0]
    assert "embedspace" in example, f"{' '.join(path)} has no 'Example:' block with an embedspace command line"


def test_the_lazy_table_names_every_command_of_every_topic_module():
    from cli.main import TOPICS, topic_commands

    for topic in set(TOPICS.values()):
        names = {command.name for command in topic_commands(topic)}
        assert names == {name for name, where in TOPICS.items() if where == topic}, topic
    assert {path[0] for path in COMMANDS if path} == set(TOPICS)


def test_a_command_imports_only_its_own_topic_module():
    import subprocess
    import sys

    probe = ("import sys; from cli.main import cli; cli(['params', '--preset', 'minilm'], standalone_mode=False); "
             "print(sorted(m for m in sys.modules if m.startswith('cli.') and m.endswith('_commands')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "['cli.model_commands']"
