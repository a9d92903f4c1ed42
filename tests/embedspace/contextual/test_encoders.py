"""The Encoder facade on small random models with the word-level tokenizer (no pretrained weights needed)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from embedspace.contextual.encoders import Encoder, WordLevel, mean_pool
from embedspace.errors import UnknownKeyError
from embedspace.space import unit_rows
from transformer.config import TransformerConfig
from transformer.model import init_params
from transformer.word_tokenizer import WordTokenizer

LINES = ["the cat sat on the mat.", "a dog sat on a log!", "the dog saw a cat on the log."]
GPT = TransformerConfig(vocab_size=14, n_ctx=10, n_embd=8, n_head=2, n_layer=2)
BERT = dataclasses.replace(GPT, causal=False, norm="post", gelu="erf", tied_embeddings=False, n_token_types=2,
                           norm_eps=1e-12, lm_head=False)


def encoder(cfg: TransformerConfig = GPT) -> Encoder:
    tokenizer = WordTokenizer.build(LINES, cfg.vocab_size)
    assert tokenizer.vocab_size == cfg.vocab_size
    return Encoder("mini", cfg, init_params(cfg, seed=1), WordLevel(tokenizer, cfg.n_ctx))


@pytest.mark.parametrize("cfg", [GPT, BERT], ids=["causal", "bidirectional"])
def test_run_in_a_padded_batch_equals_each_text_alone(cfg):
    enc = encoder(cfg)
    texts = ["the cat sat", "a dog saw the cat on the log", "the mat"]
    together = enc.run(texts, batch_size=3)
    for text, run in zip(texts, together):
        alone = enc.run([text])[0]
        assert run.tokens == alone.tokens == enc.tokenize(text)
        assert run.hidden_states.shape == (cfg.n_layer + 1, len(run.tokens), cfg.n_embd)
        np.testing.assert_allclose(run.hidden_states, alone.hidden_states, atol=1e-5)
        np.testing.assert_allclose(run.attentions, alone.attentions, atol=1e-6)


def test_a_causal_encoder_ignores_the_right_context():
    enc = encoder(GPT)
    short, long = enc.run(["the dog sat", "the dog sat on the mat"])
    np.testing.assert_allclose(long.hidden_states[:, :4], short.hidden_states, atol=1e-5)
    assert enc.causal and np.triu(long.attentions[0, 0], k=1).max() == 0


def test_sentence_embeddings_are_unit_mean_pooled_last_layers_in_input_order():
    enc = encoder(BERT)
    texts = ["a dog sat on a log", "the cat", "the dog saw a cat"]     # lengths out of order: batches sort them
    got = enc.sentence_embeddings(texts, batch_size=2)
    expected = np.stack([run.hidden_states[-1].mean(axis=0) for run in enc.run(texts)])
    np.testing.assert_allclose(got, expected / np.linalg.norm(expected, axis=1, keepdims=True), atol=1e-5)


def test_progress_is_told_every_batch():
    seen = []
    encoder().sentence_embeddings(["the cat"] * 5, batch_size=2, progress=seen.append)
    assert seen == [2, 2, 1]


def test_word_level_tokens_start_with_bos_and_name_unknown_words():
    enc = encoder()
    assert enc.tokenize("The cat ate.") == ["<bos>", "the", "cat", "<unk>", "."]
    assert enc.word_positions("a dog sat on the mat", "sat on") == [3, 4]
    with pytest.raises(UnknownKeyError, match="'cta' is not in the vocabulary of space 'mini'; did you mean: cat"):
        enc.static_vector("cta")
    with pytest.raises(ValueError, match="'log' is not a word of the text 'the cat'"):
        enc.word_positions("the cat", "log")


def test_static_vector_is_the_words_w_e_row():
    enc = encoder()
    np.testing.assert_array_equal(enc.static_vector("dog"), enc.params["wte"][enc.tokenizer.tokenizer.token_to_id["dog"]])


def test_texts_longer_than_the_context_keep_their_start():
    enc = encoder()
    tokens = enc.tokenize("the cat " * 20)
    assert len(tokens) == GPT.n_ctx and tokens[:3] == ["<bos>", "the", "cat"]


def test_a_single_string_or_nothing_is_refused():
    with pytest.raises(TypeError, match="list of texts"):
        encoder().run("the cat")
    with pytest.raises(ValueError, match="no texts"):
        encoder().sentence_embeddings([])


def test_mean_pool_ignores_padding_and_unit_rows_are_unit():
    hidden = np.arange(12, dtype=np.float32).reshape(2, 3, 2)          # [B, T, C]
    pooled = mean_pool(hidden, np.array([[1, 1, 0], [1, 1, 1]]))
    np.testing.assert_allclose(pooled, [[1, 2], [8, 9]])
    np.testing.assert_allclose(np.linalg.norm(unit_rows(pooled), axis=1), 1.0, rtol=1e-6)


def test_the_mini_encoder_loads_a_model_folder(tmp_path):
    from embedspace.contextual.encoders import mini_encoder
    from transformer.checkpoint import save_model

    tokenizer = WordTokenizer.build(LINES, GPT.vocab_size)
    params = init_params(GPT, seed=3)
    save_model(tmp_path / "mini", params, GPT, extra_files={"vocab.txt": "\n".join(tokenizer.id_to_token) + "\n"})
    enc = mini_encoder(tmp_path / "mini")
    assert enc.name == str(tmp_path / "mini") and enc.causal and enc.n_layer == GPT.n_layer
    assert enc.tokenize("the dog") == ["<bos>", "the", "dog"]
    np.testing.assert_array_equal(enc.static_vector("dog"), params["wte"][tokenizer.token_to_id["dog"]])


def test_an_encoder_owns_its_threads_and_close_stops_them():
    enc = encoder(GPT)
    assert enc.model.workers is enc.workers and enc.model.params is enc.params
    ids = enc.encode(["the cat sat on the mat"]).ids
    split = enc.model.infer(ids, workers=2)                           # one text: heads and MLP columns split
    np.testing.assert_allclose(split.hidden_states[-1], enc.forward(enc.encode(["the cat sat on the mat"])).hidden_states[-1],
                               atol=1e-6)
    with enc:
        assert repr(enc.workers).endswith("running)")
    assert repr(enc.workers).endswith("idle)")                        # close() stopped the pool's threads


def test_load_encoder_loads_anew_each_call_the_caller_keeps_it(monkeypatch):
    from embedspace.contextual import encoders

    monkeypatch.setattr(encoders, "mini_encoder", lambda *args: encoder(GPT))
    first, second = encoders.load_encoder("mini"), encoders.load_encoder("mini")
    assert first is not second                                        # no module-level cache
    with pytest.raises(Exception, match="unknown model 'gpt5'"):
        encoders.load_encoder("gpt5")


def test_the_static_space_is_the_models_raw_w_e(tmp_path, monkeypatch):
    from embedspace.contextual.encoders import load_encoder, mini_encoder
    from transformer.checkpoint import save_model

    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path / "cache"))
    tokenizer = WordTokenizer.build(LINES, GPT.vocab_size)
    params = init_params(GPT, seed=4)
    save_model(tmp_path / "own", params, GPT, extra_files={"vocab.txt": "\n".join(tokenizer.id_to_token) + "\n"})
    own = mini_encoder(tmp_path / "own", threads=1).space
    assert own.postprocessing == "" and "dog" in own.index_to_key
    np.testing.assert_array_equal(own["dog"], params["wte"][tokenizer.token_to_id["dog"]])
    with load_encoder("mini", threads=1) as mini:
        assert mini.workers.n == 1 and mini.space.postprocessing == ""  # not mini's default all-but-the-top
        np.testing.assert_array_equal(mini.space["king"], mini.static_vector("king"))


@pytest.mark.minilm
def test_minilm_compares_with_its_token_embeddings_not_the_open_vocabulary_space():
    from embedspace.contextual.encoders import load_encoder

    with load_encoder("minilm") as minilm:
        space = minilm.space
        assert space.name == "minilm-we" and len(space) == 22_501 and space.postprocessing == ""
        np.testing.assert_array_equal(space["tower"], minilm.static_vector("tower"))


def test_an_encoder_made_without_a_static_space_says_so():
    from embedspace.errors import EmbedspaceError

    with pytest.raises(EmbedspaceError, match="made without a static space"):
        _ = encoder(GPT).space
