"""fastText's native .bin: our reader beside gensim's ``load_facebook_vectors``, in one process.

A synthetic model is written to a temporary folder (random float32 rows, words of 3 to 12 letters,
skip-gram layout, 3- to 6-character n-grams): about 1 GB at full size (250 k words, 2 M n-gram
buckets, 100 dims: fastText's default bucket count), a tenth of that with ``quick``. Both readers
compose every word's vector from its row and its n-grams; turns alternate, the best of a few runs
counts, and a sample of words (known and unknown) is checked equal. Goal: ours >= 10x faster (gensim
users report 68 s on cc.en.300.bin, where fastText's own loader takes 2 s).

Run alone: ``python -m benchmarks.bench_fasttext [--quick | --megabytes N]``.
"""
from __future__ import annotations

import gc
import logging
import string
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.bench_spaces import row, timed
from embedspace.io.fasttext_bin import write_fasttext_bin
from embedspace.io.formats import read_vectors
from embedspace.io.subwords import FastTextSubwords

DIM = 100
FULL_WORDS, FULL_BUCKETS = 250_000, 2_000_000  # (2 x words + buckets) x DIM x 4 bytes: about 1 GB
ROUNDS = 2  # timings: the best of this many turns each


def make_words(count: int, seed: int = 0) -> list[str]:
    """``count`` distinct lowercase words of 3 to 12 letters."""
    rng = np.random.default_rng(seed)
    letters = np.array(list(string.ascii_lowercase))
    words: dict[str, None] = {}
    while len(words) < count:
        for length in rng.integers(3, 13, size=count):
            words.setdefault("".join(rng.choice(letters, size=length)), None)
            if len(words) == count:
                break
    return list(words)


def make_model(path: Path, words: int, buckets: int, seed: int = 0) -> Path:
    """A native .bin of ``words`` words and ``buckets`` n-gram rows of random float32 values."""
    rng = np.random.default_rng(seed)
    matrix = np.empty((words + buckets, DIM), dtype=np.float32)
    for start in range(0, len(matrix), 1 << 18):
        block = matrix[start:start + (1 << 18)]
        block[:] = rng.standard_normal(block.shape, dtype=np.float32) * 0.1
    return write_fasttext_bin(path, make_words(words, seed), matrix, minn=3, maxn=6, bucket=buckets)


def bench_load(folder: Path, words: int, buckets: int) -> list[dict]:
    """Load the model with both readers, alternating; check they agree; one result row."""
    from gensim.models.fasttext import load_facebook_vectors

    path = make_model(folder / "model.bin", words, buckets)
    size_mb = path.stat().st_size / 1e6
    times: dict[str, list] = {"ours": [], "gensim": []}
    for turn in range(ROUNDS):
        order = ("ours", "gensim") if turn % 2 == 0 else ("gensim", "ours")
        for name in order:
            load = (lambda: read_vectors(path)) if name == "ours" else (lambda: load_facebook_vectors(str(path)))
            times[name].append(timed(load))
            gc.collect()
    keys, vectors = read_vectors(path)
    kv = load_facebook_vectors(str(path))
    sample = np.random.default_rng(1).choice(len(keys), size=1000, replace=False)
    assert keys == kv.index_to_key and np.array_equal(vectors[sample], kv.vectors[sample])
    unknown = ["benchmarking", "zzyzx", "fasttext"]
    assert np.array_equal(FastTextSubwords(path).vectors(unknown), [kv.get_vector(w) for w in unknown])
    ours = (min(t[0] for t in times["ours"]), min(t[1] for t in times["ours"]))
    gensim = (min(t[0] for t in times["gensim"]), min(t[1] for t in times["gensim"]))
    return [row(f"load a {size_mb:,.0f} MB fastText .bin ({words // 1000}k words, {buckets // 1000}k buckets) (s)",
                ours, gensim, ">= 10x faster than gensim", reference_is="load_facebook_vectors")]


def run(quick: bool = False, megabytes: float | None = None) -> list[dict]:
    """The fastText benchmark: full size about 1 GB, ``quick`` a tenth, or about ``megabytes``."""
    scale = (megabytes / 1000) if megabytes else 0.1 if quick else 1.0
    logging.getLogger("gensim").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench_fasttext_") as tmp:
        return bench_load(Path(tmp), int(FULL_WORDS * scale), int(FULL_BUCKETS * scale))


if __name__ == "__main__":
    size = float(sys.argv[sys.argv.index("--megabytes") + 1]) if "--megabytes" in sys.argv else None
    for result in run(quick="--quick" in sys.argv, megabytes=size):
        print(result)
