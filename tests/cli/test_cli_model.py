"""The model commands through click's CliRunner, and the `mini` space, on a tiny model in tmp_path."""
from __future__ import annotations

import json

import numpy as np
import pytest
from cli_checks import assert_user_error
from click.testing import CliRunner

from cli.main import cli
from embedspace.catalog import load_space
from embedspace.io.mini_model import load_mini_model, mini_space
from transformer.checkpoint import save_model
from transformer.config import TransformerConfig
from transformer.model import init_params
from transformer.word_tokenizer import WordTokenizer

CORPUS = ["Once upon a time there was a king.", "The king had a queen, and the queen had a horse.",
          "There was a time when the horse ran!"] * 20


@pytest.fixture
def model_dir(tmp_path):
    tokenizer = WordTokenizer.build(CORPUS, vocab_size=40)
    cfg = TransformerConfig(vocab_size=tokenizer.vocab_size, n_ctx=8, n_embd=8, n_head=2, n_layer=1)
    params = init_params(cfg, seed=0)
    params["wte"] *= 40                                    # distinct next-token probabilities
    folder = tmp_path / "mini"
    save_model(folder, params, cfg, dtype=np.float16,
               extra_files={"vocab.txt": "\n".join(tokenizer.id_to_token) + "\n"})
    return folder


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result


def test_params_gpt3_shows_the_published_w_e_and_total():
    result = invoke("params", "--preset", "gpt3")
    assert result.exit_code == 0, result.output
    assert "617,558,016" in result.output and "174.6 B" in result.output
    assert "published: 175.0 B" in result.output
    assert "published" not in invoke("params", "--preset", "gpt3", "--n-layer", "2").output


def test_params_json_and_custom_sizes():
    rows = json.loads(invoke("params", "--preset", "gpt2", "--json").output)
    assert {r["group"]: r["parameters"] for r in rows}["total"] == 124_439_808
    rows = json.loads(invoke("params", "--n-embd", "64", "--n-layer", "2", "--n-head", "4", "--vocab", "100",
                             "--ctx", "16", "--json").output)
    counts = {r["group"]: r["parameters"] for r in rows}
    assert counts["W_E"] == 6400 and counts["MLP"] == 2 * (64 * 256 + 256 + 256 * 64 + 64)


def test_params_bad_shape_is_one_line_error():
    assert_user_error(invoke("params", "--n-embd", "10", "--n-head", "3"), "divisible")


def test_next_lists_top_k_per_temperature(model_dir):
    result = invoke("next", "once upon a time there was a", "--temperature", "0.5", "1", "2", "-k", "3",
                    "--model", model_dir, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["temperature"] for r in rows] == [0.5] * 3 + [1.0] * 3 + [2.0] * 3
    top = [r["probability"] for r in rows[::3]]
    assert top[0] > top[1] > top[2]                       # higher temperature, flatter distribution
    assert {r["token"] for r in rows[:3]} == {r["token"] for r in rows[3:6]}   # same ranking at every T
    greedy = json.loads(invoke("next", "the king", "-t", "0", "-k", "4", "--model", model_dir, "--json").output)
    assert [r["probability"] for r in greedy] == [1.0, 0.0, 0.0, 0.0]
    assert not {"<unk>", "<bos>"} & {r["token"] for r in greedy}
    table = invoke("next", "the king", "--model", model_dir)
    assert table.exit_code == 0 and "temperature 1" in table.output


def test_generate_is_deterministic_for_a_seed(model_dir):
    first = invoke("generate", "the king", "--seed", "3", "--max-tokens", "8", "--model", model_dir)
    again = invoke("generate", "the king", "--seed", "3", "--max-tokens", "8", "--model", model_dir)
    assert first.exit_code == 0 and first.output == again.output and first.output.startswith("the king")
    others = {invoke("generate", "the king", "--seed", s, "-t", "2", "--model", model_dir).output for s in range(5)}
    assert len(others) > 1


def test_empty_prompt_is_a_clean_error(model_dir):
    assert invoke("next", "!!! ???", "--model", model_dir).exit_code == 0   # punctuation is a token too
    assert_user_error(invoke("next", "   ", "--model", model_dir), "the prompt has no words")


def test_missing_model_is_a_clean_error(tmp_path):
    assert_user_error(invoke("generate", "the king", "--model", tmp_path / "nowhere"), "vocab.txt is missing")


def test_train_mini_then_use_the_model(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(CORPUS))
    out = tmp_path / "model"
    result = invoke("train-mini", "--corpus", corpus, "--out", out, "--steps", "6", "--batch-size", "4",
                    "--vocab", "40", "--n-embd", "8", "--n-head", "2", "--n-layer", "1", "--ctx", "8",
                    "--checkpoint-every", "3")
    assert result.exit_code == 0, result.output
    assert "done at step 6" in result.output
    meta = json.loads((out / "meta.json").read_text())
    assert meta["tokens_seen"] == 6 * 4 * 8 and meta["val_loss"] is not None
    assert load_mini_model(out).cfg.n_embd == 8
    resumed = invoke("train-mini", "--resume", tmp_path / "model.run" / "step-000003", "--out", tmp_path / "again")
    assert resumed.exit_code == 0, resumed.output
    assert "done at step 6" in resumed.output
    again = load_mini_model(tmp_path / "again").params["wte"]
    np.testing.assert_array_equal(again, load_mini_model(out).params["wte"])   # the same run, resumed


def test_train_mini_threads_become_the_row_groups_of_every_batch(tmp_path, monkeypatch):
    from transformer import parallel

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(CORPUS))
    seen, real = [], parallel.row_groups
    monkeypatch.setattr(parallel, "row_groups", lambda n, workers: seen.append(workers) or real(n, workers))
    result = invoke("train-mini", "--corpus", corpus, "--out", tmp_path / "model", "--steps", "2", "--batch-size", "4",
                    "--vocab", "40", "--n-embd", "8", "--n-head", "2", "--n-layer", "1", "--ctx", "8", "--threads", "3")
    assert result.exit_code == 0, result.output
    assert seen and set(seen) == {3}


def test_the_mini_space_is_w_e_without_specials(model_dir, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_DATA", str(model_dir.parent))
    space = load_space("mini")
    model = load_mini_model(model_dir)
    assert "<unk>" not in space and "." not in space and "king" in space
    np.testing.assert_array_equal(space["king"], model.params["wte"][model.tokenizer.token_to_id["king"]])
    assert len(mini_space(model, keep_all_tokens=True)) == model.cfg.vocab_size - 3


def test_every_model_command_has_an_example():
    for name in ("params", "train-mini", "next", "generate"):
        assert "Example:" in invoke(name, "--help").output


def test_the_shipped_mini_model_loads_and_generates_deterministically(monkeypatch):
    monkeypatch.delenv("EMBEDSPACE_DATA", raising=False)
    model = load_mini_model()
    assert model.cfg.vocab_size == model.tokenizer.vocab_size == 8192
    assert model.params["wte"].dtype == np.float32
    first = invoke("generate", "the king said", "--seed", "7", "--max-tokens", "12")
    assert first.exit_code == 0 and first.output == invoke("generate", "the king said", "--seed", "7",
                                                           "--max-tokens", "12").output
    assert len(first.output.split()) > 6
    space = load_space("mini")
    assert space.dim == 128 and "queen" in space and "<eos>" not in space
