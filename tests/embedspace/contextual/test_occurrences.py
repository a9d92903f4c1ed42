"""Words from tokens, target keys and the corpus plan, checked against the encoders' own word_positions."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from embedspace.contextual.encoders import load_encoder
from embedspace.contextual.occurrences import (
    LineChooser,
    line_rank,
    plan_corpus,
    read_lines_at,
    specials_of,
    surface_forms,
    target_keys,
    word_spans,
)
from embedspace.errors import FormatError, InvalidInput

TINY = Path(__file__).parents[2] / "fixtures" / "corpus" / "tiny.txt"
SENTENCES = ["Tokenization is unbelievably fun, isn't it?", "The river bank flooded; the Bank of England didn't.",
             "A naïve café owner's model-train set", "Hello"]


@pytest.fixture(scope="module")
def minilm_encoder():
    return load_encoder("minilm")


@pytest.fixture(scope="module")
def mini_encoder():
    return load_encoder("mini")


@pytest.mark.parametrize("name", ["minilm", "mini"])
def test_word_spans_give_the_positions_word_positions_finds(name):
    encoder = load_encoder(name)
    specials = specials_of(encoder)
    for sentence in SENTENCES:
        spans = word_spans(encoder.tokenize(sentence), specials)
        first: dict[str, list[int]] = {}
        for word, start, stop in spans:
            first.setdefault(word, list(range(start, stop)))
        for word, positions in first.items():
            if word in ("[UNK]", "<unk>"):
                continue
            assert encoder.word_positions(sentence, word) == positions, (sentence, word)


def test_word_spans_join_pieces_and_skip_specials(minilm_encoder):
    spans = word_spans(minilm_encoder.tokenize("Tokenization works"), specials_of(minilm_encoder))
    assert spans == [("tokenization", 1, 3), ("works", 3, 4)]


def test_target_keys_follow_the_models_normalisation(minilm_encoder, mini_encoder):
    assert target_keys(minilm_encoder, ["Café", "BANK", "bank"]) == ["cafe", "bank"]
    assert target_keys(mini_encoder, ["King's", "bank"]) == ["king's", "bank"]


@pytest.mark.parametrize("word", ["New York", "don't", "", "!"])
def test_a_target_must_be_one_word_for_minilm(minilm_encoder, word):
    with pytest.raises(InvalidInput, match="not one word|unknown"):
        target_keys(minilm_encoder, [word])


def test_a_word_the_mini_model_does_not_know_is_refused(mini_encoder):
    with pytest.raises(InvalidInput, match="unknown to 'mini'"):
        target_keys(mini_encoder, ["zqxjkvb"])


@pytest.mark.parametrize("name", ["minilm", "mini"])
def test_surface_forms_hold_every_word_the_tokenizer_finds(name):
    encoder = load_encoder(name)
    specials = specials_of(encoder)
    for sentence in SENTENCES + TINY.read_text().splitlines():
        words = {w for w, _, _ in word_spans(encoder.tokenize(sentence), specials)
                 if any(c.isalnum() for c in w) and w not in ("[UNK]", "<unk>")}
        assert words <= surface_forms(sentence), sentence


def test_line_chooser_keeps_the_lowest_ranks_like_a_sort():
    rng = np.random.default_rng(0)
    offers = [(int(t), int(r), line) for line, (t, r) in enumerate(zip(rng.integers(0, 3, 200),
                                                                           rng.integers(0, 10**9, 200)))]
    chooser = LineChooser(3, per_word=7)
    for target, rank, line in offers:
        chooser.offer(target, rank, line, offset=line * 10)
    plan = chooser.plan(corpus_lines=200, sha256="x")
    for target in range(3):
        expected = sorted(line for _, line in sorted((r, line) for t, r, line in offers if t == target)[:7])
        chosen = [int(line) for i, line in enumerate(plan.lines) if target in plan.words_of(i)]
        assert chosen == expected
        assert plan.found[target] == sum(t == target for t, _, _ in offers)
    np.testing.assert_array_equal(plan.offsets, plan.lines * 10)
    assert list(plan.lines) == sorted(plan.lines)


def test_plan_caps_each_word_and_reads_back_the_chosen_lines(mini_encoder):
    plan = plan_corpus(TINY, mini_encoder, ["bank", "king"], per_word=4, max_tokens=32, seed=3)
    lines = TINY.read_text().splitlines()
    texts = read_lines_at(TINY, plan.offsets)
    assert texts == [lines[n] for n in plan.lines]
    for target, word in enumerate(["bank", "king"]):
        chosen = [texts[i] for i in range(len(texts)) if target in plan.words_of(i)]
        assert len(chosen) == min(4, plan.found[target])
        assert all(word in text.split() for text in chosen)
    holding = [n for n, line in enumerate(lines) if "bank" in line.split() and len(line.split()) < 32]
    assert plan.found[0] == len(holding)  # the 80-word line is too long to be usable
    best = sorted(holding, key=lambda n: line_rank(3, n))[:4]
    assert sorted(best) == [int(plan.lines[i]) for i in range(len(texts)) if 0 in plan.words_of(i)]
    assert plan.corpus_lines == len(lines)


def test_plan_keeps_every_line_of_a_rare_word_and_depends_on_the_seed(mini_encoder):
    a = plan_corpus(TINY, mini_encoder, ["light", "bank"], per_word=3, max_tokens=32, seed=0)
    b = plan_corpus(TINY, mini_encoder, ["light", "bank"], per_word=3, max_tokens=32, seed=1)
    light_lines = [n for n, line in enumerate(TINY.read_text().splitlines()) if "light" in line.split()]
    for plan in (a, b):
        assert [int(plan.lines[i]) for i in range(len(plan.lines)) if 0 in plan.words_of(i)] == light_lines
    assert list(a.lines) != list(b.lines)


def test_plan_names_a_line_that_is_not_utf8(tmp_path, mini_encoder):
    path = tmp_path / "bad.txt"
    shutil.copy(TINY, path)
    with open(path, "ab") as handle:
        handle.write(b"the bank \xff\xfe\n")
    with pytest.raises(FormatError, match="line 19"):
        plan_corpus(path, mini_encoder, ["bank"], per_word=2, max_tokens=32)
