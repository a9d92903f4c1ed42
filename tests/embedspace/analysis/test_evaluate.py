"""Evaluation: analogy and similarity sets scored exactly as gensim scores them."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from gensim.test.utils import datapath

from embedspace.analysis.evaluate import evaluate_analogies, evaluate_similarity, read_analogies
from embedspace.errors import FormatError
from embedspace.space import Space
from runtime.threads import limit_threads

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")
ROOT = Path(__file__).resolve().parents[3]
SAMPLE_EVERY = 40  # every 40th question of questions-words.txt: 489 questions in all 14 sections


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory) -> Path:
    """A fixed sample of questions-words.txt, keeping every section header."""
    lines, count = [], 0
    for line in Path(datapath("questions-words.txt")).read_text().splitlines():
        if line.startswith(":"):
            lines.append(line)
        else:
            if count % SAMPLE_EVERY == 0:
                lines.append(line)
            count += 1
    path = tmp_path_factory.mktemp("analogies") / "sample.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def assert_equals_gensim(space: Space, path: Path, **options) -> dict:
    """Our 3CosAdd sections equal gensim's evaluate_word_analogies, question by question."""
    ours = evaluate_analogies(space, path, **options)
    with limit_threads(1):
        score, sections = space.to_keyed_vectors().evaluate_word_analogies(str(path), **options)
    result = ours["add"]
    assert [s.name for s in result.sections] + [result.total.name] == [s["section"] for s in sections]
    for section, theirs in zip(result.sections + [result.total], sections):
        assert section.correct == theirs["correct"], section.name
        assert section.incorrect == theirs["incorrect"], section.name
    assert result.accuracy == score
    return ours


def gensim_prediction(kv, question, method: str, restrict_vocab: int | None = None) -> str:
    """gensim's answer to one question, as evaluate_word_analogies picks it (all keys here are lowercase)."""
    a, b, c = (w.lower() for w in (question.a, question.b, question.c))
    if method == "add":
        answers = kv.most_similar(positive=[b, c], negative=[a], topn=5, restrict_vocab=restrict_vocab)
    else:
        answers = kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=5)
    return answers[0][0]


@pytest.mark.minilm
def test_minilm_3cosadd_equals_gensim_question_by_question(minilm, sample_file):
    ours = assert_equals_gensim(minilm, sample_file)
    kv = minilm.to_keyed_vectors()
    questions = {q.line: q for q in read_analogies(sample_file)}
    evaluated = [line for line, key in ours["add"].predictions.items() if key is not None]
    assert len(evaluated) > 250
    with limit_threads(1):
        for line in evaluated[::6]:  # the predicted words themselves, for both methods
            for method in ("add", "mul"):
                assert ours[method].predictions[line] == gensim_prediction(kv, questions[line], method), line


@pytest.mark.skipif(not (ROOT / "data" / "word2vec").is_dir(),
                    reason="data/word2vec/ (the shipped word2vec space) has not been built yet")
def test_word2vec_3cosadd_equals_gensim(sample_file):
    from embedspace.catalog import load_space

    assert_equals_gensim(load_space("word2vec"), sample_file)


def variant_space() -> tuple[Space, list[str]]:
    """A space full of case variants (``word``, ``WORD``, ``Word``, ``wORD``, ``worD``).

    Half the words have variants close to them, so that for many questions five or more variants
    of the inputs outrank every other key and gensim's top-5 rule decides the answer.
    """
    rng = np.random.default_rng(7)
    base = ["".join(rng.choice(list("abcdefgh"), 4)) + str(i) for i in range(40)]
    keys, vectors = [], []
    for word in base:
        centre, spread = rng.standard_normal(64), rng.choice([0.05, 1.5])
        for variant in (word, word.upper(), word.capitalize(), word[0] + word[1:].upper(), word[:3] + word[3].upper() + word[4:]):
            keys.append(variant + str(len(keys)) if variant in keys else variant)
            vectors.append(centre + spread * rng.standard_normal(64))
    keys += [f"x{i}" for i in range(300)]
    vectors += list(rng.standard_normal((300, 64)))
    order = rng.permutation(len(keys))  # case variants at any frequency rank
    return Space([keys[i] for i in order], np.array(vectors, dtype=np.float32)[order]), base


