"""The open-vocabulary minilm space, minilm-we's order, train-mini folders as spaces, and which space holds a word."""
from __future__ import annotations

import numpy as np
import pytest

from embedspace import catalog
from embedspace.catalog import load_space
from embedspace.contextual import minilm_space
from embedspace.errors import UnknownKeyError
from embedspace.io import shipped
from embedspace.io.open_vocabulary import OpenVocabularySpace
from transformer.minilm_files import ModelNotFound, find_minilm_dir


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def minilm_folder():
    try:
        return find_minilm_dir()
    except ModelNotFound:
        pytest.skip("all-MiniLM-L6-v2 is not installed")


def test_minilm_we_lists_words_before_single_letters():
    tokens = ["[PAD]", "a", "the", "é", "##s", "tower", "x", "42"]
    assert [tokens[i] for i in shipped.words_first(tokens)] == ["the", "tower", "a", "é", "x"]


def test_the_candidate_cache_key_follows_the_words_and_the_layers():
    key, settings = minilm_space.open_cache_key(["tower", "king"], (2, 6))
    assert key.startswith("minilm-open-") and settings["layers"] == [2, 6]
    assert minilm_space.open_cache_key(["tower", "king"], (2, 6)) == (key, settings)
    assert minilm_space.open_cache_key(["tower", "queen"], (2, 6))[0] != key
    assert minilm_space.open_cache_key(["tower", "king"], (6,))[0] != key


def test_the_shipped_candidates_are_lower_case_words_with_the_demos_own():
    words = minilm_space.candidate_words()
    assert len(words) == len(set(words)) > 30_000
    assert all(w.isascii() and w.isalpha() and w.islower() for w in words)
    assert words[:3] == ["the", "a", "of"] and {"bratwurst", "schnitzel", "mussolini", "skyscraper"} <= set(words)


@pytest.mark.minilm
def test_the_open_space_is_built_once_from_its_words_and_reads_the_others(minilm_folder, monkeypatch, cache_dir):
    from embedspace.contextual.encoders import load_encoder
    from embedspace.contextual.isolated import isolated_vectors

    words = ["tower", "towers", "skyscraper", "castle", "king", "queen", "man", "woman"]
    monkeypatch.setattr(minilm_space, "candidate_words", lambda: words)
    seen = []
    space = load_space("minilm", progress=lambda done, total: seen.append((done, total)))
    assert isinstance(space, OpenVocabularySpace) and space.index_to_key == words and seen[-1] == (8, 8)
    with load_encoder("minilm") as encoder:
        expected = isolated_vectors(encoder, [*words, "sushi", "new york"], minilm_space.MINILM_LAYERS)
    np.testing.assert_allclose(space.vectors, expected[:8], atol=1e-5)
    np.testing.assert_allclose(space[["Sushi", "New  York"]], expected[8:], atol=2e-4)  # read on the fly
    assert [k for k, _ in space.similar_by_vector(space["tower"], topn=2, exclude=["tower"])] == ["towers", "skyscraper"]
    seen.clear()
    again = load_space("minilm")
    assert isinstance(again.vectors, np.memmap) and not seen  # from the cache: nothing built
    assert load_space("minilm", limit=3).index_to_key == words[:3]
    assert minilm_space.describe_minilm().size == len(words)
    with pytest.raises(UnknownKeyError, match="'☃☃' is not in the vocabulary of space 'minilm'"):
        space["☃☃"]


def test_a_train_mini_folder_is_a_space_of_its_w_e(tmp_path):
    from embedspace.io.mini_model import default_remove_top
    from transformer.checkpoint import save_model
    from transformer.config import TransformerConfig
    from transformer.model import init_params
    from transformer.word_tokenizer import WordTokenizer

    tokenizer = WordTokenizer.build(["the king and the queen and the man and the woman"] * 3, vocab_size=12)
    cfg = TransformerConfig(vocab_size=tokenizer.vocab_size, n_ctx=4, n_embd=50, n_head=2, n_layer=1)
    params = init_params(cfg, seed=0)
    folder = tmp_path / "mymini"
    save_model(folder, params, cfg, extra_files={"vocab.txt": "\n".join(tokenizer.id_to_token) + "\n"})
    raw = load_space(folder, remove_top=0)
    rows = [tokenizer.token_to_id[w] for w in raw.index_to_key]
    assert raw.name == "mymini" and "king" in raw and raw.resolve("KING") == "king"
    np.testing.assert_array_equal(raw.vectors, params["wte"][rows])
    default = load_space(folder)
    assert default_remove_top(50) == 2 and "top 2 directions removed" in default.postprocessing


def test_spaces_holding_reads_the_word_files():
    assert "word2vec" in catalog.spaces_holding("cat") and "word2vec" in catalog.spaces_holding("Cat")
    assert "word2vec" not in catalog.spaces_holding("mussolini")


@pytest.mark.minilm
def test_minilm_can_read_any_word_and_minilm_we_holds_its_whole_words(minilm_folder):
    assert catalog.spaces_holding("sushi")[0] == "minilm" and "minilm-we" not in catalog.spaces_holding("sushi")
    assert {"minilm", "minilm-we"} <= set(catalog.spaces_holding("Mussolini"))
    assert catalog.spaces_holding("☃") == []


@pytest.mark.minilm
def test_limit_keeps_the_most_frequent_words_of_both_minilm_spaces(minilm_folder):
    first = load_space("minilm-we", limit=100).index_to_key
    assert all(len(key) > 1 for key in first) and first[:5] == ["the", "of", "and", "in", "to"]
    every = load_space("minilm-we").index_to_key
    assert len(every[-1]) == 1 and sum(len(key) == 1 for key in every[-779:]) == 779  # the single letters last
