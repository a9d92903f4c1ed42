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
