"""Where the cache goes when there is no home folder, and what counts as shipped."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from embedspace import paths
from embedspace.errors import EmbedspaceError


def no_home(*args, **kwargs):
    raise RuntimeError("Could not determine home directory.")


def test_no_home_and_no_cache_variable_is_a_clear_error(monkeypatch):
    for name in ("EMBEDSPACE_CACHE", "XDG_CACHE_HOME", "HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(Path, "home", classmethod(no_home))
    with pytest.raises(EmbedspaceError, match="set EMBEDSPACE_CACHE to a folder"):
        paths.cache_root()
    monkeypatch.setenv("EMBEDSPACE_CACHE", "/somewhere")
    assert paths.cache_root() == Path("/somewhere")


def test_no_home_still_finds_the_installed_minilm_and_answers_in_one_line(monkeypatch):
    from transformer.minilm_files import candidate_dirs

    for name in ("EMBEDSPACE_CACHE", "XDG_CACHE_HOME", "HOME", "HF_HOME", "HF_HUB_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(Path, "home", classmethod(no_home))
    assert candidate_dirs()                                                  # sys.path is still searched
    vectors = Path(__file__).resolve().parents[1] / "fixtures" / "vectors" / "tiny.txt"
    result = CliRunner().invoke(cli, ["neighbors", "king", "--space", str(vectors)])   # a file is cached
    assert result.exit_code == 1 and "internal error" not in result.output
    assert result.stderr.strip().splitlines()[-1] == ("Error: no cache folder: this user has no home folder; "
                                                      "set EMBEDSPACE_CACHE to a folder embedspace may write its cache in")


def test_the_shipped_folders_hold_the_data_in_use():
    assert paths.data_dir().resolve() in paths.shipped_folders()
    assert paths.is_within(paths.data_dir() / "word2vec" / "vocab.txt", paths.data_dir())
