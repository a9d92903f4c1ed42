"""The analysis commands through click's CliRunner: answers equal the library's and gensim's, --json, errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_checks import assert_user_error
from click.testing import CliRunner
from gensim.models import KeyedVectors

from cli.main import cli

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")
TINY = str(Path(__file__).resolve().parents[1] / "fixtures" / "vectors" / "tiny.txt")
DEMO = str(Path(__file__).resolve().parents[2] / "data" / "wordlists" / "demo_analogies.txt")


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def kv():
    return KeyedVectors.load_word2vec_format(TINY)


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def run_json(*args: str):
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_calc_json_equals_gensim(kv):
    rows = run_json("calc", "cat - car + truck", "--space", TINY, "--topn", "4")
    expected = kv.most_similar(positive=["cat", "truck"], negative=["car"], topn=4)
    assert [r["key"] for r in rows] == [k for k, _ in expected]
    assert [r["score"] for r in rows] == pytest.approx([s for _, s in expected], abs=1e-5)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]


def test_calc_keeps_inputs_when_asked():
    rows = run_json("calc", "cat - car + truck", "--space", TINY, "--topn", "12", "--keep-inputs")
    assert {"cat", "car", "truck"} <= {r["key"] for r in rows}


@pytest.mark.parametrize("method, reference", [("add", "most_similar"), ("mul", "most_similar_cosmul")])
def test_analogy_word_order_and_named_options(kv, method, reference):
    # `analogy cat dog horse`: "dog is to cat as horse is to ?" -> near cat - dog + horse
    rows = run_json("analogy", "cat", "dog", "horse", "--space", TINY, "--method", method, "--topn", "3")
    expected = getattr(kv, reference)(positive=["cat", "horse"], negative=["dog"], topn=3)
    assert [r["key"] for r in rows] == [k for k, _ in expected]
    named = run_json("analogy", "-p", "cat", "-p", "horse", "-m", "dog", "--space", TINY, "--method", method,
                     "--topn", "3")
    assert named == rows


def test_similarity_and_odd_one_out(kv):
    rows = run_json("similarity", "cat", "dog", "--space", TINY)
    assert rows[0]["score"] == pytest.approx(float(kv.similarity("cat", "dog")), abs=1e-6)
    ranked = run_json("odd-one-out", "cat", "dog", "horse", "car", "--space", TINY)
    assert ranked[-1]["key"] == kv.doesnt_match(["cat", "dog", "horse", "car"]) and ranked[-1]["odd"]
    text = run("odd-one-out", "cat", "dog", "horse", "car", "--space", TINY)
    assert f"odd one out: {ranked[-1]['key']}" in text.stdout


def test_probe_json_has_words_report_and_ranking(tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("truck\tcar\nbus\tcar\n")
    rows = run_json("probe", "--direction", "truck - car", "cat", "bus", "--space", TINY, "--rank", "2",
                    "--report", str(pairs))
    data = sections(rows)
    assert [w["key"] for w in data["words"]] == ["cat", "bus"]
    truck, car, bus = (KeyedVectors.load_word2vec_format(TINY)[k] for k in ("truck", "car", "bus"))
    assert data["words"][1]["score"] == pytest.approx(float(bus @ (truck - car)), abs=1e-5)
    assert [(p["key"], p["other"]) for p in data["pairs"]] == [("truck", "car"), ("bus", "car")]
    summary = data["summary"][0]
    assert summary["pairs"] == 2 and summary["wins"] == 2 and summary["direction"] == "truck - car"
    assert len(data["top"]) == 2 and data["top"][0]["key"] == "truck" and len(data["bottom"]) == 2
    from_pairs = sections(run_json("probe", "--pairs", str(pairs), "--pca", "cat", "--space", TINY))
    assert from_pairs["summary"][0]["direction"].startswith("first principal component of 2")


def test_shipped_pair_lists_are_found_where_the_data_folder_is_now(tmp_path, monkeypatch):
    (tmp_path / "wordlists").mkdir()
    (tmp_path / "wordlists" / "vehicles.tsv").write_text("truck\tcar\nbus\tcar\n")
    monkeypatch.setenv("EMBEDSPACE_DATA", str(tmp_path))  # after cli was imported: asked at call time
    summary = sections(run_json("probe", "--pairs", "vehicles", "cat", "--space", TINY))["summary"][0]
    assert summary["pairs"] == 2 and summary["pairs_file"] == str(tmp_path / "wordlists" / "vehicles.tsv")
    assert_user_error(run("probe", "--pairs", "plurals", "cat", "--space", TINY), "(shipped: vehicles)")


def sections(rows: list[dict]) -> dict[str, list[dict]]:
    """The probe's JSON rows grouped by their section."""
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["section"], []).append(row)
    return grouped


