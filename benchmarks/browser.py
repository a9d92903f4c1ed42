"""Headless Chromium (Debian's package) driven by Playwright: open interactive pages, check them, time them.

``tests/browser`` checks pages with it and ``benchmarks/bench_explore.py`` measures them. It never
downloads a browser (never ``playwright install``): it runs the ``chromium`` on the PATH, or the
one ``$EMBEDSPACE_CHROMIUM`` names, with software WebGL (SwiftShader) and no network.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

# WebGL without a GPU (SwiftShader), and nothing that would phone home on a closed network
FLAGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--enable-webgl", "--ignore-gpu-blocklist",
         "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run"]
VIEWPORT = {"width": 1100, "height": 700}


def find_chromium() -> str | None:
    """The Chromium to run: ``$EMBEDSPACE_CHROMIUM``, else ``chromium`` on the PATH, else None."""
    named = os.environ.get("EMBEDSPACE_CHROMIUM")
    if named:
        return named if Path(named).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def unavailable() -> str | None:
    """Why pages cannot be opened here (a sentence naming the fix), or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (make install brings it: pip install playwright)"
    if find_chromium() is None:
        return "Chromium was not found (apt-get install -y chromium, or set EMBEDSPACE_CHROMIUM)"
    return None


class OpenPage:
    """One page in the browser, with its console errors, uncaught errors and network requests."""

    def __init__(self, page, url: str):
        self.page, self.url = page, url
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", lambda request: self.requests.append(request.url))

    def goto(self) -> float:
        """Load the page and wait for every WebGL view's first frame; returns the seconds taken."""
        start = time.perf_counter()
        self.page.goto(self.url)
        self.page.wait_for_function("() => Array.from(document.querySelectorAll('.es-view[data-kind=scatter]'))"
                                    ".every(v => v.hasAttribute('data-first-frame'))", timeout=60_000)
        return time.perf_counter() - start

    def js(self, expression: str, arg=None):
        """Evaluate a JavaScript function ``(arg) => ...`` in the page."""
        return self.page.evaluate(expression, arg)

    def state(self, view: int = 0) -> dict:
        """The viewer's state of view ``view`` (selected word, search hit, focus, frames, camera)."""
        return self.js("(i) => window.embedspace.views[i].state()", view)

    def canvas_pixels(self, view: int = 0) -> np.ndarray:
        """The WebGL canvas of view ``view`` as RGB [H, W, 3], with the SVG overlay hidden."""
        from PIL import Image

        root = self.page.locator(".es-view[data-kind=scatter]").nth(view)
        self.js("(i) => { const svg = document.querySelectorAll('.es-view[data-kind=scatter] svg.es-overlay')[i];"
                " svg.style.visibility = 'hidden'; }", view)
        self.js("(i) => window.embedspace.views[i].nextFrame()", view)
        png = root.locator("canvas").screenshot()
        self.js("(i) => { document.querySelectorAll('.es-view[data-kind=scatter] svg.es-overlay')[i]"
                ".style.visibility = ''; }", view)
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))

    def drag(self, view: int, dx: float, dy: float, steps: int = 12) -> None:
        """Drag with the mouse from the middle of view ``view``'s canvas by (dx, dy) CSS pixels."""
        box = self.page.locator(".es-view[data-kind=scatter] canvas").nth(view).bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.mouse.move(x + dx, y + dy, steps=steps)
        self.page.mouse.up()
        self.js("(i) => window.embedspace.views[i].nextFrame()", view)


def cpu_seconds(profile: str) -> float:
    """CPU seconds used so far by the Chromium started with ``profile`` and all its processes (Linux /proc).

    On a shared machine the wall time of a frame depends on what else runs; its CPU time much less.
    """
    parents, cpu, root = {}, {}, None
    tick = os.sysconf("SC_CLK_TCK")
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{name}/cmdline").read_bytes()
        except OSError:
            continue
        pid = int(name)
        parents[pid], cpu[pid] = int(fields[1]), (int(fields[11]) + int(fields[12])) / tick  # ppid, utime + stime
        program = command.split(b"\0")[0]
        if f"--user-data-dir={profile}".encode() in command and b"crashpad" not in program:
            root = pid  # the browser process (its crash handlers name the profile too)
    if root is None:
        return float("nan")

    def in_tree(pid: int) -> bool:
        while pid > 1:
            if pid == root:
                return True
            pid = parents.get(pid, 1)
        return False

    return sum(seconds for pid, seconds in cpu.items() if in_tree(pid))


