"""fastText's native .bin read by our own code: equal to gensim's load_facebook_vectors, and to fastText itself.

References: gensim's reader on its own test files (shipped in gensim/test/test_data), fastText's
own ``.vec`` files beside them, and :func:`reference_vector`, a plain port of fastText's
``Dictionary::computeSubwords`` / ``FastText::getWordVector`` over the file's bytes.
"""
from __future__ import annotations

import gzip
import logging
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from gensim.models import _fasttext_bin
from gensim.models.fasttext import load_facebook_vectors
from gensim.test.utils import datapath

from embedspace.errors import FormatError, InvalidInput, UnknownKeyError
from embedspace.io.detect import detect_format
from embedspace.io.fasttext_bin import write_fasttext_bin
from embedspace.io.formats import read_vectors
from embedspace.io.open_vocabulary import OpenVocabularySpace
from embedspace.io.subwords import FastTextSubwords, fnv1a, ngram_hashes
from embedspace.space import Space

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vectors"
# gensim's test models: (file, encoding, version 12 or later: "</s>" has no n-grams)
GENSIM_MODELS = {
    "lee_fasttext.bin": ("utf-8", False),  # the old layout, without magic number
    "lee_fasttext_new.bin": ("utf-8", False),  # version 11
    "crime-and-punishment.bin": ("utf-8", True),  # Cyrillic words
    "non_ascii_fasttext.bin": ("utf-8", False),
    "toy-model.bin": ("utf-8", True),
    "toy-model-pretrained.bin": ("utf-8", True),  # holds an empty word
    "cp852_fasttext.bin": ("cp852", False),  # words in cp852
}
OOV = ["xyzzyq", "thenn", "towers", "a", "zz", "é", "</s>"]
OOV_UTF8 = OOV + ["kočka", "компьютер"]


@pytest.fixture(autouse=True)
def quiet_gensim():
    logging.getLogger("gensim").setLevel(logging.ERROR)


def reference_ngrams(word: bytes, minn: int, maxn: int, bucket: int) -> list[int]:
    """fastText's Dictionary::computeSubwords on ``"<" + word + ">"``, one character at a time."""
    text, out = b"<" + word + b">", []
    for i in range(len(text)):
        if text[i] & 0xC0 == 0x80:
            continue
        ngram, j, n = b"", i, 1
        while j < len(text) and n <= maxn:
            ngram += text[j:j + 1]
            j += 1
            while j < len(text) and text[j] & 0xC0 == 0x80:
                ngram += text[j:j + 1]
                j += 1
            if n >= minn and not (n == 1 and (i == 0 or j == len(text))):
                h = 2166136261
                for byte in ngram:  # FNV-1a, each byte sign-extended (fastText's int8_t cast)
                    h = ((h ^ (byte - 256 if byte > 127 else byte)) * 16777619) % 2**32
                out.append(h % bucket)
            n += 1
    return out


def reference_vector(model, matrix: np.ndarray, word: bytes, words: list[bytes], skip_eos: bool) -> np.ndarray:
    """FastText::getWordVector in float64: the mean of the word's own row (if any) and its n-gram rows."""
    rows = [words.index(word)] if word in words else []
    if not (skip_eos and word == b"</s>") and model.maxn:
        rows += [model.nwords + h for h in reference_ngrams(word, model.minn, model.maxn, model.bucket)]
    return matrix[rows].astype(np.float64).mean(axis=0) if rows else np.zeros(matrix.shape[1])


@pytest.mark.parametrize("name", GENSIM_MODELS)
def test_gensim_test_models_equal_gensim_and_fasttext(name):
    encoding, skip_eos = GENSIM_MODELS[name]
    path = datapath(name)
    assert detect_format(path) == "fasttext-bin"
    keys, vectors = read_vectors(path, encoding=encoding)
    kv = load_facebook_vectors(path, encoding=encoding)
    assert keys == kv.index_to_key
    raw = _fasttext_bin.load(path, encoding=encoding, full_model=False)
    words = [w.encode(encoding) for w in raw.raw_vocab]
    subwords = FastTextSubwords(path, encoding=encoding)
    oov = OOV if encoding != "utf-8" else OOV_UTF8
    ours_oov = subwords.vectors(oov)
    for i, word in enumerate(keys[:300]):
        expected = reference_vector(raw, raw.vectors_ngrams, words[i], words, skip_eos)
        np.testing.assert_allclose(vectors[i], expected, rtol=1e-5, atol=1e-6)
    for word, ours in zip(oov, ours_oov):
        expected = reference_vector(raw, raw.vectors_ngrams, word.encode(encoding), words, skip_eos)
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    if encoding != "utf-8":
        return  # gensim hashes the words re-encoded as UTF-8; fastText (and we) hash the file's bytes
    eos = [i for i, key in enumerate(keys) if key == "</s>" and skip_eos]  # gensim gives it n-grams regardless
    same = np.setdiff1d(np.arange(len(keys)), eos)
    np.testing.assert_array_equal(vectors[same], kv.vectors[same])  # to the bit: same order of float32 sums
    for word, ours in zip(oov, ours_oov):
        if not (word == "</s>" and skip_eos):
            np.testing.assert_array_equal(ours, kv.get_vector(word))


