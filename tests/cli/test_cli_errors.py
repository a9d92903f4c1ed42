"""User errors are one line; anything else is reported as a bug; each invocation owns one Session."""
from __future__ import annotations

import errno
import json
from pathlib import Path

import click
import numpy as np
import pytest
from cli_checks import BUG_PREFIX, assert_user_error
from click.testing import CliRunner

from cli.common import LoadOptions, SpaceRequest, pass_session, space_options
from cli.main import cli
from embedspace import errors
from embedspace.session import Session
from embedspace.space import Space
from runtime.errors import UserError
from transformer.errors import TransformerError

TINY = str(Path(__file__).resolve().parents[1] / "fixtures" / "vectors" / "tiny.bin")


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path / "cache"))


def neighbors_raising(monkeypatch, error: BaseException, *options: str):
    """Run ``embedspace neighbors cat`` with the library's neighbour search raising ``error``."""
    def broken(self, *args, **kwargs):
        raise error

    monkeypatch.setattr(Space, "similar_by_vector", broken)
    return CliRunner().invoke(cli, [*options, "neighbors", "cat", "--space", TINY])


# -- bugs ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("error, shown", [
    (ZeroDivisionError("division by zero"), "ZeroDivisionError: division by zero"),
    (KeyError("cat"), "KeyError: 'cat'"),                                 # a bare KeyError is no user error
    (ValueError("bad\nvalue"), "ValueError: bad value"),
    (OSError(28, "No space left on device"), "OSError: [Errno 28] No space left on device"),
])
def test_a_bug_is_one_line_that_says_so(monkeypatch, error, shown):
    result = neighbors_raising(monkeypatch, error)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"{BUG_PREFIX}{shown}; run with -v for the traceback"]
    assert "Traceback" not in result.output and result.stdout == ""


def test_verbose_shows_the_bugs_traceback(monkeypatch):
    result = neighbors_raising(monkeypatch, ZeroDivisionError("division by zero"), "-v")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert "Traceback (most recent call last):" in lines and "in broken" in result.stderr
    assert lines[-2] == "ZeroDivisionError: division by zero"
    assert lines[-1] == f"{BUG_PREFIX}ZeroDivisionError: division by zero"


def test_a_closed_stdout_is_no_bug(monkeypatch):
    result = neighbors_raising(monkeypatch, BrokenPipeError(errno.EPIPE, "Broken pipe"))  # `embedspace ... | head`
    assert result.exit_code == 1 and result.output == ""


# -- user errors ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("error", [
    UserError("limit must be positive"),
    errors.InvalidInput("limit must be positive"),
    errors.UnknownKeyError("limit must be positive"),
    TransformerError("limit must be positive"),
    FileNotFoundError("limit must be positive"),
    PermissionError("limit must be positive"),
    IsADirectoryError("limit must be positive"),
    NotADirectoryError("limit must be positive"),
], ids=lambda error: type(error).__name__)
def test_user_errors_and_file_errors_are_one_line(monkeypatch, error):
    result = neighbors_raising(monkeypatch, error)
    assert_user_error(result, "limit must be positive")
    assert BUG_PREFIX not in result.stderr


def test_a_user_error_has_no_traceback_even_with_verbose(monkeypatch):
    result = neighbors_raising(monkeypatch, errors.InvalidInput("topn must be\nat least 1"), "-v")
    assert_user_error(result, "topn must be at least 1")


def test_a_file_the_os_refuses_is_one_line(tmp_path):
    words = tmp_path / "words.txt"
    words.mkdir()  # a folder where a file is expected
    result = CliRunner().invoke(cli, ["embed", "a text", "--file", str(words / "x" / "y")])
    assert result.exit_code == 2  # click checks --file exists: a usage error
    text = tmp_path / "latin1.txt"
    text.write_bytes("caf\xe9\n".encode("latin-1"))
    assert_user_error(CliRunner().invoke(cli, ["export-projector", "--space", TINY, "--words", str(text),
                                               str(tmp_path / "out")]), "latin1.txt: not UTF-8 text")


def test_usage_errors_keep_exit_status_2():
    result = CliRunner().invoke(cli, ["neighbors", "cat", "--space", TINY, "--topn", "0"])
    assert result.exit_code == 2 and BUG_PREFIX not in result.output


# -- the session ----------------------------------------------------------------------------------------------------
def test_one_session_per_invocation_closed_at_the_end(monkeypatch):
    seen = []
    real_close = Session.close

    def close(self):
        seen.append(("closed", self))
        real_close(self)

    def space(self, spec=None, *, progress=None, **options):
        seen.append(("space", self, spec, options))
        return Space(["cat", "dog"], np.array([[1.0, 0.0], [0.9, 0.1]]), name="stub")

    monkeypatch.setattr(Session, "close", close)
    monkeypatch.setattr(Session, "space", space)
    result = CliRunner().invoke(cli, ["neighbors", "cat", "--space", TINY, "--limit", "7", "--encoding", "latin-1",
                                      "--verify", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["neighbor"] == "dog"
    (kind, session, spec, options), (closed, closed_session) = seen
    assert (kind, spec, closed) == ("space", TINY, "closed") and session is closed_session
    assert options == {"limit": 7, "format": None, "trust_pickle": False, "keep_all_tokens": False,
                       "remove_top": None, "encoding": "latin-1", "unicode_errors": "strict", "verify": True}


def test_space_options_give_the_command_one_request():
    received = []

    @click.command()
    @pass_session
    @space_options
    def show(session: Session, space: SpaceRequest) -> None:
        received.append((session, space))

    result = CliRunner().invoke(show, ["--space", "word2vec", "--limit", "3", "--all-tokens"])
    assert result.exit_code == 0, result.output
    [(session, request)] = received
    assert isinstance(session, Session)
    assert request == SpaceRequest("word2vec", LoadOptions(limit=3, keep_all_tokens=True))
    assert request.load.as_kwargs() == {"limit": 3, "format": None, "trust_pickle": False, "keep_all_tokens": True,
                                          "remove_top": None, "encoding": "utf-8", "unicode_errors": "strict",
                                          "verify": False}
