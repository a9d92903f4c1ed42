"""The gensim word2vec wrapper, the shipped format, and the shipped data/word2vec space itself."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import cli
from embedspace import Space
from embedspace.training.word2vec import (
    analogy_accuracy,
    load_shipped,
    save_shipped,
    to_shipped,
    train_model,
    train_word2vec,
)

SHIPPED = Path(__file__).resolve().parents[3] / "data" / "word2vec"

SENTENCES = [["the", "king", "rules", "the", "land"], ["the", "queen", "rules", "the", "land"],
             ["a", "man", "walks"], ["a", "woman", "walks"]] * 25
TINY = {"vector_size": 8, "min_count": 1, "epochs": 3, "workers": 1, "seed": 3}


def test_train_word2vec_gives_gensims_vectors_in_frequency_order():
    from gensim.models import Word2Vec

    space = train_word2vec(SENTENCES, **TINY)
    reference = Word2Vec(SENTENCES, sg=1, window=5, negative=5, sample=1e-3, **TINY)
    assert space.index_to_key == reference.wv.index_to_key
    assert space.index_to_key[0] == "the"
    np.testing.assert_array_equal(space.vectors, reference.wv.vectors)


def test_train_model_reads_a_token_file_and_reports_each_epoch(tmp_path):
    path = tmp_path / "tokens.txt"
    path.write_text("\n".join(" ".join(s) for s in SENTENCES) + "\n", encoding="utf-8")
    epochs = []
    model = train_model(path, progress=lambda done, total: epochs.append((done, total)), **TINY)
    assert epochs == [(1, 3), (2, 3), (3, 3)]
    assert model.corpus_total_words == sum(len(s) for s in SENTENCES)
    assert sorted(model.wv.index_to_key) == sorted({w for s in SENTENCES for w in s})


def test_train_model_names_a_missing_corpus_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.txt"):
        train_model(tmp_path / "nothing.txt")


def test_shipped_format_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    space = Space([f"w{i}" for i in range(50)], rng.normal(size=(50, 6)).astype(np.float32))
    shipped = to_shipped(space, 40)
    save_shipped(shipped, tmp_path / "out", {"note": "test"})
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["meta.json", "vectors.npy", "vocab.txt"]
    assert np.load(tmp_path / "out" / "vectors.npy").dtype == np.float16
    back = load_shipped(tmp_path / "out")
    assert back.index_to_key == space.index_to_key[:40]
    assert back.vectors.dtype == np.float32
    np.testing.assert_array_equal(back.vectors, space.vectors[:40].astype(np.float16).astype(np.float32))
    np.testing.assert_allclose(back.vectors, space.vectors[:40], rtol=1e-3, atol=1e-4)
    meta = json.loads((tmp_path / "out" / "meta.json").read_text(encoding="utf-8"))
    assert meta == {"note": "test", "vocabulary_size": 40, "dims": 6}


def test_save_shipped_refuses_what_the_format_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="float16"):
        save_shipped(Space(["a"], np.array([[1e6]], dtype=np.float32)), tmp_path, {})
    with pytest.raises(ValueError, match="whitespace"):
        save_shipped(Space(["new york"], np.ones((1, 2), dtype=np.float32)), tmp_path, {})
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_analogy_accuracy_matches_gensims_evaluation(tmp_path):
    # royal/common x male/female, plus two unrelated words; one question uses an unknown word
    keys = ["king", "queen", "man", "woman", "prince", "princess", "apple", "stone"]
    vectors = np.array([[1, 1, 0, 0], [1, -1, 0, 0], [0, 1, 0, 0], [0, -1, 0, 0], [1, 1, 1, 0],
                        [1, -1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=np.float32)
    space = Space(keys, vectors)
    questions = tmp_path / "questions.txt"
    questions.write_text(": family\nman woman king queen\nwoman man queen king\nman woman prince princess\n"
                         ": nonsense\napple stone king queen\nman woman uncle aunt\n", encoding="utf-8")
    result = analogy_accuracy(space, questions, restrict_vocab=8)
    score, sections = space.to_keyed_vectors().evaluate_word_analogies(str(questions), restrict_vocab=8)
    total = sections[-1]
    assert result["accuracy"] == pytest.approx(score)
    assert result["correct"] == len(total["correct"])
    assert result["covered"] == len(total["correct"]) + len(total["incorrect"]) == 4
    assert result["sections"] == {"family": 1.0, "nonsense": 0.0}
    assert result["correct"] == 3


def test_cli_train_word2vec_writes_a_loadable_space(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s).capitalize() + "." for s in SENTENCES) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["train-word2vec", str(corpus), str(tmp_path / "w2v"), "--dims", "8",
                                      "--min-count", "1", "--epochs", "2", "--workers", "1", "--limit", "5"])
    assert result.exit_code == 0, result.output
    space = load_shipped(tmp_path / "w2v")
    assert (len(space), space.dim) == (5, 8)
    assert space.index_to_key[0] == "the"
    meta = json.loads((tmp_path / "w2v" / "meta.json").read_text(encoding="utf-8"))
    assert meta["corpus_tokens"] == sum(len(s) for s in SENTENCES)
    assert meta["params"]["epochs"] == 2 and meta["params"]["sg"] == 1


def test_cli_train_word2vec_help_has_an_example():
    result = CliRunner().invoke(cli, ["train-word2vec", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output


# -- the shipped space ----------------------------------------------------------------------------------

needs_shipped = pytest.mark.skipif(not (SHIPPED / "vectors.npy").is_file(), reason="data/word2vec not built")


@needs_shipped
def test_shipped_space_is_small_and_consistent_with_its_meta():
    assert sum(p.stat().st_size for p in SHIPPED.iterdir()) <= 15_000_000
    space = load_shipped(SHIPPED)
    meta = json.loads((SHIPPED / "meta.json").read_text(encoding="utf-8"))
    assert (len(space), space.dim) == (meta["vocabulary_size"], meta["dims"])
    assert meta["evaluation"]["accuracy"] >= 0.30
    assert np.isfinite(space.vectors).all()


@needs_shipped
def test_shipped_space_answers_king_man_woman_with_queen():
    kv = load_shipped(SHIPPED).to_keyed_vectors()
    top5 = [key for key, _ in kv.most_similar(positive=["king", "woman"], negative=["man"], topn=5)]
    assert "queen" in top5


@needs_shipped
def test_shipped_accuracy_on_one_section_is_what_meta_records(tmp_path):
    from gensim.test.utils import datapath

    lines = Path(datapath("questions-words.txt")).read_text(encoding="utf-8").splitlines()
    start = lines.index(": family")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(":"))
    family = tmp_path / "family.txt"
    family.write_text("\n".join(lines[start:end]) + "\n", encoding="utf-8")
    meta = json.loads((SHIPPED / "meta.json").read_text(encoding="utf-8"))
    result = analogy_accuracy(load_shipped(SHIPPED), family, restrict_vocab=30000)
    assert round(result["accuracy"], 4) == meta["evaluation"]["sections"]["family"]


def test_a_seeded_one_worker_training_is_the_same_in_every_process():
    """gensim 4 seeds its vectors from numpy's generator, not Python's salted string hash: no PYTHONHASHSEED needed."""
    import os
    import subprocess
    import sys

    script = ("import hashlib\nfrom embedspace.training.word2vec import train_word2vec\n"
              f"space = train_word2vec({SENTENCES[:4]!r} * 25, **{TINY!r})\n"
              "print(hashlib.sha256(space.vectors.tobytes()).hexdigest(), space.index_to_key)")
    runs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(runs) == 1 and "the" in runs.pop()