def test_evaluate_analogies_table_and_json(tmp_path, kv):
    questions = tmp_path / "q.txt"
    questions.write_text(": animals\ndog cat truck car\ncat dog car truck\n: mixed\ncat horse car bus\nplum pear x y\n")
    rows = run_json("evaluate", "analogies", str(questions), "--space", TINY)
    _, sections = kv.evaluate_word_analogies(str(questions))
    add = {r["section"]: r for r in rows if r["method"] == "add"}
    for section in sections:
        assert add[section["section"]]["correct"] == len(section["correct"])
        assert add[section["section"]]["questions"] == len(section["correct"]) + len(section["incorrect"])
    assert {r["method"] for r in rows} == {"add", "mul"}
    table = run("evaluate", "analogies", str(questions), "--space", TINY, "--method", "mul")
    assert table.exit_code == 0 and "Total accuracy" in table.stdout and "mul accuracy" in table.stdout
    # coverage: how many of the set's questions, among the space's real number of keys (issue 11)
    size = len(kv)
    assert f"3 of 4 questions covered (75.0%); the other 1 has a word outside the space's {size} keys" in table.stdout
    total = [r for r in rows if r["section"] == "Total accuracy"]
    assert all(r["covered"] == 3 and r["questions_in_set"] == 4 and r["keys"] == size for r in total)
    restricted = run("evaluate", "analogies", str(questions), "--space", TINY, "--restrict-vocab", "5")
    assert f"outside the first 5 of the space's {size} keys" in restricted.stdout


def test_evaluate_similarity_json(tmp_path, kv):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("cat\tdog\t9\ncat\tcar\t2\ntruck\tbus\t8\napple\tbus\t1\nplum\tzzz\t3\n")
    rows = run_json("evaluate", "similarity", str(pairs), "--space", TINY)
    pearson, spearman, oov = kv.evaluate_word_pairs(str(pairs))
    assert rows[0]["pearson"] == pytest.approx(pearson[0], abs=1e-5)
    assert rows[0]["spearman"] == pytest.approx(spearman[0], abs=1e-5)
    assert 100 * rows[0]["oov_ratio"] == pytest.approx(oov, abs=1e-3)
    assert (rows[0]["pairs"], rows[0]["pairs_in_set"], rows[0]["covered"]) == (4, 5, 4)
    table = run("evaluate", "similarity", str(pairs), "--space", TINY)
    assert f"pairs with a word outside the space's {len(kv)} keys: skipped" in table.stdout


@pytest.mark.parametrize("args, fragments", [
    (("analogy", "cat", "dgo", "horse"), ("'dgo' is not in the vocabulary", "dog")),
    pytest.param(("calc", ""), ("empty expression",)),
    pytest.param(("calc", "cat -"), ("ends with an operator",)),
    pytest.param(("probe", "--direction", "cat - cat", "dog"), ("zero length",)),
    (("probe", "--pairs", "no-such-list", "dog"), ("no such pair list",)),
    pytest.param(("odd-one-out", "cat"), ("at least two",)),
])
def test_user_errors_are_one_line(args, fragments):
    assert_user_error(run(*args, "--space", TINY), *fragments)


def test_malformed_evaluation_file_names_its_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text(": s\ncat dog car truck\ncat dog car\n")
    assert_user_error(run("evaluate", "analogies", str(bad), "--space", TINY), "bad.txt, line 3", "4 words")


def test_usage_errors():
    assert run("analogy", "cat", "dog", "--space", TINY).exit_code == 2
    assert run("analogy", "cat", "dog", "horse", "-p", "bus", "--space", TINY).exit_code == 2
    assert run("probe", "cat", "--space", TINY).exit_code == 2


@pytest.fixture(scope="module")
def minilm_available():
    from transformer.minilm_files import ModelNotFound, find_minilm_dir

    try:
        find_minilm_dir()
    except ModelNotFound:
        pytest.skip("all-MiniLM-L6-v2 is not installed")


@pytest.mark.minilm
def test_minilm_king_man_woman_puts_queen_first(minilm_available):
    for method in ("add", "mul"):
        rows = run_json("analogy", "king", "man", "woman", "--space", "minilm-we", "--method", method)
        assert rows[0]["key"] == "queen"


@pytest.mark.minilm
def test_minilm_plurality_probe_shows_the_increasing_order(minilm_available):
    result = run("probe", "--direction", "cats - cat", "one", "two", "three", "four", "--space", "minilm-we")
    assert result.exit_code == 0, result.output
    assert "increasing: yes" in result.stdout and "pairs of plurals.tsv" in result.stdout
    data = sections(run_json("probe", "--direction", "cats - cat", "one", "two", "three", "four", "--space", "minilm-we"))
    scores = [w["score"] for w in data["words"]]
    summary = data["summary"][0]
    assert scores == sorted(scores) and summary["increasing"] and summary["spearman"] == 1.0
    assert summary["wins"] > 0.8 * summary["pairs"]


@pytest.mark.minilm
def test_minilm_demo_analogies_evaluate(minilm_available):
    rows = run_json("evaluate", "analogies", DEMO, "--space", "minilm-we")
    total = [r for r in rows if r["section"] == "Total accuracy"]
    assert len(total) == 2 and all(r["questions"] > 5 for r in total)


@pytest.mark.skipif(not (Path(__file__).resolve().parents[2] / "data" / "word2vec").is_dir(),
                    reason="data/word2vec/ (the shipped word2vec space) has not been built yet")
def test_word2vec_king_man_woman_has_queen_in_the_top_5():
    rows = run_json("analogy", "king", "man", "woman", "--space", "word2vec", "--topn", "5")
    assert "queen" in [r["key"] for r in rows]
