"""Random damage to valid vector files gives a valid space or a clean error: never a crash or a hang.

Two generators: hypothesis (shrinks a failure to a small example) and :mod:`fuzzing` (thousands of
deterministic cases of every format, compressed or not, each read under a time and memory bound;
``python tests/embedspace/io/fuzzing.py 10000`` runs more outside the suite).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import fuzzing
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedspace.catalog import load_space
from embedspace.errors import EmbedspaceError
from embedspace.io.formats import read_vectors
from embedspace.space import Space

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vectors"
ORIGINALS = {name: (FIXTURES / name).read_bytes() for name in ("tiny.bin", "tiny_c.bin", "tiny.txt", "tiny.glove.txt")}
INTERESTING = [b" ", b"\n", b"\x00", b"\xff", b"\x80", b"nan", b"-", b"1e40", b"99999999999", b"7 3\n", b"\xc3"]


@st.composite
def damaged(draw):
    """(name, bytes): a fixture with a few random edits (flip, delete, insert, truncate, duplicate)."""
    name = draw(st.sampled_from(sorted(ORIGINALS)))
    data = bytearray(ORIGINALS[name])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 30))]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(INTERESTING) | st.binary(min_size=1, max_size=8))
        elif kind == "truncate":
            del data[at:]
        else:
            data[at:at] = data[at:at + draw(st.integers(1, 40))]
    return name, bytes(data)


def check_space(keys, vectors) -> None:
    assert len(keys) == len(set(keys)) == vectors.shape[0]
    assert vectors.dtype == np.float32 and vectors.ndim == 2
    assert np.isfinite(vectors).all()
    assert all(isinstance(k, str) and k and "\n" not in k for k in keys)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_files_read_or_fail_cleanly(case):
    """read_vectors alone, with the format detected from the damaged content."""
    name, data = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            keys, vectors = read_vectors(path)
        except EmbedspaceError as error:
            assert str(error).startswith(str(path))  # names the file
            return
        check_space(keys, vectors)


@settings(max_examples=30, deadline=None)
@given(damaged())
def test_damaged_files_load_as_spaces_through_the_cache(case):
    """load_space, twice: what is cached reloads as the same kind of valid space."""
    name, data = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        os.environ["EMBEDSPACE_CACHE"] = str(Path(folder) / "cache")
        try:
            for _ in range(2):  # build, then reload from the cache
                try:
                    space = load_space(path)
                except EmbedspaceError:
                    return
                assert isinstance(space, Space)
                check_space(space.index_to_key, np.asarray(space.vectors))
        finally:
            del os.environ["EMBEDSPACE_CACHE"]


def test_thousands_of_damaged_files_of_every_format_load_or_fail_cleanly():
    """2,400 files: 400 from each seed format, half of them compressed, each read within the bounds."""
    counts, bugs = fuzzing.run(2400, seed=0)
    assert bugs == []
    assert counts["loaded"] > 100 and counts["error"] > 1000


def test_damaged_files_through_the_cache_reload_as_they_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path / "cache"))
    for index, (name, data) in enumerate(fuzzing.cases(120, seed=7)):
        path = tmp_path / f"{index}-{name}"
        path.write_bytes(data)
        kinds = []
        for _ in range(2):  # built, then reloaded from the cache
            kind, detail = fuzzing.outcome(path, lambda p: as_pair(load_space(p)))
            assert kind != "bug", (path.name, detail)
            kinds.append((kind, detail))
        assert kinds[0] == kinds[1]


def as_pair(space: Space):
    return space.index_to_key, np.asarray(space.vectors)


@pytest.mark.parametrize("seed_format", fuzzing.SEEDS)
def test_a_damaged_file_of_each_format_gives_no_traceback_in_the_cli(tmp_path, monkeypatch, seed_format):
    from click.testing import CliRunner

    from cli.main import cli

    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path / "cache"))
    name, data = next((n, d) for n, d in fuzzing.cases(60, seed=3) if n.startswith(seed_format))
    path = tmp_path / name
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["neighbors", "cat", "--space", str(path)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


def test_damaged_space_folders_load_or_fail_cleanly(tmp_path):
    from embedspace.io.formats import read_space_dir

    counts = {"loaded": 0, "error": 0}
    for index, (damaged, files) in enumerate(fuzzing.space_folder_cases(300, seed=11)):
        folder = tmp_path / str(index)
        folder.mkdir()
        for name, data in files.items():
            (folder / name).write_bytes(data)
        kind, detail = fuzzing.outcome(folder, lambda path: read_space_dir(path)[:2], finite=False)
        assert kind != "bug", (damaged, detail)
        counts[kind] += 1
    assert counts["loaded"] > 10 and counts["error"] > 100
