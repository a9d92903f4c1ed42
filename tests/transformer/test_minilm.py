"""Pretrained all-MiniLM-L6-v2 in our numpy transformer, against PyTorch + transformers' own outputs.

The reference (tests/fixtures/minilm_reference.npz) was written once by
tests/fixtures/make_minilm_reference.py with torch and transformers; neither is needed here.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from embedspace.contextual.encoders import check_layer, load_encoder
from runtime.threads import Workers
from transformer.checkpoint import flatten
from transformer.config import PRESETS
from transformer.errors import UnsupportedCheckpoint
from transformer.minilm_files import ChecksumMismatch, ModelNotFound, find_minilm_dir
from transformer.model import forward, init_params
from transformer.parallel import ParallelModel
from transformer.pretrained import IGNORED, config_from_json, load_minilm, name_map, params_from_state
from transformer.wordpiece import WordPiece

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "minilm_reference.npz"
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def folder() -> Path:
    try:
        return find_minilm_dir()
    except ModelNotFound as error:
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def reference() -> dict:
    with np.load(REFERENCE) as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="module")
def minilm(encoder):
    """(cfg, params) as :func:`load_minilm` gives them (the encoder loaded them so)."""
    return encoder.cfg, encoder.params


@pytest.fixture(scope="module")
def fresh(minilm):
    """Freshly initialised params of the same config: the structure forward expects."""
    return init_params(minilm[0])


@pytest.fixture(scope="module")
def ours(minilm, reference):
    """Our forward on the reference batch (padded, with its attention mask)."""
    cfg, params = minilm
    _, cache = forward(params, reference["input_ids"].astype(np.int64), cfg,
                       attention_mask=reference["attention_mask"])
    return cache


@pytest.fixture(scope="module")
def encoder(folder):
    with load_encoder("minilm") as encoder:
        yield encoder


# -- loading: config, name map, checksum ---------------------------------------------------------------

@pytest.mark.minilm
def test_config_json_gives_the_minilm_preset(folder):
    assert config_from_json(folder / "config.json") == PRESETS["minilm"]


@pytest.mark.minilm
def test_name_map_covers_every_checkpoint_tensor_and_every_param(folder, minilm, fresh):
    from safetensors import safe_open

    cfg, params = minilm
    with safe_open(folder / "model.safetensors", "np") as handle:
        keys = set(handle.keys())
    mapped = {name for names in name_map(cfg.n_layer).values() for name in names}
    assert keys == mapped | set(IGNORED)
    assert set(name_map(cfg.n_layer)) == set(flatten(params)) == set(flatten(fresh))


@pytest.mark.minilm
def test_loaded_params_are_float32_and_shaped_like_fresh_ones(minilm, fresh):
    ours, theirs = flatten(minilm[1]), flatten(fresh)
    for path, tensor in ours.items():
        assert tensor.dtype == np.float32 and tensor.shape == theirs[path].shape, path


TINY = {"vocab_size": 10, "max_position_embeddings": 6, "hidden_size": 4, "num_attention_heads": 2,
        "num_hidden_layers": 1, "intermediate_size": 8, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
        "model_type": "bert", "hidden_act": "gelu", "position_embedding_type": "absolute"}


def checkpoint_shape(name: str, c: int = 4, f: int = 8) -> tuple[int, ...]:
    """The shape a tensor has in a BERT checkpoint (Linear weights [out, in]) of width c and MLP width f."""
    tables = {"embeddings.word_embeddings.weight": (10, c), "embeddings.position_embeddings.weight": (6, c),
              "embeddings.token_type_embeddings.weight": (2, c)}
    if name in tables:
        return tables[name]
    if "LayerNorm" in name or name.endswith("bias"):
        return (f,) if "intermediate" in name else (c,)
    if "intermediate" in name:
        return (f, c)
    return (c, f) if name.endswith("layer.0.output.dense.weight") else (c, c)


def tiny_state(prefix: str = "", f: int = 8) -> dict[str, np.ndarray]:
    """A random one-block BERT state dict in the checkpoint's own layout, with its unused pooler."""
    rng = np.random.default_rng(0)
    names = [n for names in name_map(1).values() for n in names] + ["pooler.dense.weight"]
    return {prefix + n: rng.standard_normal(checkpoint_shape(n, f=f)).astype(np.float32) for n in names}


def tiny_config():
    return dataclasses.replace(PRESETS["minilm"], vocab_size=10, n_ctx=6, n_embd=4, n_head=2, n_layer=1, n_inner=8)


