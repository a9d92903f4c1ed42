"""Reading and writing word2vec / GloVe / fastText files: round trips, detection, and every fault named."""
from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import os
import shutil
import struct
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors

from embedspace.errors import FormatError, InvalidInput
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


# -- hardening: only regular files, declared sizes checked, every malformed file named (issue 13) -------------
@pytest.mark.parametrize("how", ["read_vectors", "load_space with its format"])
def test_fifo_is_refused_without_blocking(tmp_path, monkeypatch, how):
    """load_space with a format given sniffs nothing: the cache's stamp must not block on the FIFO either."""
    from embedspace.io.registry import load_space

    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path / "cache"))
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    outcome = {}

    def read():
        try:
            read_vectors(fifo) if how == "read_vectors" else load_space(fifo, format="word2vec-txt")
        except Exception as error:  # noqa: BLE001 - the test inspects it
            outcome["error"] = error

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # release the blocked open() before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert not reader.is_alive(), "blocked on a FIFO"
    assert isinstance(outcome["error"], FormatError) and "is a FIFO (named pipe), not a regular file" in str(outcome["error"])


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("fmt", [None, "word2vec-txt", "word2vec-bin", "glove", "fasttext-bin"])
def test_devices_and_folders_are_refused(tmp_path, fmt):
    with pytest.raises(FormatError, match="/dev/zero: is a character device, not a regular file"):
        read_vectors("/dev/zero", fmt)
    with pytest.raises(FormatError, match="is a folder, not a regular file"):
        read_vectors(tmp_path, fmt)


@pytest.mark.parametrize("header", [b"1000000000 300\n", b"12 100000000\n", b"9223372036854775807 6\n"])
def test_declared_shape_is_checked_against_the_file_before_allocating(tmp_path, header):
    path = tmp_path / "huge.bin"
    path.write_bytes(header + BINARY[HEADER_END:])
    shapes = []

    def allocate(shape):
        shapes.append(shape)
        return np.empty(shape, np.float32)

    with pytest.raises(FormatError):
        read_vectors(path, "word2vec-bin", allocate=allocate)
    assert all(np.prod(shape) * 4 <= path.stat().st_size for shape in shapes)


MALFORMED = {  # content, format (None: detected), the fault named
    "header 0 4": (b"0 4\n", None, "no vectors in file"),
    "header 0 4 as text": (b"0 4\n", "word2vec-txt", "no vectors in file"),
    "header 0 0": (b"0 0\n", None, "header says the vectors have 0 dimensions"),
    "keys without numbers": (b"cat\ndog\n", None, "line 1: no numbers after the key"),
    "tab-separated GloVe": (b"cat\t0.1\t0.2\ndog\t0.3\t0.4\n", None, "separated by tabs"),
    "tab-separated word2vec text": (b"2 2\ncat\t0.1\t0.2\ndog\t0.3\t0.4\n", "word2vec-txt", "separated by tabs"),
    "NUL bytes": (b"\x00\x00\x00\x00\n", None, "no numbers after the key"),
    "huge dimension": (b"2 99999999999\ncat 1\n", None, "dimensions"),
    "number beyond float32": (b"cat 1e39 1\n", None, "NaN or infinite value"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_files_name_their_fault(tmp_path, case):
    content, fmt, message = MALFORMED[case]
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FormatError, match=message):
            read_vectors(path, fmt)


# -- compressed files, encodings, byte-order marks -----------------------------------------------------------
@pytest.mark.parametrize("suffix, compress", [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)])
@pytest.mark.parametrize("name", FILES)
def test_compressed_files_read_as_the_plain_ones(tmp_path, name, suffix, compress):
    path = tmp_path / (name + suffix)
    path.write_bytes(compress((FIXTURES / name).read_bytes()))
    assert detect_format(path) == FILES[name]
    keys, vectors = read_vectors(path)
    assert keys == KEYS
    np.testing.assert_array_equal(vectors, REFERENCE)
    keys, vectors = read_vectors(path, limit=4)
    assert keys == KEYS[:4] and vectors.shape == (4, 6)


