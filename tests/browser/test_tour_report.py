"""The tour's report.html in headless Chromium: its 3D figures are live views, drawn from one copy of the script.

The report is built by the tour's own code (its two sections with 3D views, on the shipped spaces,
rendered by :func:`embedspace.tour.render.write_report`), so the page is the one ``embedspace tour`` writes.
"""
from __future__ import annotations

import re

import pytest

from embedspace.session import Session
from embedspace.tour.inputs import Tour
from embedspace.tour.render import write_report
from embedspace.tour.report import TourReport
from embedspace.tour.run import SECTIONS, run_section

from .test_pages import palette_pixels, screenshot

TITLES = ("The analogy as a picture", "Three dimensions of family")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> TourReport:
    out = tmp_path_factory.mktemp("tour-report")
    with Session() as session:
        tour = Tour(out, session)
        sections = [run_section(tour, spec) for spec in SECTIONS if spec.title in TITLES]
    assert [s.status for s in sections] == ["ok", "ok"], [s.summary for s in sections]
    made = TourReport(out, sections, 1.0)
    write_report(made)
    return made


def test_the_tour_report_draws_every_view_with_one_script(open_page, report):
    page_text = report.html.read_text(encoding="utf-8")
    ids = re.findall(r'<div class="es-view" id="([^"]+)"', page_text)
    assert len(ids) == len(set(ids)) >= 2 and all(re.fullmatch(r"(analogy|family)-\w+", i) for i in ids)
    assert page_text.count("createREGL=") == 1 and page_text.count("<script>") == 2  # regl and the viewer, once
    page = open_page(report.html)
    assert page.js("() => window.embedspace.views.length") == len(ids)
    for view in range(len(ids)):
        assert palette_pixels(page.canvas_pixels(view)) > 30, ids[view]  # each view drew its points
    assert page.errors == []
    pictures = {(report.out_dir / name).resolve().as_uri() for s in report.sections for name in s.figures}
    assert set(page.requests) == {page.url} | pictures  # the page and its PNGs, nothing else
    page.page.locator(".es-view canvas").first.scroll_into_view_if_needed()  # the views sit among the figures
    first = page.state(0)
    page.drag(0, 20, -90)  # tilt the analogy's plane (the view opens looking straight down on it)
    assert page.state(0)["elevation"] != first["elevation"]
    screenshot(page, "tour-analogy", "#" + ids[0])  # queen off the plane
    assert page.errors == []