def test_case_variants_and_gensims_top5_rule(tmp_path):
    space, base = variant_space()
    rng = np.random.default_rng(8)
    lines = [": variants"]
    for _ in range(300):
        words = [base[i] for i in rng.choice(len(base), 4, replace=False)]
        lines.append(" ".join(w.upper() if rng.random() < 0.3 else w for w in words))
    lines += [": unknown words", " ".join(base[:3]) + " nope", " ".join(base[:4])]
    path = tmp_path / "variants.txt"
    path.write_text("\n".join(lines) + "\n")
    result = assert_equals_gensim(space, path)["add"]
    assert result.oov == 1 and result.questions == 302
    answers = [key.upper() for key in result.predictions.values() if key]
    inputs = [tuple(line.upper().split()[:3]) for line in lines[1:301]]
    assert 0 < sum(a in q for a, q in zip(answers, inputs)) < 250  # some answers are variants of an input
    assert_equals_gensim(space, path, dummy4unknown=True)
    assert_equals_gensim(space, path, case_insensitive=False)
    assert_equals_gensim(space, path, restrict_vocab=150)


def test_3cosmul_predictions_equal_gensim_cosmul():
    rng = np.random.default_rng(2)
    keys = [f"w{i}" for i in range(400)]
    space = Space(keys, rng.standard_normal((400, 20)).astype(np.float32))
    lines = [": random"] + [" ".join(keys[j] for j in rng.choice(400, 4, replace=False)) for _ in range(60)]
    kv = space.to_keyed_vectors()
    questions = [line.split() for line in lines[1:]]
    result = evaluate_analogies_text(space, "\n".join(lines))
    for number, (a, b, c, _) in enumerate(questions, start=2):
        theirs = [k for k, _ in kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=1)]
        assert result["mul"].predictions[number] == theirs[0]


def evaluate_analogies_text(space: Space, text: str, **options) -> dict:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "questions.txt"
        path.write_text(text + "\n")
        return evaluate_analogies(space, path, **options)


def test_progress_reaches_the_total():
    space, base = variant_space()
    text = ": s\n" + "\n".join(" ".join(base[i:i + 4]) for i in range(30))
    calls = []
    evaluate_analogies_text(space, text, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1]
    assert all(d1 <= d2 for (d1, _), (d2, _) in itertools.pairwise(calls))


@pytest.mark.parametrize("text, line, fault", [
    (": s\nw1 w2 w3 w4\nw1 w2 w3\n", 3, "expected 4 words"),
    ("w1 w2 w3 w4\n", 1, "before the first ': section'"),
    (": s\n\nw1 w2 w3 w4 w5\n", 3, "expected 4 words"),
])
def test_malformed_analogy_lines_name_their_number(tmp_path, text, line, fault):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(FormatError, match=fault) as error:
        evaluate_analogies(variant_space()[0], path)
    assert error.value.line == line and f"line {line}" in str(error.value)


@pytest.mark.minilm
@pytest.mark.parametrize("name, file", [("simlex999", "simlex999.txt"), ("wordsim353", "wordsim353.tsv")])
def test_similarity_equals_gensim(minilm, name, file):
    kv = minilm.to_keyed_vectors()
    for dummy in (False, True):
        ours = evaluate_similarity(minilm, name, dummy4unknown=dummy)
        pearson, spearman, oov_percent = kv.evaluate_word_pairs(datapath(file), dummy4unknown=dummy)
        assert ours.pearson == pytest.approx(pearson[0], abs=1e-6)
        assert ours.spearman == pytest.approx(spearman[0], abs=1e-6)
        assert 100 * ours.oov_ratio == pytest.approx(oov_percent)


def test_similarity_bad_files(tmp_path):
    space, _ = variant_space()
    bad = tmp_path / "bad.tsv"
    bad.write_text("# header\nw1\tw2\t3.5\nw1\tw2\tlots\n")
    with pytest.raises(FormatError, match="line 3: the score 'lots' is not a number"):
        evaluate_similarity(space, bad)
    bad.write_text("w1\tw2\n")
    with pytest.raises(FormatError, match="line 1: expected 3 fields"):
        evaluate_similarity(space, bad)
    bad.write_text("nope\tnada\t1\n")
    with pytest.raises(ValueError, match="no pair"):
        evaluate_similarity(space, bad)
    with pytest.raises(FileNotFoundError, match="no such evaluation file"):
        evaluate_similarity(space, tmp_path / "missing.tsv")
