"""How the CLI's two kinds of failure look, checked the same way by every CLI test.

- A user error (``runtime.errors.UserError`` and its subclasses, or an OSError about a file):
  one line ``Error: ...`` on stderr, exit status 1, no traceback.
- Anything else is a bug: ``embedspace: internal error (this is a bug): Type: message; ...``.

And :func:`all_commands`, the path of every command registered now or later.
"""
from __future__ import annotations

import click

BUG_PREFIX = "embedspace: internal error (this is a bug): "


def assert_user_error(result, *fragments: str) -> None:
    """``result`` (a CliRunner result) failed with one ``Error:`` line on stderr naming every fragment."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The path of every command under ``group``, nested groups included (the group itself first)."""
    paths = [prefix]
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            paths.extend(all_commands(command, (*prefix, name)))
        else:
            paths.append((*prefix, name))
    return paths