class Browser:
    """A running headless Chromium: call it with a page's path to open the page (an :class:`OpenPage`)."""

    def __init__(self, context, profile: str = ""):
        self.context = context  # Playwright's BrowserContext, for pages of other kinds
        self.profile = profile  # its user data folder, which names its processes

    def cpu_seconds(self) -> float:
        """CPU seconds used by this browser's processes so far."""
        return cpu_seconds(self.profile)

    def __call__(self, path: str | os.PathLike) -> OpenPage:
        page = OpenPage(self.context.new_page(), Path(path).resolve().as_uri())
        page.goto()
        return page


@contextlib.contextmanager
def chromium(viewport: dict | None = None) -> Iterator[Browser]:
    """A headless Chromium with a fresh profile, closed on leaving the block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver, tempfile.TemporaryDirectory(prefix="embedspace-chromium-") as profile:
        context = driver.chromium.launch_persistent_context(
            profile, executable_path=find_chromium(), headless=True, args=FLAGS, viewport=viewport or VIEWPORT)
        try:
            yield Browser(context, profile)
        finally:
            context.close()


# A drag driven by requestAnimationFrame: one pointer step per frame, each frame read back (so it was
# really drawn), for `seconds`; returns frames per second and each step's time from event to picture.
DRAG_LOOP = """async (seconds) => {
  const view = window.embedspace.views[0];
  const canvas = document.querySelector('.es-view[data-kind=scatter] canvas');
  const box = canvas.getBoundingClientRect();
  let x = box.left + box.width / 2, y = box.top + box.height / 2;
  const event = (type) => new PointerEvent(type, {clientX: x, clientY: y, buttons: 1, bubbles: true});
  view.setSync(true);
  canvas.dispatchEvent(event('pointerdown'));
  await view.nextFrame();
  const first = view.state().frames, start = performance.now(), steps = [];
  while (performance.now() - start < seconds * 1000) {
    x += 2;
    const before = performance.now();
    canvas.dispatchEvent(event('pointermove'));
    await view.nextFrame();
    steps.push(performance.now() - before);
  }
  const elapsed = (performance.now() - start) / 1000, frames = view.state().frames - first;
  canvas.dispatchEvent(event('pointerup'));
  view.setSync(false);
  return {fps: frames / elapsed, steps: steps};
}"""


def measure_page(open_page, path: str | os.PathLike, drag_seconds: float = 3.0) -> dict:
    """Open ``path`` and time it: seconds to the first frame, frames per second and step times while dragging.

    ``first_frame_s`` runs from the request of the page to its first frame read back (the file read,
    parsed, decoded and drawn); ``first_frame_in_page_s`` is the page's own clock for the same moment.
    """
    start = time.perf_counter()
    page = open_page(path)
    wall = time.perf_counter() - start
    in_page = page.state()["firstFrameMs"] / 1000
    cpu_before = open_page.cpu_seconds()
    dragged = page.js(DRAG_LOOP, drag_seconds)
    cpu = open_page.cpu_seconds() - cpu_before
    steps = np.array(dragged["steps"])
    page.page.close()
    return {"first_frame_s": wall, "first_frame_in_page_s": in_page, "drag_fps": dragged["fps"],
            "drag_step_median_ms": float(np.median(steps)), "drag_step_p90_ms": float(np.percentile(steps, 90)),
            "drag_cpu_ms_per_frame": 1000 * cpu / max(1, len(steps)), "load_average": os.getloadavg()[0],
            "errors": page.errors}
