"""`embedspace tokens`, `embed` and `attention` through click's CliRunner."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import embedspace.contextual.encoders
from cli.main import cli
from cli.minilm_commands import COMMANDS
from embedspace.contextual.encoders import Encoder, WordLevel
from transformer.config import TransformerConfig
from transformer.minilm_files import ModelNotFound, find_minilm_dir
from transformer.model import init_params
from transformer.word_tokenizer import WordTokenizer


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def minilm():
    try:
        find_minilm_dir()
    except ModelNotFound as error:
        pytest.skip(str(error))
    return embedspace.contextual.encoders.load_encoder("minilm")


@pytest.fixture
def mini(monkeypatch):
    """A tiny random causal GPT served as the `mini` model (the shipped one may not be built)."""
    tokenizer = WordTokenizer.build(["the cat sat on the mat."], vocab_size=9)
    cfg = TransformerConfig(vocab_size=tokenizer.vocab_size, n_ctx=8, n_embd=8, n_head=2, n_layer=2)
    toy = Encoder("mini", cfg, init_params(cfg), WordLevel(tokenizer, cfg.n_ctx))
    real = embedspace.contextual.encoders.load_encoder
    monkeypatch.setattr(embedspace.contextual.encoders, "load_encoder", lambda name: toy if name == "mini" else real(name))
    return toy


def test_every_command_has_help_with_an_example():
    for command in COMMANDS:
        assert "Example:" in command.help, command.name
        assert invoke(command.name, "--help").exit_code == 0


@pytest.mark.minilm
def test_tokens_shows_word_pieces_and_ids(minilm):
    result = invoke("tokens", "Tokenization rocks", "--json")
    rows = json.loads(result.output)
    assert [r["token"] for r in rows] == ["[CLS]", "token", "##ization", "rocks", "[SEP]"]
    assert [r["id"] for r in rows] == minilm.encode(["Tokenization rocks"]).ids[0].tolist()
    table = invoke("tokens", "Tokenization rocks").output
    assert "##ization" in table and "101" in table


@pytest.mark.minilm
def test_embed_json_gives_the_encoders_sentence_embeddings(minilm, tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("A red automobile\n\nI like pizza\n")
    rows = json.loads(invoke("embed", "The car is blue", "--file", str(texts), "--json").output)
    assert [r["text"] for r in rows] == ["The car is blue", "A red automobile", "I like pizza"]
    expected = minilm.sentence_embeddings([r["text"] for r in rows])
    np.testing.assert_allclose([r["vector"] for r in rows], expected, atol=1e-6)


@pytest.mark.minilm
def test_embed_table_shows_each_text_and_their_cosines(minilm):
    output = invoke("embed", "The car is blue", "A red automobile").output
    vectors = minilm.sentence_embeddings(["The car is blue", "A red automobile"])
    assert "384 dims" in output and "cosine similarities" in output
    assert f"{float(vectors[0] @ vectors[1]):.4f}" in output


@pytest.mark.minilm
def test_embed_tokens_gives_each_tokens_hidden_state_at_the_layer(minilm):
    data = json.loads(invoke("embed", "a fashion model", "--tokens", "--layer", "2", "--json").output)
    run = minilm.run(["a fashion model"])[0]
    assert data[0]["layer"] == 2 and [t["token"] for t in data[0]["tokens"]] == run.tokens
    np.testing.assert_allclose([t["vector"] for t in data[0]["tokens"]], run.hidden_states[2], atol=1e-5)


@pytest.mark.minilm
def test_attention_prints_the_heads_matrix_with_token_labels(minilm):
    data = json.loads(invoke("attention", "The car is blue", "--layer", "-1", "--head", "3", "--json").output)
    tokens, weights = minilm.attention("The car is blue", 6, 3)
    assert [row["token"] for row in data] == tokens
    np.testing.assert_allclose([row["weights"] for row in data], weights, atol=1e-6)
    table = invoke("attention", "The car is blue", "--layer", "6", "--head", "3").output
    assert "layer 6 of 6, head 3 of 12" in table
    assert table.splitlines()[1].split() == tokens


@pytest.mark.minilm
def test_attention_out_draws_a_heatmap(minilm, tmp_path):
    result = invoke("attention", "The car is blue", "--out", str(tmp_path / "a.png"))
    assert result.exit_code == 0 and (tmp_path / "a.png").stat().st_size > 1000


def test_the_mini_model_shows_bos_and_a_causal_pattern(mini):
    rows = json.loads(invoke("tokens", "the cat sat", "--model", "mini", "--json").output)
    assert [r["token"] for r in rows] == ["<bos>", "the", "cat", "sat"]
    data = json.loads(invoke("attention", "the cat sat", "--model", "mini", "--json").output)
    assert np.triu(np.array([row["weights"] for row in data]), k=1).max() == 0


@pytest.mark.parametrize("args, message", [
    (("embed", "--model", "mini", "--tokens", "--layer", "5", "x"), "layer 5 does not exist: this model has layers 0..2"),
    (("attention", "the cat", "--model", "mini", "--layer", "0"), "layers 1..2"),
    (("attention", "the cat", "--model", "mini", "--head", "2"), "heads 0..1"),
    (("embed", "--model", "mini"), "give at least one TEXT"),
])
def test_bad_input_is_one_line_on_stderr(mini, args, message):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output
