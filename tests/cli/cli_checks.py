"""How the CLI's two kinds of failure look, checked the same way by every CLI test.

- A user error (``runtime.errors.UserError`` and its subclasses, or an OSError about a file):
  one line ``Error: ...`` on stderr, exit status 1, no traceback.
- Anything else is a bug: ``embedspace: internal error (this is a bug): Type: message; ...``.
"""
from __future__ import annotations

BUG_PREFIX = "embedspace: internal error (this is a bug): "


def assert_user_error(result, *fragments: str) -> None:
    """``result`` (a CliRunner result) failed with one ``Error:`` line on stderr naming every fragment."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
