"""Why the pages draw with regl and our viewer, not plotly: the same points, both ways, in headless Chromium.

A one-off measurement kept so it can be repeated (it is not a ``bench_*`` module: it needs plotly.js,
which embedspace does not ship). Give it plotly's bundle, e.g. from the plotly wheel::

    pip download plotly --no-deps -d /tmp/plotly && unzip -o /tmp/plotly/plotly-*.whl 'plotly/package_data/*' -d /tmp/plotly
    python -m benchmarks.webgl_libraries /tmp/plotly/plotly/package_data/plotly.min.js

For each size it writes one page per library (random points, a word each, shown on hover) and measures
the seconds from the request to the first frame drawn, the time of one rotation step (ours: a drag step
to its picture read back; plotly: ``Plotly.relayout`` of the camera to the next frame), and the file size.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.browser import chromium, measure_page
from embedspace.viz.interactive import ScatterView, write_page

PLOTLY_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><script>{script}</script></head>
<body><div id="plot" style="width:820px;height:560px"></div><script>
const data = {data};
const start = performance.now();
Plotly.newPlot('plot', [{{type: 'scatter3d', mode: 'markers', x: data.x, y: data.y, z: data.z, text: data.words,
  hoverinfo: 'text', marker: {{size: 2, color: '#1f77b4'}}}}], {{margin: {{l: 0, r: 0, t: 0, b: 0}}}})
  .then(() => requestAnimationFrame(() => requestAnimationFrame(() => {{ window.firstFrame = performance.now(); }})));
async function rotationStep(angle) {{
  const before = performance.now();
  await Plotly.relayout('plot', {{'scene.camera.eye': {{x: 1.8 * Math.cos(angle), y: 1.8 * Math.sin(angle), z: 0.8}}}});
  await new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return performance.now() - before;
}}
</script></body></html>"""


def points(n: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """``n`` random 3D points [n, 3] and a word for each."""
    return np.random.default_rng(seed).standard_normal((n, 3)), [f"w{i:06d}" for i in range(n)]


def plotly_page(folder: Path, plotly_js: Path, n: int) -> Path:
    """A plotly scatter3d page of ``n`` points, its script inline."""
    coords, words = points(n)
    data = json.dumps({"x": coords[:, 0].round(5).tolist(), "y": coords[:, 1].round(5).tolist(),
                       "z": coords[:, 2].round(5).tolist(), "words": words})
    path = folder / f"plotly-{n}.html"
    path.write_text(PLOTLY_PAGE.format(script=plotly_js.read_text(encoding="utf-8"), data=data), encoding="utf-8")
    return path


def our_page(folder: Path, n: int) -> Path:
    """Our page of the same ``n`` points."""
    coords, words = points(n)
    return write_page(folder / f"ours-{n}.html", [ScatterView(coords, words, view_id="v")], title=f"{n} points")


def measure_plotly(browser_context, path: Path, steps: int = 3) -> dict:
    """Seconds to plotly's first frame and the median rotation step, in one page."""
    page = browser_context.new_page()
    start = time.perf_counter()
    page.goto(path.resolve().as_uri())
    page.wait_for_function("() => window.firstFrame !== undefined", timeout=300_000)
    first = time.perf_counter() - start
    times = [page.evaluate("(a) => rotationStep(a)", 0.3 * (k + 1)) for k in range(steps)]
    page.close()
    return {"first_frame_s": first, "step_ms": float(np.median(times))}


def main(argv: list[str]) -> int:
    plotly_js = Path(argv[0])
    sizes = [int(a) for a in argv[1:]] or [30_000, 100_000]
    with tempfile.TemporaryDirectory() as folder, chromium() as open_page:
        for n in sizes:
            ours = our_page(Path(folder), n)
            theirs = plotly_page(Path(folder), plotly_js, n)
            mine = measure_page(open_page, ours, drag_seconds=2.0)
            other = measure_plotly(open_page.context, theirs)
            print(f"{n:>7,} points  ours: first frame {mine['first_frame_s']:.2f} s, drag step "
                  f"{mine['drag_step_median_ms']:.0f} ms, {ours.stat().st_size / 2**20:.1f} MB  |  plotly: first frame "
                  f"{other['first_frame_s']:.2f} s, rotation step {other['step_ms']:.0f} ms, "
                  f"{theirs.stat().st_size / 2**20:.1f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
