"""The built wheel carries every package and the shipped data, and works outside the checkout.

The wheel is built offline with the installed setuptools (the PEP 517 hook pip calls), from a
copy of the sources, so the checkout gets no build/ or egg-info folder.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("embedspace", "transformer", "cli", "runtime")
SHIPPED = ("word2vec", "mini", "minilm-distilled", "wordlists", "sentences")  # data/ folders that install as embedspace/data/
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", *PACKAGES, "data")
BUILD = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"


def setuptools_builds_wheels() -> bool:
    try:
        from setuptools.command import bdist_wheel  # noqa: F401 - built in since setuptools 70.1
    except ImportError:
        return False
    return True


pytestmark = pytest.mark.skipif(not setuptools_builds_wheels(),
                                reason="needs setuptools >= 77 (the dev extra: make install)")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-c", BUILD, str(out)], cwd=source, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return out / done.stdout.strip().splitlines()[-1]


def shipped_files() -> list[str]:
    """Every shipped data file, as its path inside the wheel."""
    files = [ROOT / "data" / "README.md"]
    for folder in SHIPPED:
        files += [path for path in (ROOT / "data" / folder).rglob("*") if path.is_file()]
    return [f"embedspace/data/{path.relative_to(ROOT / 'data').as_posix()}" for path in files]


def package_files() -> list[str]:
    """Every module of every package (and every file in a package's assets/ folder)."""
    found = []
    for package in PACKAGES:
        for folder in [ROOT / package, *(ROOT / package).rglob("*")]:
            if folder.is_dir() and (folder / "__init__.py").is_file():
                found += [path for path in folder.glob("*.py")]
                found += [path for path in (folder / "assets").glob("*") if path.is_file()]
    return [path.relative_to(ROOT).as_posix() for path in found]


def test_the_wheel_holds_every_package_and_the_shipped_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert len(shipped_files()) > 20 and "embedspace/data/word2vec/vectors.npy" in shipped_files()
    assert sorted(set(shipped_files()) - names) == []
    assert "runtime/threads.py" in package_files() and "embedspace/io/registry.py" in package_files()
    assert sorted(set(package_files()) - names) == []
    assert not {name for name in names if name.startswith(("data/", "tests/", "benchmarks/"))}
    assert not {name for name in names if name.startswith("embedspace/data/") and name.endswith(".py")}  # no build scripts
    entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
    assert "embedspace = cli.main:cli" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_unpacked_wheel_answers_like_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {key: value for key, value in os.environ.items() if key != "EMBEDSPACE_DATA"}
    env |= {"PYTHONPATH": str(site), "EMBEDSPACE_CACHE": str(tmp_path / "cache")}
    query = [sys.executable, "-m", "cli", "neighbors", "tower", "--space", "word2vec", "--json"]
    where = [sys.executable, "-c", "import embedspace.paths as p; print(p.data_dir())"]
    installed = subprocess.run(query, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert installed.returncode == 0, installed.stderr
    data = subprocess.run(where, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert Path(data.stdout.strip()) == site / "embedspace" / "data"
    checkout = subprocess.run(query, cwd=ROOT, env=env | {"PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                              timeout=120, check=True)
    assert json.loads(installed.stdout) == json.loads(checkout.stdout)
