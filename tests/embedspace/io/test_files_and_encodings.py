"""Files users have: only regular ones, declared sizes checked, every malformed one named; compressed, other encodings, BOMs.

Each case here reproduces a hole of issue 13 that the readers of aed0434 had (a FIFO blocked forever,
/dev/zero grew memory without limit, a ``0 4`` header raised AssertionError, ...).
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import struct
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors

from embedspace.errors import FormatError, InvalidInput
from embedspace.io.formats import detect_format, read_vectors

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vectors"
REFERENCE = np.load(FIXTURES / "tiny_vectors.npy")
KEYS = ["cat", "dog", "horse", "car", "truck", "bus", "apple", "pear", "plum", "café", "naïve", "tower"]
FILES = {"tiny.bin": "word2vec-bin", "tiny_c.bin": "word2vec-bin", "tiny.txt": "word2vec-txt",
         "tiny.glove.txt": "glove", "tiny.vec": "fasttext"}
TEXT = (FIXTURES / "tiny.txt").read_bytes()
BINARY = (FIXTURES / "tiny.bin").read_bytes()
HEADER_END = BINARY.index(b"\n") + 1


# -- hardening: only regular files, declared sizes checked, every malformed file named (issue 13) -------------
@pytest.mark.parametrize("how", ["read_vectors", "load_space with its format"])
def test_fifo_is_refused_without_blocking(tmp_path, monkeypatch, how):
    """load_space with a format given sniffs nothing: the cache's stamp must not block on the FIFO either."""
    from embedspace.catalog import load_space

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