def test_linear_weights_are_transposed_and_q_k_v_concatenated_in_order():
    state = tiny_state()
    params = params_from_state(state, tiny_config())
    c_attn = params["blocks"][0]["attn"]["c_attn"]
    for k, part in enumerate(("query", "key", "value")):
        np.testing.assert_array_equal(c_attn["w"][:, 4 * k:4 * (k + 1)],
                                      state[f"encoder.layer.0.attention.self.{part}.weight"].T)
        np.testing.assert_array_equal(c_attn["b"][4 * k:4 * (k + 1)], state[f"encoder.layer.0.attention.self.{part}.bias"])
    np.testing.assert_array_equal(params["blocks"][0]["mlp"]["c_fc"]["w"], state["encoder.layer.0.intermediate.dense.weight"].T)
    np.testing.assert_array_equal(params["wte"], state["embeddings.word_embeddings.weight"])  # tables keep [rows, C]
    np.testing.assert_array_equal(params["blocks"][0]["ln_2"]["g"], state["encoder.layer.0.output.LayerNorm.weight"])


def test_a_bert_prefix_is_accepted():
    plain = params_from_state(tiny_state(), tiny_config())
    prefixed = params_from_state(tiny_state(prefix="bert."), tiny_config())
    np.testing.assert_array_equal(plain["blocks"][0]["attn"]["c_proj"]["w"], prefixed["blocks"][0]["attn"]["c_proj"]["w"])


def test_missing_and_unknown_tensors_are_named():
    state = tiny_state()
    del state["encoder.layer.0.attention.self.key.bias"]
    state["cls.predictions.bias"] = np.zeros(10, np.float32)   # a masked-LM head we have no place for
    with pytest.raises(UnsupportedCheckpoint, match=r"missing \['encoder.layer.0.attention.self.key.bias'\].*cls.predictions.bias"):
        params_from_state(state, tiny_config())


def test_a_tensor_of_the_wrong_shape_is_named():
    with pytest.raises(UnsupportedCheckpoint, match=r"blocks.0.mlp.c_fc.w has shape \(4, 6\)"):
        params_from_state(tiny_state(f=6), tiny_config())


def test_a_config_we_cannot_run_is_refused(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "bert", "hidden_act": "relu"}))
    with pytest.raises(UnsupportedCheckpoint, match="hidden_act is 'relu'"):
        config_from_json(path)
    path.write_text(json.dumps({k: v for k, v in TINY.items() if k != "hidden_size"}))
    with pytest.raises(UnsupportedCheckpoint, match="lacks the field.s. hidden_size"):
        config_from_json(path)


def fake_folder(tmp_path: Path) -> Path:
    """A model folder holding a tiny valid checkpoint and its config.json: not the official files."""
    from safetensors.numpy import save_file

    save_file(tiny_state(), tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text(json.dumps(TINY))
    for name in ("tokenizer.json", "vocab.txt"):
        (tmp_path / name).touch()
    return tmp_path


def test_a_checkpoint_with_the_wrong_checksum_is_refused(tmp_path):
    with pytest.raises(ChecksumMismatch, match="not the official"):
        load_minilm(fake_folder(tmp_path))


def test_without_verification_a_checkpoint_loads_through_the_name_map_and_runs(tmp_path):
    cfg, params = load_minilm(fake_folder(tmp_path), verify=False)
    assert cfg == tiny_config()
    out, cache = forward(params, np.array([[1, 2, 3]]), cfg)
    assert out.shape == (1, 3, 4) and np.isfinite(out).all() and len(cache.hidden_states) == 2


def test_a_folder_without_the_model_files_is_named(tmp_path):
    with pytest.raises(ModelNotFound, match="model.safetensors"):
        load_minilm(tmp_path)


# -- parity with PyTorch + transformers ----------------------------------------------------------------

@pytest.mark.minilm
def test_every_layers_hidden_states_match_the_reference(ours, reference):
    real = reference["attention_mask"].astype(bool)                     # padded positions are not compared
    assert len(ours.hidden_states) == reference["hidden_states"].shape[0] == 7
    for layer, hidden in enumerate(ours.hidden_states):
        diff = np.abs(hidden[real] - reference["hidden_states"][layer][real]).max()
        assert diff <= TOLERANCE, f"layer {layer}: max |difference| {diff:.2e}"


@pytest.mark.minilm
def test_every_layers_attentions_match_the_reference(ours, reference):
    real = reference["attention_mask"].astype(bool)
    for layer, probs in enumerate(ours.attentions):                     # [B, H, T, T]
        diff = np.abs(probs - reference["attentions"][layer]).transpose(0, 2, 1, 3)[real].max()
        assert diff <= TOLERANCE, f"layer {layer}: max |difference| {diff:.2e}"


@pytest.mark.minilm
def test_one_sentence_split_over_threads_matches_the_reference(minilm, reference):
    cfg, params = minilm
    with Workers(2) as workers:
        model = ParallelModel(params, cfg, workers)
        splits = [model.infer(reference["input_ids"][k, :int(mask.sum())].astype(np.int64))  # heads, MLP columns
                  for k, mask in enumerate(reference["attention_mask"])]
    for k, (mask, split) in enumerate(zip(reference["attention_mask"], splits, strict=True)):
        n = int(mask.sum())
        for layer, hidden in enumerate(split.hidden_states):
            assert np.abs(hidden[0] - reference["hidden_states"][layer, k, :n]).max() <= TOLERANCE, (k, layer)
        for layer, probs in enumerate(split.attentions):
            assert np.abs(probs[0] - reference["attentions"][layer, k, :, :n, :n]).max() <= TOLERANCE, (k, layer)


@pytest.mark.minilm
def test_sentence_embeddings_match_the_reference(encoder, reference):
    ours = encoder.sentence_embeddings(list(reference["sentences"]))
    assert np.abs(ours - reference["sentence_embeddings"]).max() <= TOLERANCE
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-6)