def test_compression_is_known_by_its_magic_bytes_and_the_suffix_must_agree(tmp_path):
    hidden = tmp_path / "vectors.bin"  # gzip data under a plain name
    hidden.write_bytes(gzip.compress(BINARY))
    assert read_vectors(hidden)[0] == KEYS
    liar = tmp_path / "vectors.txt.gz"
    liar.write_bytes(TEXT)
    with pytest.raises(FormatError, match=r"named \.gz but not gzip data"):
        read_vectors(liar)


@pytest.mark.parametrize("cut", [10, 60, -8])
def test_damaged_compressed_data_is_named(tmp_path, cut):
    path = tmp_path / "vectors.bin.gz"
    path.write_bytes(gzip.compress(BINARY)[:cut])
    with pytest.raises(FormatError, match="vectors.bin.gz: damaged gzip data"):
        read_vectors(path)


def test_latin1_file_needs_its_encoding_and_then_equals_gensim():
    """gensim's own test file pang_lee_polarity_fasttext.vec has Latin-1 keys."""
    from gensim.test.utils import datapath

    path = datapath("pang_lee_polarity_fasttext.vec")
    with pytest.raises(FormatError, match=r"line \d+: bad UTF-8 at byte \d+.*encoding='latin-1'"):
        read_vectors(path)
    for options in ({"encoding": "latin-1"}, {"unicode_errors": "replace"}, {"unicode_errors": "ignore"}):
        keys, vectors = read_vectors(path, **options)
        reference = KeyedVectors.load_word2vec_format(path, **options)
        assert keys == reference.index_to_key
        np.testing.assert_array_equal(vectors, reference.vectors)


def test_binary_keys_in_another_encoding(tmp_path):
    path = tmp_path / "cp1252.bin"
    path.write_bytes(b"2 2\n" + b"caf\xe9 " + struct.pack("<2f", 1, 2) + b"na\xefve " + struct.pack("<2f", 3, 4))
    with pytest.raises(FormatError, match="record 1: bad UTF-8 in key"):
        read_vectors(path)
    assert read_vectors(path, encoding="cp1252")[0] == ["café", "naïve"]
    assert read_vectors(path, unicode_errors="ignore")[0] == ["caf", "nave"]
    reference = KeyedVectors.load_word2vec_format(str(path), binary=True, encoding="cp1252")
    assert reference.index_to_key == ["café", "naïve"]


def test_bad_utf8_in_the_first_record_is_named_not_taken_for_binary(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"2 3\ncaf\xe9 1 2 3\ndog 4 5 6\n")
    assert detect_format(path) == "word2vec-txt"
    with pytest.raises(FormatError, match="line 2: bad UTF-8 at byte 3"):
        read_vectors(path)


@pytest.mark.parametrize("name", ["tiny.txt", "tiny.glove.txt", "tiny.vec"])
def test_byte_order_mark_is_not_part_of_the_first_key(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / name).read_bytes())
    assert detect_format(path) == FILES[name]
    keys, vectors = read_vectors(path)
    assert keys == KEYS
    np.testing.assert_array_equal(vectors, REFERENCE)


def test_utf16_text_is_named_with_its_fix(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes("\ufeffcat 1 2\n".encode("utf-16-le"))
    with pytest.raises(FormatError, match="UTF-16 text.*iconv -f UTF-16 -t UTF-8"):
        read_vectors(path)


@pytest.mark.parametrize("options, message", [({"encoding": "utf-16"}, "does not keep ASCII as ASCII"),
                                              ({"encoding": "klingon"}, "unknown encoding"),
                                              ({"unicode_errors": "backslashreplace"}, "unicode_errors must be")])
def test_bad_decoding_options_are_refused(options, message):
    with pytest.raises(InvalidInput, match=message):
        read_vectors(FIXTURES / "tiny.txt", **options)


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
