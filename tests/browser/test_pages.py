"""Every kind of interactive page, opened in headless Chromium (software WebGL).

Each page must load with no console error and request nothing from the network; a WebGL view must
draw (a non-blank canvas in the palette's colours), turn when dragged, highlight a searched word,
and list for a clicked word exactly what ``embedspace neighbors`` answers. Screenshots go to
$EMBEDSPACE_SCREENSHOTS when it is set (that is how docs/images/ was made).
"""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import cli
from embedspace.space import Space
from embedspace.viz.explore import explore_view
from embedspace.viz.interactive import PALETTE, page_script, view_fragment, write_page
from embedspace.viz.interactive_views import drift_view, points_view

WORDS = ["king", "queen", "man", "woman", "prince", "princess", "boy", "girl", "father", "mother"]
HOSTILE = ["</script><script>window.pwned=1</script>", "quote\"'", "line\u2028break", "<b>bold</b>&amp;"]
LIMIT = 3000  # explore: the 3,000 most frequent words of the shipped word2vec


def run(*args) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """One page of each kind, made by the commands where a command makes it."""
    folder = tmp_path_factory.mktemp("pages")
    made = {name: folder / f"{name}.html" for name in ("plot", "analogy", "probe", "explore", "report", "hostile")}
    run("plot", *WORDS, "--dims", "3", "--space", "word2vec", "--out", made["plot"])
    run("plot-analogy", "king", "man", "woman", "--expected", "queen", "--space", "word2vec", "--out", made["analogy"])
    run("plot-probe", "--direction", "woman - man", *WORDS, "--space", "word2vec", "--out", made["probe"])
    run("explore", "word2vec", "--limit", LIMIT, "--out", made["explore"])
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(len(WORDS), 3))
    report = [points_view(coords, WORDS, groups=["male", "female"] * 5, title="first", view_id="first"),
              points_view(coords[:, :2], WORDS, title="second, in 2D", view_id="second"),
              drift_view({"1 vs 2": [1.0, 0.8, 0.6], "W_E vs 1": [1.0, 0.5, 0.4]}, view_id="drift")]
    # as the tour's report.html will do it: its own page, figures among its paragraphs, the script once at the end
    body = "".join(f"<h2>figure {i}</h2><p>text</p>{view_fragment(view)}" for i, view in enumerate(report, 1))
    made["report"].write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>report</title></head>'
                              f"<body><h1>a report</h1>{body}{page_script()}</body></html>", encoding="utf-8")
    hostile = Space(HOSTILE + WORDS, rng.normal(size=(len(HOSTILE) + len(WORDS), 8)).astype(np.float32), name="h")
    write_page(made["hostile"], [explore_view(hostile, topn=3)], title="hostile words")
    return made


def screenshot(page, name: str, selector: str = ".es-view") -> None:
    """Keep a picture of the view for the docs when $EMBEDSPACE_SCREENSHOTS names a folder (64 colours, small)."""
    folder = os.environ.get("EMBEDSPACE_SCREENSHOTS")
    if folder:
        from PIL import Image

        png = page.page.locator(selector).first.screenshot()
        image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
        image.save(Path(folder) / f"{name}.png", optimize=True)


def clean(page) -> None:
    """No console error, no uncaught exception, and no request but the page itself."""
    assert page.errors == []
    assert page.requests == [page.url]


def palette_pixels(pixels: np.ndarray) -> int:
    """How many pixels [H, W, 3] have one of the palette's colours (within a little antialiasing)."""
    colours = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in PALETTE])  # [10, 3]
    distance = np.abs(pixels[:, :, None, :].astype(int) - colours[None, None]).sum(axis=-1)  # [H, W, 10]
    return int(np.count_nonzero(distance.min(axis=-1) < 24))


@pytest.mark.parametrize("name", ["plot", "analogy", "explore"])
def test_a_webgl_view_draws_and_turns_when_dragged(open_page, pages, name):
    page = open_page(pages[name])
    before = page.canvas_pixels()
    assert palette_pixels(before) > 30  # the points themselves, drawn by WebGL (the overlay hidden)
    screenshot(page, name)
    camera = page.state()
    page.drag(0, 140, 50)
    after = page.canvas_pixels()
    moved = page.state()
    assert (moved["azimuth"], moved["elevation"]) != (camera["azimuth"], camera["elevation"])
    assert np.mean(np.any(before != after, axis=-1)) > 0.001  # the picture changed, not just the numbers
    clean(page)