@pytest.mark.minilm
def test_wordpiece_ids_and_tokens_equal_the_reference_tokenizers(folder, reference):
    batch = WordPiece.from_folder(folder).encode_batch(list(reference["sentences"]))
    np.testing.assert_array_equal(batch.ids, reference["input_ids"])
    np.testing.assert_array_equal(batch.attention_mask, reference["attention_mask"])
    for enc, tokens, n in zip(batch.encodings, reference["tokens"], batch.lengths):
        assert list(enc.tokens) == list(tokens[:n])


# -- WordPiece ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wordpiece(folder) -> WordPiece:
    return WordPiece.from_folder(folder)


@pytest.mark.minilm
def test_word_positions_find_every_piece_of_the_first_whole_occurrence(wordpiece):
    text = "Unbelievably, models and a model are unbelievably different."
    tokens = wordpiece.tokens(text)
    where = wordpiece.word_positions(text, "unbelievably")
    assert "".join(tokens[p].removeprefix("##") for p in where) == "unbelievably"
    assert where[0] == 1 and len(where) > 1
    model = wordpiece.word_positions(text, "MODEL")
    assert [tokens[p] for p in model] == ["model"] and "models" in tokens[:model[0]]  # not in "models"
    assert wordpiece.word_positions(text, "a model") == [model[0] - 1, model[0]]


@pytest.mark.minilm
def test_a_word_missing_from_the_text_is_named_with_the_texts_words(wordpiece):
    with pytest.raises(ValueError, match=r"'model' is not a word of the text 'Fashion models\.' \(its words: fashion, models, \.\)"):
        wordpiece.word_positions("Fashion models.", "model")


@pytest.mark.minilm
def test_long_texts_are_truncated_to_max_length(folder):
    wordpiece = WordPiece.from_folder(folder, max_length=8)
    tokens = wordpiece.tokens("one two three four five six seven eight nine ten")
    assert len(tokens) == 8 and tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"


# -- the Encoder facade ------------------------------------------------------------------------------------

@pytest.mark.minilm
def test_run_gives_unpadded_layers_equal_to_the_reference(encoder, reference):
    runs = encoder.run(list(reference["sentences"]), batch_size=2)      # batches differ from the reference's
    for k, run in enumerate(runs):
        n = int(reference["attention_mask"][k].sum())
        assert run.hidden_states.shape == (7, n, 384) and run.attentions.shape == (6, 12, n, n)
        assert run.ids == reference["input_ids"][k, :n].tolist()
        assert np.abs(run.hidden_states - reference["hidden_states"][:, k, :n]).max() <= TOLERANCE
        np.testing.assert_allclose(run.attentions.sum(axis=-1), 1.0, atol=1e-5)


@pytest.mark.minilm
def test_static_vector_is_the_mean_of_the_words_w_e_rows(encoder):
    ids = encoder.tokenizer.pieces("unbelievably")
    assert len(ids) > 1
    np.testing.assert_allclose(encoder.static_vector("unbelievably"), encoder.params["wte"][ids].mean(axis=0))
    np.testing.assert_array_equal(encoder.static_vector("tower"), encoder.params["wte"][encoder.tokenizer.pieces("tower")[0]])


@pytest.mark.minilm
def test_attention_picks_a_block_and_head(encoder):
    tokens, weights = encoder.attention("The car is blue", layer=-1, head=3)
    run = encoder.run(["The car is blue"])[0]
    assert tokens == ["[CLS]", "the", "car", "is", "blue", "[SEP]"]
    np.testing.assert_array_equal(weights, run.attentions[5, 3])
    with pytest.raises(ValueError, match="layers 1..6"):
        encoder.attention("The car is blue", layer=0, head=0)
    with pytest.raises(ValueError, match="heads 0..11"):
        encoder.attention("The car is blue", layer=1, head=12)


def test_check_layer_counts_from_the_end_and_names_the_range():
    assert [check_layer(x, 6) for x in (0, 6, -1, -7)] == [0, 6, 6, 0]
    with pytest.raises(ValueError, match="layers 0..6"):
        check_layer(7, 6)


def test_an_unknown_model_name_is_refused():
    with pytest.raises(Exception, match="unknown model 'gpt5'"):
        load_encoder("gpt5")
