"""load_space: paths, the shipped spaces (minilm, word2vec, mini), pickles, checksums; save_space.

The registry itself and plugins: test_registry.py.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from embedspace.catalog import default_space_name, known_spaces, load_space
from embedspace.errors import FormatError, InvalidInput, MissingFile, PickleRefused, UnknownSpaceError
from embedspace.io import shipped
from embedspace.io.saving import save_space
from transformer.minilm_files import ChecksumMismatch, ModelNotFound, find_minilm_dir, sha256_of

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vectors"
REFERENCE = np.load(FIXTURES / "tiny_vectors.npy")


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def minilm_installed() -> bool:
    try:
        find_minilm_dir()
    except ModelNotFound:
        return False
    return True


# -- paths ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["tiny.bin", "tiny_c.bin", "tiny.txt", "tiny.glove.txt", "tiny.vec"])
def test_every_format_loads_as_the_same_space(name):
    space = load_space(FIXTURES / name)
    assert space.name == name and space.origin == str((FIXTURES / name).resolve())
    np.testing.assert_array_equal(space.vectors, REFERENCE)


def test_explicit_format_is_used(tmp_path):
    path = tmp_path / "no_header.txt"
    path.write_text("12 6\n", "utf-8")  # as GloVe: one key '12' with one value
    assert load_space(path, format="glove").index_to_key == ["12"]
    with pytest.raises(InvalidInput, match="unknown format 'csv'"):
        load_space(path, format="csv")


def test_unknown_spec_names_the_known_spaces():
    with pytest.raises(UnknownSpaceError, match=r"'minilmm' is neither a space name \(.*minilm.*\).*did you mean: minilm"):
        load_space("minilmm")


def test_limit_must_be_positive():
    with pytest.raises(InvalidInput, match="limit"):
        load_space(FIXTURES / "tiny.bin", limit=0)


@pytest.mark.parametrize("suffix", ["", ".bin", ".txt", ".vec"])
def test_save_space_round_trips(tmp_path, suffix):
    space = load_space(FIXTURES / "tiny.txt")
    save_space(space, tmp_path / f"out{suffix}")
    again = load_space(tmp_path / f"out{suffix}")
    assert again.index_to_key == space.index_to_key
    np.testing.assert_array_equal(again.vectors, space.vectors)


def test_save_space_refuses_an_unknown_suffix(tmp_path):
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        save_space(load_space(FIXTURES / "tiny.txt"), tmp_path / "out.csv")


# -- gensim pickles ---------------------------------------------------------------------------------------------
def test_gensim_pickle_is_refused_with_the_reason():
    with pytest.raises(PickleRefused, match="pickle.*can run any code.*--trust-pickle"):
        load_space(FIXTURES / "tiny.kv")


def test_gensim_pickle_loads_when_trusted():
    space = load_space(FIXTURES / "tiny.kv", trust_pickle=True, limit=3)
    np.testing.assert_array_equal(space.vectors, REFERENCE[:3])


def test_gensim_pickle_with_another_name_is_still_refused(tmp_path):
    shutil.copy(FIXTURES / "tiny.kv", tmp_path / "innocent.txt")
    with pytest.raises(PickleRefused):
        load_space(tmp_path / "innocent.txt")


def test_damaged_trusted_pickle_is_a_format_error(tmp_path):
    (tmp_path / "broken.kv").write_bytes((FIXTURES / "tiny.kv").read_bytes()[:100])
    with pytest.raises(FormatError, match="not a loadable gensim file"):
        load_space(tmp_path / "broken.kv", trust_pickle=True)


# -- the shipped word2vec space (a tiny stand-in under EMBEDSPACE_DATA) ---------------------------------------------
@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "word2vec"
    folder.mkdir(parents=True)
    np.save(folder / "vectors.npy", REFERENCE.astype(np.float16))
    (folder / "vocab.txt").write_text("".join(k + "\n" for k in load_space(FIXTURES / "tiny.bin").index_to_key))
    (folder / "meta.json").write_text(json.dumps({"epochs": 5}))
    monkeypatch.setenv("EMBEDSPACE_DATA", str(tmp_path / "data"))
    return folder


def test_word2vec_loads_the_shipped_folder_as_float32(data_dir):
    space = load_space("word2vec")
    assert space.name == "word2vec" and space.vectors.dtype == np.float32
    np.testing.assert_allclose(space.vectors, REFERENCE, atol=1e-3)  # float16 on disk
    assert len(load_space("word2vec", limit=4)) == 4
    info = {i.name: i for i in known_spaces()}["word2vec"]
    assert (info.available, info.size, info.dims) == (True, 12, 6)


def test_missing_word2vec_is_unavailable_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_DATA", str(tmp_path / "nothing"))
    info = {i.name: i for i in known_spaces()}["word2vec"]
    assert not info.available and "vectors.npy" in info.reason
    with pytest.raises(MissingFile, match="shipped word2vec space is missing"):
        load_space("word2vec")


def test_named_space_refuses_a_format():
    with pytest.raises(InvalidInput, match="files only"):
        load_space("word2vec", format="glove")


# -- minilm ------------------------------------------------------------------------------------------------------------------
def fake_minilm(folder: Path) -> tuple[list[str], np.ndarray]:
    """A MiniLM-shaped folder with 8 tokens x 4 dims."""
    from safetensors.numpy import save_file

    tokens = ["[PAD]", "[CLS]", "tower", "##s", "towers", "42", "castle", "!"]
    matrix = np.random.default_rng(0).normal(size=(len(tokens), 4)).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(tokens) + "\n", "utf-8")
    (folder / "config.json").write_text(json.dumps({"hidden_size": 4}))
    (folder / "tokenizer.json").write_text("{}")
    save_file({"embeddings.word_embeddings.weight": matrix, "other": np.zeros(2, np.float32)},
              str(folder / "model.safetensors"))
    return tokens, matrix


def test_tampered_minilm_is_refused_and_not_cached(tmp_path, monkeypatch, cache_dir):
    fake_minilm(tmp_path / "model")
    monkeypatch.setenv("EMBEDSPACE_MINILM", str(tmp_path / "model"))
    with pytest.raises(ChecksumMismatch, match="not the official all-MiniLM-L6-v2 checkpoint"):
        load_space("minilm")
    assert not cache_dir.exists() or not any(cache_dir.iterdir())


def test_minilm_keeps_whole_words_and_caches_them(tmp_path, monkeypatch):
    tokens, matrix = fake_minilm(tmp_path / "model")
    monkeypatch.setenv("EMBEDSPACE_MINILM", str(tmp_path / "model"))
    expected = sha256_of(tmp_path / "model" / "model.safetensors")
    checked = []
    real_verify = shipped.verify_checksum
    monkeypatch.setattr(shipped, "verify_checksum", lambda folder: checked.append(real_verify(folder, expected)))
    space = load_space("minilm-we")
    assert space.index_to_key == ["tower", "towers", "castle"]
    np.testing.assert_array_equal(space.vectors, matrix[[2, 4, 6]])
    again = load_space("minilm-we")
    assert isinstance(again.vectors, np.memmap) and len(checked) == 1  # verified once, then cached
    every = load_space("minilm-we", keep_all_tokens=True)
    assert every.index_to_key == tokens
    np.testing.assert_array_equal(every.vectors, matrix)
    info = {i.name: i for i in known_spaces()}["minilm-we"]
    assert (info.available, info.size, info.dims) == (True, 3, 4)


def test_default_space_is_word2vec_without_minilm(monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_MINILM", "/nonexistent/minilm")  # MiniLM not found
    assert default_space_name() == "word2vec"
    infos = {i.name: i for i in known_spaces()}
    assert not infos["minilm"].available and not infos["minilm-we"].available


@pytest.mark.minilm
@pytest.mark.skipif(not minilm_installed(), reason="all-MiniLM-L6-v2 is not installed")
def test_real_minilm_whole_words_and_neighbours():
    from safetensors.numpy import load_file

    folder = find_minilm_dir()
    assert default_space_name() == "minilm"
    space = load_space("minilm-we")
    assert all(key.isalpha() for key in space.index_to_key) and "tower" in space and "##s" not in space
    w_e = load_file(str(folder / "model.safetensors"))["embeddings.word_embeddings.weight"]
    vocab = (folder / "vocab.txt").read_text("utf-8").split("\n")
    np.testing.assert_array_equal(space["tower"], w_e[vocab.index("tower")])
    neighbours = [key for key, _ in space.similar_by_vector(space["tower"], topn=10, exclude=["tower"])]
    assert {"towers", "skyscraper"} <= set(neighbours)
    assert len(load_space("minilm-we", keep_all_tokens=True)) == w_e.shape[0]


def test_the_data_folder_is_asked_at_each_load(data_dir, tmp_path, monkeypatch):
    assert len(load_space("word2vec")) == 12
    other = tmp_path / "other" / "word2vec"
    other.mkdir(parents=True)
    np.save(other / "vectors.npy", np.eye(2, dtype=np.float16))
    (other / "vocab.txt").write_text("x\ny\n")
    monkeypatch.setenv("EMBEDSPACE_DATA", str(tmp_path / "other"))
    assert load_space("word2vec").index_to_key == ["x", "y"]


def test_the_mini_space_is_the_word_rows_of_a_model_folder(tmp_path, monkeypatch):
    from embedspace.io.mini_model import is_word
    from transformer.checkpoint import save_model
    from transformer.config import TransformerConfig
    from transformer.model import init_params
    from transformer.word_tokenizer import WordTokenizer

    tokenizer = WordTokenizer.build(["the king and the queen , 42 times ."] * 3, vocab_size=12)
    cfg = TransformerConfig(vocab_size=tokenizer.vocab_size, n_ctx=4, n_embd=4, n_head=1, n_layer=1)
    params = init_params(cfg, seed=0)
    save_model(tmp_path / "mini", params, cfg, extra_files={"vocab.txt": "\n".join(tokenizer.id_to_token) + "\n"})
    monkeypatch.setenv("EMBEDSPACE_DATA", str(tmp_path))
    space = load_space("mini")
    words = [t for t in tokenizer.id_to_token if is_word(t)]
    assert space.index_to_key == words and {",", "42", "<unk>"}.isdisjoint(words)
    rows = [tokenizer.id_to_token.index(w) for w in words]
    np.testing.assert_array_equal(space.vectors, params["wte"][rows])
    info = {i.name: i for i in known_spaces()}["mini"]
    assert (info.available, info.size, info.dims) == (True, len(words), 4)