def test_searching_a_word_highlights_it(open_page, pages):
    page = open_page(pages["plot"])
    page.page.locator(".es-search").fill("prin")
    state = page.state()
    assert state["searchHit"] == "prince" and state["focus"] == ["prince"]
    assert page.page.locator(".es-matches button").all_inner_texts() == ["prince", "princess"]
    assert page.page.locator("text.es-label.es-chosen").inner_html() == "prince"
    assert page.page.locator("circle.es-ring.es-chosen").count() == 1
    clean(page)


def isolated_word(page) -> str:
    """A word whose point has no other point within 12 pixels, so a click picks it and no other."""
    return page.js("""() => {
      const api = window.embedspace.views[0], words = api.words();
      const at = words.map(w => api.screenPosition(w));
      const box = document.querySelector('.es-view canvas').getBoundingClientRect();
      for (let i = 0; i < words.length; i++) {
        const p = at[i];
        if (p.x < box.left + 60 || p.x > box.right - 60 || p.y < box.top + 60 || p.y > box.bottom - 60) continue;
        if (at.every((q, j) => j === i || Math.hypot(q.x - p.x, q.y - p.y) > 12)) return words[i];
      }
      return null;
    }""")


def test_clicking_a_word_lists_the_neighbors_commands_answer(open_page, pages):
    page = open_page(pages["explore"])
    word = isolated_word(page)
    assert word is not None
    at = page.js("(w) => window.embedspace.views[0].screenPosition(w)", word)
    page.page.mouse.click(at["x"], at["y"])
    assert page.state()["selected"] == word
    listed = page.page.locator(".es-neighbours li .es-neighbour").all_inner_texts()
    scores = page.page.locator(".es-neighbours li .es-score").all_inner_texts()
    answer = json.loads(run("neighbors", word, "--space", "word2vec", "--limit", LIMIT, "--topn", 10, "--json"))
    assert listed == [row["neighbor"] for row in answer]
    assert scores == [f"{row['cosine']:.3f}" for row in answer]
    page.page.locator(".es-isolate").check()
    shown = [w for w in [word, *listed] if w in set(page.js("() => window.embedspace.views[0].words()"))]
    assert page.state()["hiddenPoints"] == LIMIT - len(shown)
    screenshot(page, "explore-selected")
    clean(page)


def test_hostile_words_stay_words(open_page, pages):
    page = open_page(pages["hostile"])
    assert page.js("() => window.embedspace.views[0].words()") == HOSTILE + WORDS
    assert page.js("() => window.pwned === undefined")
    assert page.page.locator(".es-view b").count() == 0  # "<b>bold</b>" was not made into markup
    page.page.locator(".es-search").fill("</script>")
    assert page.state()["searchHit"] == HOSTILE[0]
    clean(page)


def test_a_report_page_runs_several_views_from_one_script(open_page, pages):
    page = open_page(pages["report"])
    assert page.js("() => window.embedspace.views.length") == 2
    for view in (0, 1):
        assert palette_pixels(page.canvas_pixels(view)) > 30
    assert page.page.locator(".es-legend li[data-group]").count() == 2  # the groups of the first view
    page.page.locator(".es-legend li[data-group='1']").click()  # hide the "female" group
    assert page.state(0)["hiddenPoints"] == 5
    clean(page)


@pytest.mark.parametrize("name, mark, tip", [("probe", "rect.es-bar", ": "), ("report", "circle.es-point", "layer")])
def test_chart_marks_show_their_value_on_hover(open_page, pages, name, mark, tip):
    page = open_page(pages[name])
    first = page.page.locator(mark).last  # (the first points of the two lines coincide)
    first.hover()
    shown = page.page.locator(".es-chart .es-tip")
    assert shown.first.is_visible() and tip in shown.first.inner_text()
    assert shown.first.inner_text() == first.get_attribute("data-tip")
    screenshot(page, "probe" if name == "probe" else "drift", ".es-view" if name == "probe" else "#drift")
    if name == "probe":
        bars = page.page.locator("rect.es-bar").count()
        assert bars == len(WORDS)
    clean(page)


def test_the_benchmarks_measurement_runs_on_a_small_page(open_page, tmp_path):
    """The measurement of benchmarks/bench_explore.py, on 2,000 points: it yields figures (not judged here)."""
    from benchmarks.browser import measure_page

    rng = np.random.default_rng(1)
    space = Space([f"w{i}" for i in range(2000)], rng.normal(size=(2000, 8)).astype(np.float32))
    path = write_page(tmp_path / "small.html", [explore_view(space, topn=5)], title="2,000 points")
    figures = measure_page(open_page, path, drag_seconds=0.5)
    assert figures["errors"] == [] and figures["drag_fps"] > 0 and figures["first_frame_in_page_s"] > 0
    assert figures["drag_step_median_ms"] > 0
