"""Spaces: cached reload, first load of a word2vec .bin, first neighbours query, and the CLI end to end.

Every figure is measured beside gensim's own way of doing the same thing, in the same run, on
synthetic files built in a temporary folder (random float32 vectors, keys of 2 to 14 characters).
Full size: 1 M x 300 for loading, 3 M x 300 for the first query; ``quick`` uses a tenth of that.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from embedspace.catalog import load_space
from embedspace.io.formats import write_space_dir, write_word2vec
from embedspace.space import Space

DIM = 300
REPEATS = 3  # timings: the best of this many runs

# Run in a fresh process: load a space folder (or a gensim .kv), then time the first query and measure
# how far the resident set rose above its size just before (Linux: VmRSS, then the peak VmHWM, which
# writing 5 to /proc/self/clear_refs resets to the current size).
QUERY_PROBE = """
import json, sys, time
kind, path, key = sys.argv[1:4]
if kind == "ours":
    from embedspace.catalog import load_space
    space = load_space(path)
    vector = space[key]
    query = lambda: space.similar_by_vector(vector, topn=10)
    matrix_bytes = space.vectors.nbytes
else:
    from gensim.models import KeyedVectors
    kv = KeyedVectors.load(path, mmap="r")
    query = lambda: kv.most_similar(key, topn=10)
    matrix_bytes = kv.vectors.nbytes

def status(field):
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) * 1024 for line in handle if line.startswith(field + ":"))

with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")
before = status("VmRSS")
start, cpu = time.perf_counter(), time.process_time()
query()
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
peak = status("VmHWM")
print(json.dumps({"seconds": seconds, "cpu": cpu, "growth": (peak - before) / matrix_bytes,
                  "peak": peak / matrix_bytes}))
"""


def make_keys(count: int) -> list[str]:
    """``count`` distinct keys of 2 to 14 characters."""
    return [f"w{i}" + "x" * (i % 7) for i in range(count)]


def make_vectors(count: int, seed: int = 0) -> np.ndarray:
    """Random float32 vectors [count, DIM], made chunk by chunk."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, DIM), dtype=np.float32)
    for start in range(0, count, 100_000):
        out[start:start + 100_000] = rng.standard_normal((min(100_000, count - start), DIM), dtype=np.float32)
    return out


def timed(function) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its children) of one call.

    CPU time is reported beside wall time because a shared machine stretches wall times.
    """
    before, start = os.times(), time.perf_counter()
    function()
    wall, after = time.perf_counter() - start, os.times()
    return wall, sum(after[:4]) - sum(before[:4])


def best_time(function, repeats: int = REPEATS, reset=None) -> tuple[float, float]:
    """The lowest (wall, CPU) seconds over ``repeats`` calls; ``reset()`` runs before each."""
    times = []
    for _ in range(repeats):
        if reset is not None:
            reset()
        times.append(timed(function))
    return min(t[0] for t in times), min(t[1] for t in times)


def to_gensim(space: Space, path: Path) -> Path:
    """Save ``space`` as gensim's native .kv (the vectors in a .npy beside it, memory-mappable)."""
    from gensim.models import KeyedVectors

    kv = KeyedVectors(space.dim)
    kv.index_to_key = list(space.index_to_key)
    kv.key_to_index = dict(space.key_to_index)
    kv.vectors = space.vectors
    kv.save(str(path))
    return path


def row(name: str, ours: tuple[float, float], reference: tuple[float, float] | None, goal: str, **extra) -> dict:
    """One result row from (wall, CPU) pairs; ratio = reference / ours (how many times faster ours is)."""
    result = {"name": name, "ours": round(ours[0], 3),
              "reference": None if reference is None else round(reference[0], 3),
              "ratio": round(reference[0] / ours[0], 2) if reference else None, "goal": goal,
              "cpu_ours": round(ours[1], 3)}
    if reference is not None:   # a CPU time below the clock's resolution reads 0: no ratio then
        result.update(cpu_reference=round(reference[1], 3),
                      cpu_ratio=round(reference[1] / ours[1], 2) if ours[1] > 0 else None)
    return {**result, **extra}


