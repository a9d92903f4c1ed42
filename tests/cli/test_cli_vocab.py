"""Words as users type them: case, inflections, which space can answer, anisotropy, model folders."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vectors"
TINY = str(FIXTURES / "tiny.txt")


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path / "cache"))


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def cased(tmp_path):
    """A cased word2vec text file: 'Paris' and 'paris' are different keys, 'Rome' only lower-case."""
    path = tmp_path / "cased.txt"
    path.write_text("5 3\nParis 1 0 0\nparis 0.9 0.1 0\nrome 0.8 0.2 0\nking 0 1 0\nkings 0 0.9 0.1\n")
    return path


def test_a_capitalised_word_is_found_and_a_cased_space_says_how(cased):
    result = run("neighbors", "Rome", "--space", cased, "--json")
    assert result.exit_code == 0, result.output
    assert "note: 'Rome' is not in space 'cased.txt'; using 'rome'" in result.stderr
    rows = json.loads(result.stdout)
    assert rows[0]["word"] == "Rome" and "rome" not in [r["neighbor"] for r in rows]
    exact = run("neighbors", "Paris", "--space", cased, "--json")
    assert "note" not in exact.stderr and json.loads(exact.stdout)[0]["neighbor"] == "paris"


def test_word2vec_takes_capitals_without_a_note():
    result = run("calc", "King - Man + Woman", "--space", "word2vec", "--json", "--topn", "3")
    assert result.exit_code == 0, result.output
    assert "note" not in result.stderr and "queen" in [r["key"] for r in json.loads(result.stdout)]


def test_no_inflections_leaves_out_the_inputs_variants(cased):
    plain = json.loads(run("neighbors", "king", "--space", cased, "--json").stdout)
    assert plain[0]["neighbor"] == "kings"
    filtered = json.loads(run("neighbors", "king", "--space", cased, "--json", "--no-inflections").stdout)
    assert "kings" not in [r["neighbor"] for r in filtered] and len(filtered) == len(plain) - 1
    calc = json.loads(run("calc", "king + rome", "--space", cased, "--json", "--no-inflections").stdout)
    assert "kings" not in [r["key"] for r in calc]
    analogy = run("analogy", "king", "rome", "paris", "--space", cased, "--json", "--no-inflections")
    assert analogy.exit_code == 0 and "kings" not in [r["key"] for r in json.loads(analogy.stdout)]


def test_a_word_missing_here_names_the_spaces_that_have_it():
    result = run("similarity", "mussolini", "italy", "--space", "word2vec")
    assert result.exit_code == 1
    assert "'mussolini' is not in word2vec; it is in" in result.stderr
    mini = run("calc", "Italy - Germany + Hitler", "--space", "mini")
    assert "'Hitler' is not in mini; it is in" in mini.stderr and "word2vec" in mini.stderr.split("it is in")[1]
    nowhere = run("neighbors", "qwzx", "--space", "word2vec")
    assert "'qwzx' is not in the vocabulary of space 'word2vec'" in nowhere.stderr


def test_info_shows_how_alike_random_pairs_are_and_the_default_post_processing():
    result = run("info", "--space", "mini", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["typical_cosine_raw"] > 0.8 and abs(info["typical_cosine"]) < 0.05
    assert "all-but-the-top" in info["postprocessing"] and "all-but-the-top" in result.stderr
    raw = json.loads(run("info", "--space", "mini", "--remove-top", "0", "--json").stdout)
    assert raw["typical_cosine"] == info["typical_cosine_raw"] and "postprocessing" not in raw
    word2vec = json.loads(run("info", "--space", "word2vec", "--json").stdout)
    assert abs(word2vec["typical_cosine"]) < 0.1 and "postprocessing" not in word2vec


def test_remove_top_applies_to_any_space_and_is_checked():
    result = run("neighbors", "cat", "--space", TINY, "--remove-top", "1", "--json")
    assert result.exit_code == 0, result.output
    assert "note" not in result.stderr  # asked for: nothing to announce
    bad = run("neighbors", "cat", "--space", TINY, "--remove-top", "99")
    assert bad.exit_code == 1 and "must be in 0.." in bad.stderr


@pytest.fixture
def model_dir(tmp_path):
    from transformer.checkpoint import save_model
    from transformer.config import TransformerConfig
    from transformer.model import init_params
    from transformer.word_tokenizer import WordTokenizer

    corpus = ["the king is dead", "long live the king", "the queen is here", "the cat sat on the mat"] * 5
    tokenizer = WordTokenizer.build(corpus, vocab_size=30)
    cfg = TransformerConfig(vocab_size=tokenizer.vocab_size, n_ctx=8, n_embd=8, n_head=2, n_layer=2)
    folder = tmp_path / "mymini"
    save_model(folder, init_params(cfg, seed=0), cfg, extra_files={"vocab.txt": "\n".join(tokenizer.id_to_token) + "\n"})
    return folder


def test_a_train_mini_folder_works_as_a_space_and_as_a_model(model_dir):
    from embedspace.io.mini_model import load_mini_model

    neighbours = run("neighbors", "King", "--space", model_dir, "--json")
    assert neighbours.exit_code == 0, neighbours.output
    assert len(json.loads(neighbours.stdout)) > 3
    tokens = run("tokens", "the king is here", "--model", model_dir, "--json")
    assert tokens.exit_code == 0, tokens.output
    model = load_mini_model(model_dir)
    assert [r["id"] for r in json.loads(tokens.stdout)] == model.tokenizer.encode("the king is here", add_bos=True)
    attention = run("attention", "the king is here", "--model", model_dir, "--layer", "2", "--json")
    assert attention.exit_code == 0, attention.output
    context = run("context", "the king is dead", "long live the king", "--word", "king", "--model", model_dir, "--json")
    assert context.exit_code == 0, context.output
    data = json.loads(context.stdout)
    assert data["model"] == str(model_dir) and len(data["pairs"][0]["cosines"]) == 3
    static = np.asarray(model.params["wte"][model.tokenizer.token_to_id["king"]])
    first = data["occurrences"][0]["neighbours"]
    assert first  # neighbours come from the folder's own W_E
    assert static.shape == (8,)


def test_a_model_that_is_neither_a_name_nor_a_folder_is_a_usage_error(tmp_path):
    result = run("tokens", "hello", "--model", tmp_path / "nowhere")
    assert result.exit_code == 2 and "neither minilm, mini nor a model folder" in result.output
