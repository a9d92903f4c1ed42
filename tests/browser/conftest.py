"""Browser tests need Playwright and Debian's Chromium; without them they are skipped, and the run says why."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

try:
    from benchmarks import browser
except ImportError:  # pytest run without the repository root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from benchmarks import browser

SKIPPED: list[str] = []


@pytest.fixture(scope="session")
def open_page():
    """``open_page(path) -> OpenPage`` in one headless Chromium shared by the session."""
    reason = browser.unavailable()
    if reason is not None:
        SKIPPED.append(reason)
        pytest.skip(f"browser tests skipped: {reason}")
    with browser.chromium() as opener:
        yield opener


def pytest_terminal_summary(terminalreporter):
    """One plain line when the browser tests did not run, whatever the verbosity."""
    if SKIPPED:
        terminalreporter.write_line(f"NOTE: browser tests skipped: {SKIPPED[0]}", yellow=True, bold=True)
