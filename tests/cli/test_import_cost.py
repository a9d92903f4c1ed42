"""The query path stays light: ``embedspace neighbors`` never imports gensim, scikit-learn or matplotlib."""
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


def heavy_imports(tmp_path: Path, *args: str) -> list[str]:
    """The heavy packages imported by a fresh process running ``embedspace ARGS``."""
    env = {**os.environ, "EMBEDSPACE_CACHE": str(tmp_path / "cache")}
    for _ in range(2):  # the second run reads the cache: the path the 0.4 s goal is about
        done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env,
                              timeout=60, check=False)
        assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_neighbors_on_a_file_imports_nothing_heavy(tmp_path):
    assert heavy_imports(tmp_path, "neighbors", "cat", "--space", str(FIXTURES / "tiny.bin")) == []


def test_neighbors_on_the_default_space_imports_nothing_heavy(tmp_path):
    try:
        find_minilm_dir()
    except ModelNotFound:
        pytest.skip("all-MiniLM-L6-v2 is not installed (the default is then word2vec)")
    assert heavy_imports(tmp_path, "neighbors", "tower") == []