def bench_loading(folder: Path, count: int) -> list[dict]:
    """First load of a word2vec .bin (ours: read + cache write) and cached reload, beside gensim."""
    from gensim.models import KeyedVectors

    source = write_word2vec(folder / "vectors.bin", make_keys(count), make_vectors(count), binary=True)
    label = f"{count // 1000}k x {DIM}"
    cache = folder / "cache"
    os.environ["EMBEDSPACE_CACHE"] = str(cache)
    first = best_time(lambda: load_space(source), repeats=2, reset=lambda: shutil.rmtree(cache, ignore_errors=True))
    gensim_first = best_time(lambda: KeyedVectors.load_word2vec_format(str(source), binary=True), repeats=2)
    cached = best_time(lambda: load_space(source))
    kv_path = to_gensim(load_space(source), folder / "vectors.kv")
    gensim_cached = best_time(lambda: KeyedVectors.load(str(kv_path), mmap="r"))
    return [
        row(f"first load of a {label} word2vec .bin, cache written (s)", first, gensim_first,
            ">= 3x faster than gensim", reference_is="load_word2vec_format"),
        row(f"cached reload of {label} (s)", cached, gensim_cached, "<= 0.3 s", reference_is="KeyedVectors.load(mmap='r')"),
    ]


def bench_first_query(folder: Path, count: int) -> list[dict]:
    """The first neighbours query on a freshly loaded space (fresh process), beside gensim's most_similar."""
    keys = make_keys(count)
    space = Space(keys, make_vectors(count, seed=1), origin="synthetic")
    write_space_dir(folder / "query_space", keys, space.vectors, {})
    to_gensim(space, folder / "query.kv")
    del space
    results = {}
    for kind, path in (("ours", folder / "query_space"), ("gensim", folder / "query.kv")):
        done = subprocess.run([sys.executable, "-c", QUERY_PROBE, kind, str(path), keys[12345]],
                              capture_output=True, text=True, check=True)
        results[kind] = json.loads(done.stdout)
    ours, gensim = results["ours"], results["gensim"]
    label = f"{count / 1e6:g}M x {DIM}"
    return [
        row(f"first neighbours query, fresh {label} space (s)", (ours["seconds"], ours["cpu"]),
            (gensim["seconds"], gensim["cpu"]), "<= 1 s", reference_is="most_similar"),
        {"name": "memory growth of that query / matrix size", "ours": round(ours["growth"], 3),
         "reference": round(gensim["growth"], 3), "ratio": round(gensim["growth"] / ours["growth"], 2),
         "goal": "<= 1.1x", "peak_rss_over_matrix": {"ours": round(ours["peak"], 2), "gensim": round(gensim["peak"], 2)}},
    ]


def bench_cli(folder: Path) -> list[dict]:
    """``embedspace neighbors tower`` in a fresh process on the cached default space."""
    env = {**os.environ, "EMBEDSPACE_CACHE": str(folder / "cli_cache")}
    command = [sys.executable, "-m", "cli", "neighbors", "tower"]
    subprocess.run(command, env=env, capture_output=True, check=True)  # builds the cache
    seconds = best_time(lambda: subprocess.run(command, env=env, capture_output=True, check=True), repeats=5)
    bare = best_time(lambda: subprocess.run([sys.executable, "-c", "import numpy"], check=True), repeats=5)
    return [row("embedspace neighbors tower, end to end (s)", seconds, None, "<= 0.4 s",
                python_and_numpy_alone={"wall": round(bare[0], 3), "cpu": round(bare[1], 3)})]


def run(quick: bool = False) -> list[dict]:
    """Every spaces benchmark; ``quick`` uses sizes ten times smaller."""
    scale = 10 if quick else 1
    saved_cache = os.environ.get("EMBEDSPACE_CACHE")
    with tempfile.TemporaryDirectory(prefix="bench_spaces_") as tmp:
        folder = Path(tmp)
        try:
            rows = bench_loading(folder, 1_000_000 // scale)
            rows += bench_first_query(folder, 3_000_000 // scale)
            rows += bench_cli(folder)
        finally:
            if saved_cache is None:
                os.environ.pop("EMBEDSPACE_CACHE", None)
            else:
                os.environ["EMBEDSPACE_CACHE"] = saved_cache
    return rows


if __name__ == "__main__":
    for result in run(quick="--quick" in sys.argv):
        print(result)
