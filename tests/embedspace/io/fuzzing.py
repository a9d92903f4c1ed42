"""Damaged vector files of every format, made deterministically, and the check each must pass.

``cases(count, seed)`` yields ``(name, bytes)``: a valid fixture (word2vec binary, in gensim's and in
the C tool's layout, word2vec text, GloVe, fastText .vec and native .bin) damaged in one to four
ways (truncation, flipped bytes, inserted tokens, deleted or repeated runs, wrong or huge headers,
huge declared sizes in a native .bin, NaN and infinities, an empty file, a byte-order mark, CRLF
line ends, tabs, a very long line), possibly compressed (gzip, bzip2, xz) before or after the damage.

:func:`outcome` reads one file and sorts the result: ``"loaded"`` (a valid space), ``"error"`` (one of
our error types, naming the file) or ``"bug"`` (anything else: another exception, a space that
breaks the rules, a read that does not end within ``TIME_LIMIT_S`` or allocates more than
``MEMORY_LIMIT`` bytes of Python/numpy memory).

Outside the test suite, ``python tests/embedspace/io/fuzzing.py 10000`` runs that many files and
prints the counts (exit status 1 if any is a bug).
"""
from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
import random
import signal
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vectors"
SEEDS = ("tiny.bin", "tiny_c.bin", "tiny.txt", "tiny.glove.txt", "tiny.vec", "tiny_fasttext.bin")
COMPRESSORS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}
TOKENS = [b" ", b"\n", b"\r\n", b"\t", b"\x00", b"\xff", b"\x80", b"\xc3", b"\xef\xbb\xbf", b"nan", b"-inf", b"inf",
          b"1e40", b"-1e38", b"1e38", b"99999999999", b"0 4\n", b"7 3\n", b"0 0\n", b"-", b"e", b".", b"\x1f\x8b"]
TIME_LIMIT_S = 10  # a read that takes longer is taken as a hang
MEMORY_LIMIT = 64 << 20  # peak bytes allocated by one read of a file of a few KiB


def cases(count: int, seed: int = 0) -> Iterator[tuple[str, bytes]]:
    """``count`` damaged files ``(name, content)``, the same for the same ``seed``."""
    originals = {name: (FIXTURES / name).read_bytes() for name in SEEDS}
    for index in range(count):
        rng = random.Random(seed * 1_000_003 + index)
        name = SEEDS[index % len(SEEDS)]
        data = bytearray(originals[name])
        suffix = rng.choice(["", "", "", ".gz", ".bz2", ".xz"])
        compress_first = suffix and rng.random() < 0.2
        if compress_first:
            data = bytearray(COMPRESSORS[suffix](bytes(data)))
        for _ in range(rng.randint(1, 4)):
            data = mutate(rng, data, name)
        if suffix and not compress_first:
            data = bytearray(COMPRESSORS[suffix](bytes(data)))
        yield name + suffix, bytes(data)


def mutate(rng: random.Random, data: bytearray, name: str) -> bytearray:
    """``data`` with one random kind of damage."""
    at = rng.randint(0, max(len(data) - 1, 0))
    kind = rng.choice(["flip", "flip", "delete", "insert", "insert", "truncate", "duplicate", "header", "huge",
                       "empty", "bom", "crlf", "tabs", "long line", "number"])
    if kind == "flip" and data:
        data[at] = rng.randrange(256)
    elif kind == "delete":
        del data[at:at + rng.randint(1, 40)]
    elif kind == "insert":
        data[at:at] = rng.choice(TOKENS) if rng.random() < 0.7 else rng.randbytes(rng.randint(1, 8))
    elif kind == "truncate":
        del data[at:]
    elif kind == "duplicate":
        data[at:at] = data[at:at + rng.randint(1, 60)]
    elif kind == "header":
        first = data.find(b"\n")
        count, dim = rng.choice([0, 1, 11, 12, 13, 2**31, 10**12]), rng.choice([0, 1, 5, 6, 7, 2**20, 2**31, 10**12])
        data[:first + 1 if first >= 0 else 0] = f"{count} {dim}\n".encode()
    elif kind == "huge":  # a huge int32/int64 field in a binary header (the native .bin's args, dictionary, matrix)
        where = rng.choice([0, 4, 8, 40, 64, 68, 72, 76, 84]) if len(data) > 90 else at
        field = rng.choice([b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80", b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"])
        data[where:where + 4] = field
    elif kind == "empty":
        data = bytearray()
    elif kind == "bom":
        data[0:0] = b"\xef\xbb\xbf" if rng.random() < 0.8 else b"\xff\xfe"
    elif kind == "crlf":
        data = bytearray(bytes(data).replace(b"\n", b"\r\n"))
    elif kind == "tabs":
        data = bytearray(bytes(data).replace(b" ", b"\t", rng.randint(1, 50)))
    elif kind == "long line":
        data[at:at] = b"x" * rng.choice([1000, 70_000, 300_000])
    elif kind == "number":
        data[at:at] = rng.choice([b" nan", b" inf", b" 1e39", b" -3.5e38", b" 3e38", b" 0x10", b" 1_0"])
    return data


