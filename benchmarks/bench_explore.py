"""Interactive pages: ``explore`` end to end against its neighbour search, the page's size, and the page in a browser.

Every figure is measured in this run, on this machine:

1. ``embedspace explore word2vec`` (30,000 points, PCA, 10 neighbours each, written to a file) against
   the neighbour search alone (:func:`embedspace.analysis.neighbours.nearest_neighbours`: blocks of
   one [b, D] @ [D, V] product and a row-wise top-k), alternating turns; goal: at most 2x. The page's
   size (goal: at most 15 MB) and its bytes per 10,000 points.
2. In headless Chromium with software WebGL (SwiftShader; benchmarks/browser.py), a page of 100,000
   points (random 64-dimensional vectors, their real PCA; the neighbour table has the real size and
   format but random entries, since a 100,000 x 100,000 search is part 1's business): seconds to the
   first frame (goal: 5 s) and frames per second while dragging (goal: 10), one pointer step per
   animation frame, each frame read back so it was really drawn. The 30,000-point page of part 1:
   the time from a drag step to its picture (goal: 100 ms, median). Beside the wall times: the CPU
   time the browser's processes spent per frame while dragging, and the load average, since on the
   shared 2-core machine other jobs take the cores that SwiftShader draws with.

Run: ``python -m benchmarks --only explore`` (``--quick``: one round, 20,000 points in the browser).
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.browser import chromium, measure_page, unavailable
from embedspace.analysis.neighbours import nearest_neighbours
from embedspace.catalog import load_space
from embedspace.space import Space
from embedspace.viz.interactive import NeighbourTable, ScatterView, write_page
from embedspace.viz.projections import PCA


def explore_end_to_end(out: Path) -> float:
    """Seconds for ``embedspace explore word2vec --out OUT`` in this process (the space read afresh)."""
    from click.testing import CliRunner

    from cli.main import cli

    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["explore", "word2vec", "--out", str(out), "--neighbours", "10"])
    assert result.exit_code == 0, result.output
    return time.perf_counter() - start


def neighbour_search_alone() -> float:
    """Seconds for the neighbours of every word of word2vec (the space read afresh, as explore reads it)."""
    space = load_space("word2vec")
    start = time.perf_counter()
    nearest_neighbours(space, topn=10)
    return time.perf_counter() - start


def bench_end_to_end(folder: Path, rounds: int) -> tuple[list[dict], Path]:
    """Part 1: explore against its neighbour search, alternating, best of ``rounds`` each."""
    out = folder / "word2vec.html"
    ours, reference = [], []
    for _ in range(rounds):
        reference.append(neighbour_search_alone())
        ours.append(explore_end_to_end(out))
    size = out.stat().st_size
    rows = [{"name": "explore word2vec (30,000 points, PCA, 10 neighbours) / neighbour search alone",
             "ours": f"{min(ours):.1f} s", "reference": f"{min(reference):.1f} s",
             "ratio": round(min(ours) / min(reference), 2), "goal": "<= 2x"},
            {"name": "explore word2vec: page size", "ours": f"{size / 2**20:.1f} MB", "reference": "15 MB",
             "ratio": round(size / (15 * 2**20), 2), "goal": "<= 1 (15 MB)",
             "bytes_per_10k_points": f"{size / 3:.0f} ({size / 3 / 2**20:.2f} MB)"}]
    return rows, out


def big_page(folder: Path, n: int, dim: int = 64, topn: int = 10) -> Path:
    """A page of ``n`` random points (their PCA in 3D) with a neighbour table of the real size, random entries."""
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    space = Space([f"w{i:06d}" for i in range(n)], vectors, name=f"random {n:,} x {dim}")
    coords = PCA(n_components=3, random_state=0).fit_transform(vectors)  # [n, 3]
    table = NeighbourTable(rng.integers(0, n, size=(n, topn)), rng.random((n, topn), dtype=np.float32))
    view = ScatterView(coords, space.index_to_key, title=space.name, neighbours=table, view_id="explore")
    return write_page(folder / f"random-{n}.html", [view], title=space.name)


def bench_browser(folder: Path, word2vec_page: Path, n: int) -> list[dict]:
    """Part 2: the big page's first frame and drag rate, the word2vec page's drag step."""
    reason = unavailable()
    if reason is not None:
        return [{"name": "browser figures", "ours": "-", "reference": "-", "ratio": "-", "goal": f"skipped: {reason}"}]
    page = big_page(folder, n)
    with chromium() as open_page:
        big = measure_page(open_page, page)
        small = measure_page(open_page, word2vec_page)
    size = page.stat().st_size
    return [
        {"name": f"{n:,}-point page: first frame drawn (from the request)", "ours": f"{big['first_frame_s']:.2f} s",
         "reference": "5 s", "ratio": round(big["first_frame_s"] / 5, 2), "goal": "<= 1 (5 s)",
         "in_page_clock": f"{big['first_frame_in_page_s']:.2f} s", "page": f"{size / 2**20:.1f} MB"},
        {"name": f"{n:,}-point page: frames per second while dragging", "ours": f"{big['drag_fps']:.1f}",
         "reference": "10", "ratio": round(big["drag_fps"] / 10, 2), "goal": ">= 1 (10 fps)",
         "step_median": f"{big['drag_step_median_ms']:.0f} ms",
         "browser_cpu_per_frame": f"{big['drag_cpu_ms_per_frame']:.0f} ms", "load_average": f"{big['load_average']:.1f}"},
        {"name": "30,000-point word2vec page: drag step to picture (median)",
         "ours": f"{small['drag_step_median_ms']:.0f} ms", "reference": "100 ms",
         "ratio": round(small["drag_step_median_ms"] / 100, 2), "goal": "<= 1 (100 ms)",
         "p90": f"{small['drag_step_p90_ms']:.0f} ms", "fps": f"{small['drag_fps']:.1f}",
         "browser_cpu_per_frame": f"{small['drag_cpu_ms_per_frame']:.0f} ms"},
    ]


def run(quick: bool = False) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-explore-") as folder:
        rows, page = bench_end_to_end(Path(folder), rounds=1 if quick else 2)
        return rows + bench_browser(Path(folder), page, 20_000 if quick else 100_000)