@pytest.mark.parametrize("name", ["lee_fasttext", "crime-and-punishment", "toy-model"])
def test_word_vectors_equal_the_vec_file_fasttext_wrote(name):
    """fastText's own .vec beside its .bin (5 significant digits): "</s>" included, with or without n-grams."""
    keys, vectors = read_vectors(datapath(name + ".bin"))
    text_keys, text = read_vectors(datapath(name + ".vec"))
    rows = [keys.index(key) for key in text_keys]
    np.testing.assert_allclose(vectors[rows], text, rtol=1e-4, atol=1e-5)


def test_supervised_model_gives_its_word_vectors():
    """gensim refuses supervised models; their words' rows equal the .vec that fastText wrote."""
    path = datapath("pang_lee_polarity_fasttext.bin")
    with pytest.raises(NotImplementedError):
        load_facebook_vectors(path)
    keys, vectors = read_vectors(path, encoding="latin-1")
    text_keys, text = read_vectors(datapath("pang_lee_polarity_fasttext.vec"), encoding="latin-1")
    assert keys == text_keys and len(keys) == 1694  # the 2 labels are left out
    np.testing.assert_allclose(vectors, text, rtol=1e-4, atol=1e-6)


def test_latin1_words_need_their_encoding():
    with pytest.raises(FormatError, match=r"record \d+: bad UTF-8 in word .*encoding='latin-1'"):
        read_vectors(datapath("pang_lee_polarity_fasttext.bin"))
    keys, _ = read_vectors(datapath("pang_lee_polarity_fasttext.bin"), unicode_errors="replace")
    assert any("\ufffd" in key for key in keys)


def test_model_written_by_gensim_save_facebook_model():
    """tiny_fasttext.bin: gensim trained it and wrote it (tests/fixtures/make_vector_fixtures.py)."""
    path = FIXTURES / "tiny_fasttext.bin"
    keys, vectors = read_vectors(path)
    kv = load_facebook_vectors(str(path))
    assert keys == kv.index_to_key and "café" in keys
    np.testing.assert_array_equal(vectors, kv.vectors)
    words = ["cafés", "naïveté", "horses", "q", "日本"]
    np.testing.assert_array_equal(FastTextSubwords(path).vectors(words), [kv.get_vector(w) for w in words])


def test_limit_and_compressed_model(tmp_path):
    path = FIXTURES / "tiny_fasttext.bin"
    keys, vectors = read_vectors(path)
    packed = tmp_path / "tiny_fasttext.bin.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert detect_format(packed) == "fasttext-bin"
    got_keys, got = read_vectors(packed, limit=5)
    assert got_keys == keys[:5]
    np.testing.assert_array_equal(got, vectors[:5])
    np.testing.assert_array_equal(FastTextSubwords(packed).vectors(["cafés"]),
                                  FastTextSubwords(path).vectors(["cafés"]))


def test_ngram_hashes_follow_fasttext_order():
    words = [b"where", "naïve".encode(), b"", b"</s>"]
    counts, hashes = ngram_hashes(words, 2, 4)
    expected = [reference_ngrams(w, 2, 4, 2**32) for w in words[:3]]
    assert counts.tolist() == [len(e) for e in expected] + [0]
    assert hashes.tolist() == [h for e in expected for h in e]
    one = ngram_hashes([b"ab"], 1, 1)  # single characters, but never "<" or ">" alone
    assert one[1].tolist() == [fnv1a(b"a"), fnv1a(b"b")]


