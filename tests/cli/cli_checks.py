"""How the CLI's two kinds of failure look, checked the same way by every CLI test.

- A user error (``runtime.errors.UserError`` and its subclasses, or an OSError about a file):
  one line ``Error: ...`` on stderr, exit status 1, no traceback.
- Anything else is a bug: ``embedspace: internal error (this is a bug): Type: message; ...``.
"""
from __future__ import annotations

import pytest

BUG_PREFIX = "embedspace: internal error (this is a bug): "


def assert_user_error(result, *fragments: str) -> None:
    """``result`` (a CliRunner result) failed with one ``Error:`` line on stderr naming every fragment."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def not_yet_swept(where: str):
    """Mark a case whose library code (not the CLI's) still raises a bare ValueError for the user's input.

    The CLI rightly reports such an error as a bug; the owner of ``where`` is changing it to the
    project's own type. Strict: once that change is merged the case passes, and this mark must go.
    """
    return pytest.mark.xfail(strict=True, reason=f"{where} still raises a bare ValueError for this input "
                                                 "(shown as an internal error until its sweep is merged)")
