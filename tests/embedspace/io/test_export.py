"""Projector files and coordinate CSVs, re-read under the formats' own rules."""
import csv

import numpy as np
import pytest

from embedspace.errors import UnknownKeyError
from embedspace.io.export import export_projector, write_coordinates_csv, write_metadata_tsv
from embedspace.space import Space


@pytest.fixture
def space():
    rng = np.random.default_rng(0)
    keys = ["the", "cat", "new\tyork", "line\nbreak", "dog"]
    return Space(keys, rng.normal(size=(5, 7)).astype(np.float32))


def read_projector_vectors(path):
    """The Projector's reader: every line is one vector of tab-separated numbers, no header."""
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""  # the file ends with a newline
    return np.array([[float(v) for v in line.split("\t")] for line in lines[:-1]])


def read_projector_metadata(path):
    """The Projector's reader: a header only when there are several columns."""
    lines = path.read_text(encoding="utf-8").split("\n")[:-1]
    rows = [line.split("\t") for line in lines]
    if len(rows[0]) == 1:
        return ["word"], rows
    return rows[0], rows[1:]


def test_projector_files_round_trip(space, tmp_path):
    vectors_path, metadata_path = export_projector(space, tmp_path / "out")
    vectors = read_projector_vectors(vectors_path)
    assert vectors.shape == (5, 7)
    np.testing.assert_allclose(vectors, space.vectors, rtol=1e-6)
    header, rows = read_projector_metadata(metadata_path)
    assert header == ["word"]  # a single column: no header line
    assert rows == [["the"], ["cat"], ["new\\tyork"], ["line\\nbreak"], ["dog"]]  # escaped, one line each
    assert len(rows) == len(vectors)


def test_several_metadata_columns_get_a_header(space, tmp_path):
    groups = ["function", "animal", "place", "odd", "animal"]
    _, metadata_path = export_projector(space, tmp_path, groups=groups)
    header, rows = read_projector_metadata(metadata_path)
    assert header == ["word", "group"]
    assert [row[1] for row in rows] == groups and len(rows) == 5


def test_limit_and_chosen_words(space, tmp_path):
    vectors_path, metadata_path = export_projector(space, tmp_path, limit=2)
    np.testing.assert_allclose(read_projector_vectors(vectors_path), space.vectors[:2], rtol=1e-6)
    assert metadata_path.read_text() == "the\ncat\n"
    vectors_path, metadata_path = export_projector(space, tmp_path, words=["dog", "the"])
    np.testing.assert_allclose(read_projector_vectors(vectors_path), space[["dog", "the"]], rtol=1e-6)
    assert metadata_path.read_text() == "dog\nthe\n"


def test_export_bad_input(space, tmp_path):
    with pytest.raises(UnknownKeyError, match="'dgo'.*did you mean: dog"):
        export_projector(space, tmp_path, words=["cat", "dgo"])
    with pytest.raises(ValueError, match="limit must be at least 1"):
        export_projector(space, tmp_path, limit=0)
    with pytest.raises(ValueError, match="no words"):
        export_projector(space, tmp_path, words=[])
    with pytest.raises(ValueError, match="1 groups for 5 words"):
        export_projector(space, tmp_path, groups=["x"])
    bad = Space(["a", "b"], np.array([[1.0, np.nan], [0.0, 1.0]], dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        export_projector(bad, tmp_path / "bad")
    assert not (tmp_path / "bad" / "vectors.tsv").exists()
    with pytest.raises(ValueError, match="differ in length"):
        write_metadata_tsv(tmp_path / "m.tsv", {"word": ["a", "b"], "group": ["x"]})


@pytest.mark.parametrize("dims", [2, 3])
def test_coordinates_csv_round_trip(tmp_path, dims):
    keys = ["king", "new, york", 'say "hi"']
    coords = np.random.default_rng(1).normal(size=(3, dims))
    path = write_coordinates_csv(tmp_path / "xy.csv", keys, coords, groups=["royal", "place", ""])
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["key", *"xyz"[:dims], "group"]
        rows = list(reader)
    assert [r["key"] for r in rows] == keys
    assert [r["group"] for r in rows] == ["royal", "place", ""]
    read_back = np.array([[float(r[axis]) for axis in "xyz"[:dims]] for r in rows])
    np.testing.assert_allclose(read_back, coords, rtol=1e-6)


def test_coordinates_csv_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"\[N, 2\] or \[N, 3\]"):
        write_coordinates_csv(tmp_path / "a.csv", ["a"], np.zeros((1, 4)))
    with pytest.raises(ValueError, match="2 keys but 1 rows"):
        write_coordinates_csv(tmp_path / "a.csv", ["a", "b"], np.zeros((1, 2)))
    assert not list(tmp_path.iterdir())


def test_whitespace_keys_keep_their_own_metadata_line(tmp_path):
    """The Projector skips blank lines: a key of NBSP or U+3000 alone must not become one (issue 13, hole 14)."""
    keys = ["cat", "\u00a0", "\u3000", " ", "dog"]
    space = Space(keys, np.eye(5, dtype=np.float32))
    _, metadata_path = export_projector(space, tmp_path)
    lines = metadata_path.read_text(encoding="utf-8").split("\n")[:-1]
    assert len(lines) == 5 and all(line.strip() for line in lines)  # none is blank to the Projector
    assert lines == ["cat", "\\u00a0", "\\u3000", "\\u0020", "dog"]


def test_a_tab_and_a_literal_backslash_t_export_apart(tmp_path):
    keys = ["new\tyork", "new\\tyork", "back\\slash"]
    space = Space(keys, np.eye(3, dtype=np.float32))
    _, metadata_path = export_projector(space, tmp_path, groups=["a\tb", "", "c"])
    header, rows = read_projector_metadata(metadata_path)
    assert header == ["word", "group"]
    assert rows == [["new\\tyork", "a\\tb"], ["new\\\\tyork", ""], ["back\\\\slash", "c"]]
    assert len({row[0] for row in rows}) == 3  # three keys, three labels
