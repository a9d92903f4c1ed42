"""convert (and every writer of an output folder) refuses a destination whose writing would lose something."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import cli
from embedspace import Space
from embedspace.io.saving import DestinationRefused, check_destination, save_space
from embedspace.paths import data_dir

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vectors"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_one_line(result, *fragments):
    assert result.exit_code == 1, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and "internal error" not in result.output, result.output
    for fragment in fragments:
        assert fragment in last, last


def stamps(folder: Path) -> dict:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_mode) for p in folder.iterdir()}


def test_convert_refuses_to_rewrite_the_shipped_space():
    shipped = data_dir() / "word2vec"
    before, meta = stamps(shipped), (shipped / "meta.json").read_text()
    assert_one_line(invoke("convert", "word2vec", shipped), "inside the shipped data", "write somewhere else")
    assert_one_line(invoke("convert", "word2vec", data_dir() / "copy.bin"), "inside the shipped data")
    assert stamps(shipped) == before and (shipped / "meta.json").read_text() == meta
    assert np.load(shipped / "vectors.npy", mmap_mode="r").dtype == np.float16


def test_convert_refuses_the_root_and_a_folder_holding_other_files(tmp_path):
    assert_one_line(invoke("convert", "word2vec", "/"), "/ is a folder holding the shipped data")
    (tmp_path / "notes.txt").write_text("keep")
    assert_one_line(invoke("convert", FIXTURES / "tiny.txt", tmp_path), "holds other files (notes.txt)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]      # no ..old or temporary left


def test_convert_refuses_to_write_over_its_source(tmp_path):
    source = tmp_path / "vectors.txt"
    source.write_bytes((FIXTURES / "tiny.txt").read_bytes())
    assert_one_line(invoke("convert", source, source), "is the source being read")
    assert source.read_bytes() == (FIXTURES / "tiny.txt").read_bytes()


def test_a_space_folder_may_be_written_again(tmp_path):
    space = Space(["cat", "dog"], np.eye(2, dtype=np.float32))
    save_space(space, tmp_path / "small")
    save_space(Space(["cow"], np.ones((1, 2), dtype=np.float32)), tmp_path / "small")
    assert json.loads((tmp_path / "small" / "meta.json").read_text())["count"] == 1
    check_destination(tmp_path / "new")
    with pytest.raises(DestinationRefused, match="holds other files"):
        check_destination(tmp_path)                                          # holds "small"
