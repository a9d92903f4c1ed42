"""Each command imports only what it needs: the heavy packages stay out of the paths that do not use them.

A fresh interpreter runs one command and reports which of :data:`HEAVY` it imported (``sys.modules``).
The queries, probes, evaluation on a file, the parameter counts and generation import none of them;
a PNG, SVG or PDF needs matplotlib and nothing else heavy (PCA of a plot's words is numpy's SVD, a
Spearman numpy's ranks); an .html page needs none. Importing scikit-learn took ~6 s of a 6-word
``plot`` and scipy.stats 3.7 s of a ``probe`` on the busy 2-core machine (issue 11).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from transformer.minilm_files import ModelNotFound, find_minilm_dir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vectors"
HEAVY = ("gensim", "sklearn", "matplotlib", "scipy", "torch")
PROBE = f"""
import json, sys
from cli.main import cli
try:
    cli(sys.argv[1:], standalone_mode=False)
finally:
    print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))), file=sys.stderr)
"""
W2V = ("--space", "word2vec")
LIGHT = [  # (command line, the heavy packages it may import)
    (("neighbors", "king", *W2V), ()),
    (("calc", "king - man + woman", *W2V), ()),
    (("analogy", "king", "man", "woman", *W2V), ()),
    (("similarity", "cat", "dog", *W2V), ()),
    (("odd-one-out", "breakfast", "lunch", "dinner", "cereal", *W2V), ()),
    (("info", *W2V), ()),
    (("spaces",), ()),
    (("probe", "--direction", "cats - cat", "one", "two", "three", "four", *W2V), ()),
    (("probe", "--pairs", "gender", "--pca", *W2V), ()),
    (("evaluate", "analogies", "demo_analogies", *W2V), ()),
    (("evaluate", "similarity", "wordsim353", *W2V), ()),
    (("params", "--preset", "minilm"), ()),
    (("next", "the king said", "-t", "0.5"), ()),
    (("generate", "the king said", "-n", "3"), ()),
    (("plot", "king", "queen", "man", "woman", "prince", "princess", *W2V, "--out", "royals.html"), ()),
    (("plot", "king", "queen", "man", "woman", "prince", "princess", *W2V, "--out", "royals.png"), ("matplotlib",)),
    (("plot-analogy", "king", "man", "woman", *W2V, "--out", "analogy.png"), ("matplotlib",)),
    (("plot-probe", "--direction", "cats - cat", "dog", "dogs", *W2V, "--out", "plural.png"), ("matplotlib",)),
]


def heavy_imports(folder: Path, cache: Path, *args: str, runs: int = 1) -> list[str]:
    """The heavy packages imported by a fresh process running ``embedspace ARGS`` in ``folder``."""
    env = {**os.environ, "EMBEDSPACE_CACHE": str(cache)}
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env,
                              cwd=folder, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """A cache folder with the word2vec space's cache already built (the path the commands' goals are about)."""
    folder = tmp_path_factory.mktemp("import_cost")
    heavy_imports(folder, folder / "cache", "info", *W2V)
    return folder / "cache"


def test_neighbors_on_a_file_imports_nothing_heavy(tmp_path):
    # the second run reads the cache: the path the 0.4 s goal is about
    assert heavy_imports(tmp_path, tmp_path / "cache", "neighbors", "cat", "--space", str(FIXTURES / "tiny.bin"),
                         runs=2) == []


def test_neighbors_on_the_default_space_imports_nothing_heavy(tmp_path):
    try:
        find_minilm_dir()
    except ModelNotFound:
        pytest.skip("all-MiniLM-L6-v2 is not installed (the default is then word2vec)")
    assert heavy_imports(tmp_path, tmp_path / "cache", "neighbors", "tower", runs=2) == []


def name(args: tuple[str, ...]) -> str:
    """``plot .png``, ``probe --pairs``: the command, its first option or word, and the output's suffix."""
    out = Path(args[args.index("--out") + 1]).suffix if "--out" in args else ""
    option = args[1] if len(args) > 1 and args[1].startswith("--") else ""
    return " ".join(filter(None, (args[0], option, out)))


@pytest.mark.parametrize("args, allowed", LIGHT, ids=[name(args) for args, _ in LIGHT])
def test_a_command_imports_only_the_heavy_packages_it_needs(args, allowed, cache, tmp_path):
    assert heavy_imports(tmp_path, cache, *args) == sorted(allowed)
