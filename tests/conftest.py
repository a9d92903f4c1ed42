"""Fixtures shared by several test modules."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def minilm():
    """The shipped MiniLM W_E space, ``minilm-we`` (installed by `make test`); the test is skipped where it is absent."""
    from embedspace.catalog import load_space
    from transformer.minilm_files import ModelNotFound

    try:
        return load_space("minilm-we")
    except ModelNotFound:
        pytest.skip("all-MiniLM-L6-v2 is not installed")
