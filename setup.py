"""Build hook: the shipped data (``data/`` in a checkout) travels in the wheel as ``embedspace/data/``.

Everything else about the package is in pyproject.toml. ``embedspace.paths.data_dir`` looks for
``embedspace/data`` first (an installed wheel), then the checkout's ``data/`` (a checkout, or an
editable install, which therefore copies nothing). The build scripts in ``data/`` stay out.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED_DATA = ("README.md", "word2vec", "mini", "minilm-distilled", "wordlists", "sentences")  # under data/


class BuildWithData(build_py):
    """``build_py``, then a copy of the shipped data into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's data/ where it is
        source = Path(__file__).resolve().parent / "data"
        target = Path(self.build_lib) / "embedspace" / "data"
        for name in SHIPPED_DATA:
            if (source / name).is_dir():
                shutil.copytree(source / name, target / name, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / name, target / name)


setup(cmdclass={"build_py": BuildWithData})
