"""Simple commands end to end: each one's wall time over that of ``python -c "import numpy"``, run in turn.

A fresh process runs each command (start-up, imports, reading the cached space, the answer), on the
default space with its cache already built in a temporary folder. Each round runs the reference and
then every command, each right after its own reference run (``ref A ref B ...``), so each ratio is
taken within one pair of runs and a machine whose speed drifts moves both sides. The rows give the
median of the paired ratios over the rounds, and the ratio of the best times (min over min).

Goals (issue 11): every text query <= 2.5x, ``probe`` <= 3x, ``plot`` of up to 50 words <= 8x.
``ratio`` here is command / reference: lower is better, and the goal is an upper bound.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from embedspace.paths import wordlists_dir

REFERENCE = [sys.executable, "-c", "import numpy"]
TEXT_QUERY_GOAL, PROBE_GOAL, PLOT_GOAL = 2.5, 3.0, 8.0


def fifty_words() -> list[str]:
    """50 words for the plot: the 40 words of the gender pairs and the ten numbers (shipped lists)."""
    pairs = [line.split("\t") for line in (wordlists_dir() / "gender.tsv").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    numbers = [line.strip() for line in (wordlists_dir() / "numbers.txt").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    return [word.strip() for pair in pairs for word in pair] + numbers


def commands(folder: Path) -> list[tuple[str, list[str], float]]:
    """(name, arguments of ``embedspace``, goal) of every command measured."""
    royals = ["king", "queen", "man", "woman", "prince", "princess"]
    return [
        ("neighbors tower", ["neighbors", "tower"], TEXT_QUERY_GOAL),
        ("calc king - man + woman", ["calc", "king - man + woman"], TEXT_QUERY_GOAL),
        ("analogy king man woman", ["analogy", "king", "man", "woman"], TEXT_QUERY_GOAL),
        ("similarity cat dog", ["similarity", "cat", "dog"], TEXT_QUERY_GOAL),
        ("odd-one-out (4 words)", ["odd-one-out", "breakfast", "lunch", "dinner", "cereal"], TEXT_QUERY_GOAL),
        ("info", ["info"], TEXT_QUERY_GOAL),
        ("spaces", ["spaces"], TEXT_QUERY_GOAL),
        ("probe --direction (4 words)", ["probe", "--direction", "cats - cat", "one", "two", "three", "four"],
         PROBE_GOAL),
        ("probe --pairs gender", ["probe", "--pairs", "gender"], PROBE_GOAL),
        ("plot of 6 words, PNG", ["plot", *royals, "--out", str(folder / "six.png")], PLOT_GOAL),
        ("plot of 50 words, PNG", ["plot", *fifty_words(), "--out", str(folder / "fifty.png")], PLOT_GOAL),
        ("plot of 50 words, HTML", ["plot", *fifty_words(), "--out", str(folder / "fifty.html")], PLOT_GOAL),
    ]


def timed_run(argv: list[str], env: dict) -> float:
    """Wall seconds of one process, start to exit (it must succeed)."""
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def measure(named: list[tuple[str, list[str], float]], env: dict, rounds: int) -> list[dict]:
    """Paired ratios over ``rounds`` rounds: each command right after a reference run."""
    base = [sys.executable, "-m", "cli"]
    times = {name: [] for name, _, _ in named}
    references = {name: [] for name, _, _ in named}
    for _ in range(rounds):
        for name, args, _ in named:
            references[name].append(timed_run(REFERENCE, env))
            times[name].append(timed_run(base + args, env))
    rows = []
    for name, _, goal in named:
        ratios = [t / r for t, r in zip(times[name], references[name])]
        rows.append({"name": f"embedspace {name}: command / import numpy",
                     "ours": round(statistics.median(times[name]), 3),
                     "reference": round(statistics.median(references[name]), 3),
                     "ratio": round(statistics.median(ratios), 2), "goal": f"<= {goal}x",
                     "best_ratio": round(min(times[name]) / min(references[name]), 2),
                     "ratio_range": [round(min(ratios), 2), round(max(ratios), 2)], "rounds": rounds})
    return rows


def run(quick: bool = False) -> list[dict]:
    """Every command's ratio; ``quick``: 3 rounds instead of 9."""
    with tempfile.TemporaryDirectory(prefix="bench_commands_") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "EMBEDSPACE_CACHE": str(folder / "cache")}
        named = commands(folder)
        for _, args, _ in named:  # builds the cache, and shows that every command runs
            timed_run([sys.executable, "-m", "cli", *args], env)
        load_before = os.getloadavg()
        rows = measure(named, env, 3 if quick else 9)
        load_after = os.getloadavg()
    load = {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in load_after],
            "cores": os.cpu_count()}
    return [{**row, "load_average": load} for row in rows]


if __name__ == "__main__":
    for result in run(quick="--quick" in sys.argv):
        print(result)