class Timeout(Exception):
    """A read ran past ``TIME_LIMIT_S``."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`Timeout` in the block after ``seconds`` (SIGALRM: main thread, Unix)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise Timeout(f"no result after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def valid_space(keys, vectors, finite: bool = True) -> str | None:
    """Why ``(keys, vectors)`` breaks a Space's rules (None: it keeps them); ``finite``: values must be."""
    if not (isinstance(vectors, np.ndarray) and vectors.dtype == np.float32 and vectors.ndim == 2):
        return f"vectors are {type(vectors).__name__} {getattr(vectors, 'dtype', '')}"
    if len(keys) != vectors.shape[0] or len(set(keys)) != len(keys) or not keys or vectors.shape[1] == 0:
        return f"{len(keys)} keys ({len(set(keys))} distinct) for vectors {vectors.shape}"
    if finite and not np.isfinite(vectors).all():
        return "NaN or infinity in the vectors"
    if not all(isinstance(k, str) and "\n" not in k for k in keys):
        return "a key that is no string or holds a line break"
    return None


def outcome(path: Path, read, finite: bool = True) -> tuple[str, str]:
    """``(kind, detail)`` of ``read(path) -> (keys, vectors)``: "loaded", "error" or "bug".

    ``finite=False`` for space folders, whose values are not checked (they load as instant maps)."""
    from runtime.errors import UserError

    tracemalloc.start()
    try:
        with time_limit(TIME_LIMIT_S), warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # a leaked numpy warning is a bug too
            keys, vectors = read(path)
    except UserError as error:
        if not str(error).startswith(str(path)) and "encoding" not in str(error):
            return "bug", f"error without the file's name: {error}"
        return "error", str(error)
    except Exception as error:  # noqa: BLE001 - anything else is what the fuzzing looks for
        return "bug", f"{type(error).__name__}: {error}"
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    if peak > MEMORY_LIMIT:
        return "bug", f"allocated {peak} bytes"
    fault = valid_space(keys, vectors, finite)
    return ("bug", fault) if fault else ("loaded", f"{len(keys)} x {vectors.shape[1]}")


def run(count: int, seed: int = 0) -> tuple[Counter, list[tuple[str, str]]]:
    """Read ``count`` damaged files with ``read_vectors``; the counts of each outcome and the bugs."""
    from embedspace.io.formats import read_vectors

    counts, bugs = Counter(), []
    with tempfile.TemporaryDirectory(prefix="fuzz_vectors_") as folder:
        for index, (name, data) in enumerate(cases(count, seed)):
            path = Path(folder) / f"{index}-{name}"
            path.write_bytes(data)
            kind, detail = outcome(path, read_vectors)
            counts[kind] += 1
            if kind == "bug":
                bugs.append((path.name, detail))
            path.unlink()
    return counts, bugs


def main(argv: list[str]) -> int:
    """``fuzzing.py [COUNT [SEED]]``: print the counts of loaded / clean error / anything else."""
    count = int(argv[0]) if argv else 10_000
    seed = int(argv[1]) if len(argv) > 1 else 1
    start = time.perf_counter()
    counts, bugs = run(count, seed)
    print(f"{count} damaged files (seed {seed}) in {time.perf_counter() - start:.0f} s: "
          f"loaded {counts['loaded']}, clean error {counts['error']}, anything else {counts['bug']}")
    for name, detail in bugs[:20]:
        print(f"  {name}: {detail}")
    return 1 if bugs else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    raise SystemExit(main(sys.argv[1:]))


def space_folder_cases(count: int, seed: int = 0) -> Iterator[tuple[str, dict[str, bytes]]]:
    """``count`` damaged space folders: ``(file damaged, {file name: content})``."""
    from embedspace.io.space_folder import write_space_dir

    keys = [line for line in (FIXTURES / "tiny.txt").read_text("utf-8").split("\n")[1:] if line]
    with tempfile.TemporaryDirectory() as folder:
        write_space_dir(Path(folder) / "s", [k.split(" ")[0] for k in keys], np.load(FIXTURES / "tiny_vectors.npy"),
                        {"origin": "fuzz"})
        originals = {p.name: p.read_bytes() for p in (Path(folder) / "s").iterdir()}
    for index in range(count):
        rng = random.Random(seed * 1_000_003 + index)
        files = dict(originals)
        name = rng.choice(sorted(files))
        data = bytearray(files[name])
        for _ in range(rng.randint(1, 3)):
            data = mutate(rng, data, name)
        files[name] = bytes(data)
        yield name, files
