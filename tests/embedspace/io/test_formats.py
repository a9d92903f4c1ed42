"""Reading and writing word2vec / GloVe / fastText files: round trips, detection, and every fault named."""
from __future__ import annotations

import logging
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors

from embedspace.errors import FormatError
from embedspace.io import formats
from embedspace.io.formats import detect_format, read_space_dir, read_vectors, write_space_dir, write_word2vec

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vectors"
REFERENCE = np.load(FIXTURES / "tiny_vectors.npy")
KEYS = ["cat", "dog", "horse", "car", "truck", "bus", "apple", "pear", "plum", "café", "naïve", "tower"]
FILES = {
    "tiny.bin": "word2vec-bin",
    "tiny_c.bin": "word2vec-bin",
    "tiny.txt": "word2vec-txt",
    "tiny.glove.txt": "glove",
    "tiny.vec": "fasttext",
}


@pytest.mark.parametrize("name", FILES)
def test_fixture_formats_are_detected_and_read_exactly(name):
    assert detect_format(FIXTURES / name) == FILES[name]
    keys, vectors = read_vectors(FIXTURES / name)
    assert keys == KEYS
    assert vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors, REFERENCE)


@pytest.mark.parametrize("name", FILES)
def test_limit_reads_the_first_rows(name):
    keys, vectors = read_vectors(FIXTURES / name, limit=5)
    assert keys == KEYS[:5]
    np.testing.assert_array_equal(vectors, REFERENCE[:5])


def test_gensim_native_file_is_detected_from_content(tmp_path):
    renamed = tmp_path / "looks_like.bin"
    shutil.copy(FIXTURES / "tiny.kv", renamed)
    assert detect_format(renamed) == "gensim"


@pytest.mark.parametrize("binary", [True, False])
def test_write_read_round_trip_is_exact_and_gensim_agrees(tmp_path, binary):
    rng = np.random.default_rng(1)
    vectors = (rng.normal(size=(50, 7)) * 10.0 ** rng.integers(-8, 8, size=(50, 1))).astype(np.float32)
    keys = [f"wörd{i}" for i in range(50)]
    path = write_word2vec(tmp_path / ("v.bin" if binary else "v.txt"), keys, vectors, binary=binary)
    got_keys, got = read_vectors(path)
    assert got_keys == keys
    np.testing.assert_array_equal(got, vectors)
    reference = KeyedVectors.load_word2vec_format(str(path), binary=binary)  # independent reader
    assert reference.index_to_key == keys
    np.testing.assert_array_equal(reference.vectors, vectors)


def test_space_folder_round_trip_memory_maps(tmp_path):
    write_space_dir(tmp_path / "space", KEYS, REFERENCE, {"origin": "test"})
    keys, vectors, meta = read_space_dir(tmp_path / "space")
    assert keys == KEYS and meta == {"origin": "test"}
    assert isinstance(vectors, np.memmap)
    np.testing.assert_array_equal(vectors, REFERENCE)
    keys, vectors, _ = read_space_dir(tmp_path / "space", limit=3)
    assert keys == KEYS[:3] and vectors.shape == (3, 6)


def test_space_folder_float16_becomes_float32(tmp_path):
    (tmp_path / "vocab.txt").write_text("a\nb\n", "utf-8")
    np.save(tmp_path / "vectors.npy", np.array([[1, 2], [3, 4]], dtype=np.float16))
    keys, vectors, meta = read_space_dir(tmp_path)
    assert keys == ["a", "b"] and vectors.dtype == np.float32 and meta == {}
    np.testing.assert_array_equal(vectors, [[1, 2], [3, 4]])


def test_space_folder_vocab_length_mismatch_is_named(tmp_path):
    (tmp_path / "vocab.txt").write_text("a\n", "utf-8")
    np.save(tmp_path / "vectors.npy", np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(FormatError, match="vocab.txt: holds 1 keys but vectors.npy has 2 rows"):
        read_space_dir(tmp_path)


def test_duplicate_keys_keep_the_first_and_warn(tmp_path, caplog):
    path = tmp_path / "dup.txt"
    path.write_text("cat 1 2\ndog 3 4\ncat 5 6\n", "utf-8")
    with caplog.at_level(logging.WARNING, logger="embedspace.io.formats"):
        keys, vectors = read_vectors(path)
    assert keys == ["cat", "dog"]
    np.testing.assert_array_equal(vectors, [[1, 2], [3, 4]])
    assert "1 duplicate key(s) ('cat')" in caplog.text


def test_interrupted_write_leaves_no_file_and_no_temporary(tmp_path):
    dest = tmp_path / "out.txt"
    dest.write_text("old content", "utf-8")

    def fail(rows):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_word2vec(dest, KEYS, REFERENCE, binary=False, progress=fail)
    assert dest.read_text("utf-8") == "old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


@pytest.mark.parametrize("key", ["two words", "", "line\nbreak"])
def test_keys_word2vec_cannot_hold_are_refused(tmp_path, key):
    with pytest.raises(ValueError, match="cannot be written"):
        write_word2vec(tmp_path / "v.bin", [key], np.ones((1, 2), np.float32), binary=True)


# -- every fault, named with its place ---------------------------------------------------------------------
TEXT = (FIXTURES / "tiny.txt").read_bytes()
TEXT_LINES = TEXT.split(b"\n")


def with_line(number: int, line: bytes) -> bytes:
    """The text fixture with line ``number`` (from 1) replaced."""
    lines = list(TEXT_LINES)
    lines[number - 1] = line
    return b"\n".join(lines)


TEXT_FAULTS = {
    "empty": (b"", None, "empty file"),
    "missing value": (with_line(3, b"dog 1 2 3 4 5"), 3, "wrong field count: expected 7"),
    "extra value": (with_line(4, b"horse 1 2 3 4 5 6 7"), 4, "wrong field count: expected 7"),
    "non-numeric": (with_line(5, b"car 1 2 abc 4 5 6"), 5, "non-numeric value 'abc'"),
    "nan": (with_line(6, b"truck 1 2 nan 4 5 6"), 6, "NaN or infinite value"),
    "inf": (with_line(7, b"bus 1 2 3 -inf 5 6"), 7, "NaN or infinite value"),
    "bad utf-8": (with_line(8, b"appl\xff 1 2 3 4 5 6"), 8, "bad UTF-8"),
    "header too big": (with_line(1, b"13 6"), None, "header count mismatch: header says 13 vectors, file holds 12"),
    "header too small": (with_line(1, b"11 6"), 13, "header count mismatch: header says 11 vectors, but more"),
    "bad header": (with_line(1, b"12 six"), 1, "expected a header"),
    "empty key": (with_line(2, b" 1 2 3 4 5 6"), 2, "empty key"),
}


@pytest.mark.parametrize("fault", TEXT_FAULTS)
def test_text_faults_name_file_line_and_fault(tmp_path, fault):
    content, line, message = TEXT_FAULTS[fault]
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    fmt = None if fault != "bad header" else "word2vec-txt"
    with pytest.raises(FormatError) as caught:
        read_vectors(path, fmt)
    assert caught.value.line == line
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path))