def test_open_space_gives_unknown_words_their_ngram_vector():
    path = FIXTURES / "tiny_fasttext.bin"
    kv = load_facebook_vectors(str(path))
    keys, vectors = read_vectors(path, limit=10)
    space = OpenVocabularySpace.over(Space(keys, vectors), FastTextSubwords(path), cased=True)
    assert "cafés" in space and not space.has_index_for("cafés")  # as gensim's FastText: a vector, not a row
    np.testing.assert_array_equal(space["cafés"], kv.get_vector("cafés"))
    np.testing.assert_array_equal(space[[keys[0], "cafés"]], [kv.get_vector(keys[0]), kv.get_vector("cafés")])
    beyond = kv.index_to_key[12]  # in the model, beyond the limit: its own row counts too
    np.testing.assert_array_equal(space[beyond], kv.get_vector(beyond))
    best = space.similar_by_vector(space["cafés"], topn=3)
    assert len(best) == 3 and all(key in keys for key, _ in best)
    space.reader.close()


def test_open_space_refuses_a_word_without_ngrams(tmp_path):
    path = write_fasttext_bin(tmp_path / "m.bin", ["cat"], np.ones((1 + 4, 2), np.float32), minn=4, maxn=4, bucket=4)
    keys, vectors = read_vectors(path)
    space = OpenVocabularySpace.over(Space(keys, vectors), FastTextSubwords(path, encoding="ascii"), cased=True)
    assert space["cats"].tolist() == [1.0, 1.0]  # "<cat", "cats", "ats>"
    with pytest.raises(UnknownKeyError, match="'x'"):
        space["x"]  # "<x>" is shorter than the shortest n-gram
    with pytest.raises(InvalidInput, match="cannot be written in ascii"):
        space["é"]


def test_changed_model_file_is_refused_by_lookups(tmp_path):
    path = tmp_path / "m.bin"
    shutil.copy(FIXTURES / "tiny_fasttext.bin", path)
    subwords = FastTextSubwords(path)
    path.write_bytes(path.read_bytes())  # same content, new ctime
    with pytest.raises(FormatError, match="changed since its space was loaded"):
        subwords.vectors(["cat"])


# -- faults ------------------------------------------------------------------------------------------------
TINY = (FIXTURES / "tiny_fasttext.bin").read_bytes()
DICT_START = 8 + 56  # magic, version, args


def matrix_header_offset(data: bytes) -> int:
    """Where the quantisation flag before the input matrix is (after the dictionary)."""
    position = DICT_START + 28
    size = struct.unpack_from("<i", data, DICT_START)[0]
    for _ in range(size):
        position = data.index(b"\0", position) + 10
    return position


FAULTS = {
    "truncated header": (TINY[:40], "truncated: the file ends inside the header"),
    "truncated dictionary": (TINY[:DICT_START + 40], "truncated: the file ends inside dictionary entry"),
    "truncated matrix": (TINY[:matrix_header_offset(TINY) + 100], "truncated: the file ends inside the input matrix"),
    "quantized": (TINY[:matrix_header_offset(TINY)] + b"\1" + TINY[matrix_header_offset(TINY) + 1:],
                  "a quantized model"),
    "wrong rows": (TINY[:matrix_header_offset(TINY) + 1] + struct.pack("<q", 7) + TINY[matrix_header_offset(TINY) + 9:],
                   "input matrix is 7 x 6"),
    "huge bucket": (TINY[:8 + 32] + struct.pack("<i", 2**31 - 1) + TINY[8 + 36:], "the header implies"),
    "bad sizes": (TINY[:DICT_START] + struct.pack("<3i", 5, 9, 0) + TINY[DICT_START + 12:], "damaged dictionary header"),
    "pruned": (TINY[:DICT_START + 20] + struct.pack("<q", 5) + TINY[DICT_START + 28:], "a pruned model"),
    "label among words": (TINY[:matrix_header_offset(TINY) - 1] + b"\1" + TINY[matrix_header_offset(TINY):],
                          "type 1, expected a word"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_damaged_models_name_the_fault(tmp_path, fault):
    content, message = FAULTS[fault]
    path = tmp_path / "bad.bin"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=message):
        read_vectors(path, "fasttext-bin")
    path.write_bytes(gzip.compress(content))
    with pytest.raises(FormatError, match=message):
        read_vectors(path, "fasttext-bin")
