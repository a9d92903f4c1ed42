"""Sections on their own: a missing word or model is named, figures leave pyplot alone, cells read right."""
from __future__ import annotations

import pytest

from embedspace.analysis.answers import ExpectedAnswer
from embedspace.contextual.compare import ContextComparison, ContextPair, Occurrence
from embedspace.session import Session
from embedspace.tour.inputs import Tour
from embedspace.tour.model_sections import drift_curves
from embedspace.tour.render import markdown_text
from embedspace.tour.report import Table
from embedspace.tour.run import SECTIONS, run_section
from embedspace.tour.static_sections import analogy_cell

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def tiny_mini(tmp_path, monkeypatch):
    """A random 1-layer word-level GPT in a data folder of its own (it knows 'cat' but not 'tower')."""
    from transformer.checkpoint import save_model
    from transformer.config import TransformerConfig
    from transformer.model import init_params
    from transformer.word_tokenizer import WordTokenizer

    tokenizer = WordTokenizer.build(["and the lord said unto moses . the cat sat with cats and a dog"], 40)
    cfg = TransformerConfig(vocab_size=tokenizer.vocab_size, n_ctx=16, n_embd=8, n_head=2, n_layer=1)
    save_model(tmp_path / "data" / "mini", init_params(cfg, seed=0), cfg)
    tokenizer.save(tmp_path / "data" / "mini" / "vocab.txt")
    monkeypatch.setenv("EMBEDSPACE_DATA", str(tmp_path / "data"))
    return tmp_path / "out"


def run_titled(out_dir, title):
    out_dir.mkdir(exist_ok=True)
    with Session() as session:
        return run_section(Tour(out_dir, session), next(s for s in SECTIONS if s.title == title))


def test_temperature_section_with_a_mini_model(tiny_mini):
    section = run_titled(tiny_mini, "Temperature")
    assert section.status == "ok", section.summary
    assert section.figures == ["temperatures.png"]
    assert (tiny_mini / "temperatures.png").read_bytes()[:8] == PNG_MAGIC
    table = next(b for b in section.blocks if isinstance(b, Table))
    assert [row[0] for row in table.rows] == ["T = 0.5", "T = 1", "T = 2"]
    assert "<unk>" not in " ".join(row[1] for row in table.rows)


def test_a_word_missing_from_one_space_is_named_in_its_cell(tiny_mini):
    section = run_titled(tiny_mini, "Neighbours")
    assert section.status == "ok", section.summary
    tower = next(b for b in section.blocks if isinstance(b, Table) and "'tower'" in b.caption)
    column = tower.headers.index("mini")
    assert tower.rows[0][column] == "'tower' missing"
    cat = next(b for b in section.blocks if isinstance(b, Table) and "'cat'" in b.caption)
    assert cat.rows[0][cat.headers.index("mini")].endswith(")")  # a neighbour and its cosine


def test_without_a_mini_model_the_temperature_section_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_DATA", str(tmp_path / "empty"))
    section = run_titled(tmp_path, "Temperature")
    assert section.status == "not available"
    assert "mini" in section.summary and not section.figures


@pytest.mark.parametrize("title", ["The analogy as a picture", "Attention"])
def test_a_figure_section_leaves_the_caller_s_pyplot_figures_alone(tmp_path, title):
    plt = pytest.importorskip("matplotlib.pyplot")
    mine = plt.figure()
    try:
        section = run_titled(tmp_path, title)
        assert section.figures and (tmp_path / section.figures[0]).is_file()
        assert plt.get_fignums() == [mine.number]  # drew nothing on pyplot, closed nothing of ours
    finally:
        plt.close(mine)


# -- how a section formats what the library found ----------------------------------------------------------

FOUND = (("queen", 0.71), ("princess", 0.62), ("lady", 0.6), ("duchess", 0.55), ("empress", 0.5))


@pytest.mark.parametrize("missing, known, expected, cell", [
    (("girl",), True, "queen", "missing: girl"),
    ((), True, "queen", "**queen** (0.71), princess (0.62), lady (0.60)"),
    ((), True, "empress", "queen (0.71), princess (0.62), lady (0.60); empress #5"),
    ((), True, "aunt", "queen (0.71), princess (0.62), lady (0.60); aunt not in top 5"),
    ((), False, "bratwurst", "queen (0.71), princess (0.62), lady (0.60); no 'bratwurst' in this space"),
])
def test_an_analogy_cell_shows_three_answers_and_where_the_expected_one_came(missing, known, expected, cell):
    answer = ExpectedAnswer("king - man + woman", expected, missing, known, 5, () if missing else FOUND)
    assert markdown_text(analogy_cell(answer)) == cell  # as report.md writes it: the bold is a run's flag now


def test_drift_curves_name_the_comparison_s_curves_by_label():
    occurrences = [Occurrence(f"s{i}", [], [0], [1.0, 0.9 - i / 10]) for i in range(3)]
    pairs = [ContextPair(0, 1, [1.0, 0.8]), ContextPair(0, 2, [1.0, 0.5]), ContextPair(1, 2, [1.0, 0.4])]
    result = ContextComparison("model", "toy", 1, False, False, "", occurrences, pairs)
    curves = drift_curves(result, ["ML 1", "ML 2", "fashion"])
    assert curves == {"ML 1 vs ML 2": [1.0, 0.8], "ML 1 vs fashion": [1.0, 0.5], "ML 2 vs fashion": [1.0, 0.4],
                      "W_E vs ML 1": [1.0, 0.9], "W_E vs ML 2": [1.0, 0.8], "W_E vs fashion": [1.0, 0.7]}