def test_glove_fault_counts_lines_from_one(tmp_path):
    path = tmp_path / "bad.glove.txt"
    path.write_text("cat 1 2\ndog 1 x\n", "utf-8")
    with pytest.raises(FormatError, match=r"bad.glove.txt, line 2: non-numeric value 'x'"):
        read_vectors(path)


BINARY = (FIXTURES / "tiny.bin").read_bytes()
HEADER_END = BINARY.index(b"\n") + 1
RECORD = len("cat ") + 6 * 4  # the first record: key 'cat', a space, 6 floats


def binary_with_nan_in_record_2() -> bytes:
    start = HEADER_END + RECORD + len("dog ")
    return BINARY[:start] + struct.pack("<f", float("nan")) + BINARY[start + 4:]


BINARY_FAULTS = {
    "truncated vector": (BINARY[:-5], 12, "truncated record: vector needs 24 bytes, 19 left"),
    "header too big": (b"13 6\n" + BINARY[HEADER_END:], 13, "header count mismatch: header says 13 vectors, file holds 12"),
    "header too small": (b"11 6\n" + BINARY[HEADER_END:], 12, "header count mismatch: header says 11 vectors, but more"),
    "nan": (binary_with_nan_in_record_2(), 2, "NaN or infinite value"),
    "bad utf-8 key": (BINARY[:HEADER_END] + b"c\xfft" + BINARY[HEADER_END + 3:], 1, "bad UTF-8 in key"),
    "huge header count": (b"99999999999999 6\n" + BINARY[HEADER_END:], 13, "header count mismatch"),
    "trailing data": (BINARY + b"trailing", 13, "more data follows"),
    "no space after key": (b"13 6\n" + BINARY[HEADER_END:] + b"lastkey", 13, "truncated record: no space after"),
}


@pytest.mark.parametrize("fault", BINARY_FAULTS)
def test_binary_faults_name_file_record_and_fault(tmp_path, fault):
    content, record, message = BINARY_FAULTS[fault]
    path = tmp_path / "bad.bin"
    path.write_bytes(content)
    with pytest.raises(FormatError) as caught:
        read_vectors(path, "word2vec-bin")
    assert caught.value.record == record
    assert message in str(caught.value)


def test_empty_binary_file(tmp_path):
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    with pytest.raises(FormatError, match="empty file"):
        read_vectors(path, "word2vec-bin")


@pytest.mark.parametrize("name", ["tiny.bin", "tiny.txt", "tiny.glove.txt"])
def test_progress_reports_growing_byte_counts(monkeypatch, name):
    calls = []
    read_vectors(FIXTURES / name, progress=lambda done, total: calls.append((done, total)))
    assert calls == []  # a small file: no progress at all
    monkeypatch.setattr(formats, "PROGRESS_EVERY", 4)
    keys, _ = read_vectors(FIXTURES / name, progress=lambda done, total: calls.append((done, total)))
    size = (FIXTURES / name).stat().st_size
    assert keys == KEYS and len(calls) >= 2
    assert all(total == size for _, total in calls)
    assert [done for done, _ in calls] == sorted({done for done, _ in calls}) and calls[-1][0] <= size


@pytest.mark.parametrize("files, message", [
    ({"vocab.txt": b"a\nb\na\n"}, r"vocab.txt, line 3: key 'a' appears a second time"),
    ({"meta.json": b"{not json"}, r"meta.json: not readable JSON"),
    ({"meta.json": b"[1, 2]"}, r"meta.json: expected a JSON object"),
    ({"vectors.npy": b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (3,"},
     r"vectors.npy: not a readable .npy array"),
])
def test_damaged_space_folders_are_named(tmp_path, files, message):
    write_space_dir(tmp_path / "s", ["a", "b", "c"], np.eye(3, dtype=np.float32), {})
    for name, data in files.items():
        (tmp_path / "s" / name).write_bytes(data)
    with pytest.raises(FormatError, match=message):
        read_space_dir(tmp_path / "s")
