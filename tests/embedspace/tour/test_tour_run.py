"""The tour runs end to end and writes every file it promises; a missing input is reported, not raised."""
from __future__ import annotations

import re

import pytest

from embedspace.session import Session
from embedspace.tour.inputs import Tour, Unavailable
from embedspace.tour.report import Note, Run, Table
from embedspace.tour.run import SECTIONS, SectionSpec, run_section, run_tour

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def minilm_found() -> bool:
    from transformer.minilm_files import ModelNotFound, find_minilm_dir

    try:
        find_minilm_dir()
        return True
    except ModelNotFound:
        return False


@pytest.fixture(scope="module")
def tour_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour")
    calls = []
    report = run_tour(out, progress=lambda i, n, title: calls.append((i, n, title)))
    return report, calls


@pytest.fixture
def session():
    with Session() as opened:
        yield opened


def test_the_tour_writes_both_reports_and_every_figure_it_names(tour_run):
    report, _ = tour_run
    markdown = report.markdown.read_text(encoding="utf-8")
    page = report.html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    named_md = set(re.findall(r"\]\(([^)]+\.png)\)", markdown))
    named_html = set(re.findall(r'<img src="([^"]+)"', page))
    promised = {path.name for path in report.figures}
    assert named_md == named_html == promised
    for path in report.figures:
        data = path.read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 10_000, path
    assert sorted(p.name for p in report.out_dir.glob("*.png")) == sorted(promised)


def test_no_section_fails_and_each_has_its_intro_and_time(tour_run):
    report, _ = tour_run
    assert [s.title for s in report.sections] == [spec.title for spec in SECTIONS]
    assert not report.failed, [(s.title, s.summary) for s in report.failed]
    markdown = report.markdown.read_text(encoding="utf-8")
    for section in report.sections:
        assert section.status in ("ok", "not available")
        assert f"## {section.title}" in markdown and section.intro in markdown
        assert section.seconds >= 0 and section.summary
    assert "Closing note" in markdown and f"{report.seconds:.1f}" in markdown


def test_progress_is_reported_for_every_section(tour_run):
    _, calls = tour_run
    n = len(SECTIONS)
    assert calls == [(i, n, spec.title) for i, spec in enumerate(SECTIONS, start=1)] + [(n, n, "done")]


def test_the_parameter_tally_shows_gpt3(tour_run):
    report, _ = tour_run
    assert "617,558,016" in report.markdown.read_text(encoding="utf-8")
    assert "617,558,016" in report.summary()


@pytest.mark.minilm
def test_with_minilm_installed_its_sections_run(tour_run):
    if not minilm_found():
        pytest.skip("all-MiniLM-L6-v2 is not installed")
    report, _ = tour_run
    by_title = {s.title: s for s in report.sections}
    for title in ("Neighbours", "Analogies", "A word in context", "Sense separation", "Attention"):
        assert by_title[title].status == "ok", (title, by_title[title].summary)
    assert "attention_car_is_blue.png" in by_title["Attention"].figures
    assert "context_model_drift.png" in by_title["A word in context"].figures


def test_every_available_shipped_space_is_asked(tour_run):
    from embedspace.catalog import known_spaces

    report, _ = tour_run
    available = [i.name for i in known_spaces() if i.available and i.name in ("word2vec", "minilm", "mini")]
    by_title = {s.title: s for s in report.sections}
    for title in ("Neighbours", "Analogies"):
        table = next(b for b in by_title[title].blocks if isinstance(b, Table))
        assert sorted(h for h in table.headers if h in ("word2vec", "minilm", "mini")) == sorted(available), title
    if "word2vec" in available:
        analogies = next(b for b in by_title["Analogies"].blocks if isinstance(b, Table))
        king = next(row for row in analogies.rows if row[0] == "king - man + woman")
        assert Run("queen", strong=True) in king[analogies.headers.index("word2vec")].runs  # in word2vec's top 3


# -- the session: the caller's is used and kept; the tour's own is closed -----------------------------------

def one_section(seen: list):
    def build(tour, section):
        seen.append(tour.session)
        return "ran"

    return (SectionSpec("One", "intro", build),)


def test_the_tour_uses_the_caller_s_session_and_leaves_it_open(tmp_path, monkeypatch):
    import embedspace.tour.run

    class Watched(Session):
        closed = 0

        def close(self):
            Watched.closed += 1
            super().close()

    seen = []
    monkeypatch.setattr(embedspace.tour.run, "SECTIONS", one_section(seen))
    mine = Watched()
    report = run_tour(tmp_path, session=mine)
    assert seen == [mine] and Watched.closed == 0 and report.sections[0].summary == "ran"
    monkeypatch.setattr(embedspace.tour.run, "Session", Watched)
    run_tour(tmp_path)
    assert isinstance(seen[1], Watched) and seen[1] is not mine and Watched.closed == 1


def test_a_space_that_cannot_be_loaded_is_tried_once_and_its_reason_kept(tmp_path, monkeypatch, session):
    import embedspace.catalog

    calls = []

    def no_space(name, **options):
        calls.append(name)
        raise FileNotFoundError(f"no files for {name}")

    monkeypatch.setattr(embedspace.catalog, "load_space", no_space)
    tour = Tour(tmp_path, session)
    for _ in range(2):
        with pytest.raises(Unavailable, match=r"space 'mini' is not available \(FileNotFoundError: no files for mini\)"):
            tour.space("mini")
    assert calls == ["mini"]


# -- what run_section records ------------------------------------------------------------------------------

def test_a_missing_input_is_reported_not_raised(tmp_path, monkeypatch, session):
    import embedspace.catalog

    def no_space(name, **options):
        raise FileNotFoundError(f"no files for {name}")

    monkeypatch.setattr(embedspace.catalog, "load_space", no_space)
    spec = next(s for s in SECTIONS if s.title == "Neighbours")
    section = run_section(Tour(tmp_path, session), spec)
    assert section.status == "not available"
    notes = " ".join(b.text for b in section.blocks if isinstance(b, Note))
    assert "no files for word2vec" in notes and "no files for mini" in notes


def test_a_bug_in_one_section_is_recorded_as_an_error(tmp_path, session):
    def broken(tour, section):
        raise RuntimeError("boom")

    section = run_section(Tour(tmp_path, session), SectionSpec("Broken", "intro", broken))
    assert section.status == "error" and "RuntimeError: boom" in section.summary


def test_unavailable_in_a_section_body_marks_it_not_available(tmp_path, session):
    def needs_more(tour, section):
        section.add(Note("partial result"))
        raise Unavailable("the thing is absent")

    section = run_section(Tour(tmp_path, session), SectionSpec("Partial", "intro", needs_more))
    assert section.status == "not available"
    assert [b.text for b in section.blocks] == ["partial result", "Not available: the thing is absent"]
