"""The array-module dispatch, tested without a GPU: a fake ``cupy`` module stands in for CuPy."""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from transformer import backend


class FakeArray:
    """Wraps a numpy array the way a CuPy array wraps device memory."""

    def __init__(self, data):
        self.data = np.asarray(data)


@pytest.fixture
def fake_cupy(monkeypatch):
    module = types.ModuleType("cupy")
    module.ndarray = FakeArray
    module.asarray = FakeArray
    module.asnumpy = lambda array: array.data.copy()
    monkeypatch.setitem(sys.modules, "cupy", module)
    return module


def test_cpu_is_the_default(monkeypatch):
    monkeypatch.delenv(backend.DEVICE_ENV, raising=False)
    assert backend.resolve_device() == "cpu"
    assert backend.get_xp() is np


def test_environment_variable_and_argument_choose_cuda(monkeypatch, fake_cupy):
    monkeypatch.setenv(backend.DEVICE_ENV, "cuda")
    assert backend.get_xp() is fake_cupy
    assert backend.get_xp("cpu") is np            # the argument wins over the environment
    monkeypatch.setenv(backend.DEVICE_ENV, "cpu")
    assert backend.get_xp("cuda") is fake_cupy


def test_missing_cupy_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` raise ImportError
    with pytest.raises(backend.DeviceUnavailable, match=r"pip install 'embedspace\[gpu\]'"):
        backend.get_xp("cuda")


def test_unknown_device_is_a_value_error():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        backend.resolve_device("tpu")


def test_arrays_know_their_module_and_come_back_as_numpy(fake_cupy):
    on_device = FakeArray([1.0, 2.0])
    assert backend.xp_of(on_device) is fake_cupy
    assert backend.xp_of(np.zeros(1)) is np
    host = backend.asnumpy(on_device)
    assert isinstance(host, np.ndarray) and host.tolist() == [1.0, 2.0]


def test_to_device_moves_every_leaf_of_a_nested_tree(fake_cupy):
    tree = {"wte": np.ones(2), "blocks": [{"w": np.zeros(3)}]}
    moved = backend.to_device(tree, fake_cupy)
    assert isinstance(moved["wte"], FakeArray) and isinstance(moved["blocks"][0]["w"], FakeArray)
    back = backend.to_device(moved, np)
    assert isinstance(back["blocks"][0]["w"], np.ndarray) and back["wte"].tolist() == [1.0, 1.0]
    assert backend.to_device(tree, np)["wte"] is tree["wte"]   # no copy when already there


def test_float32_erf_is_within_float32_resolution_of_scipy():
    from scipy.special import erf as exact
    x = np.linspace(-7, 7, 20001)
    fast = backend.erf(x.astype(np.float32))
    assert fast.dtype == np.float32
    assert np.abs(fast.astype(np.float64) - exact(x)).max() < 1e-6
    assert np.array_equal(backend.erf(x), exact(x))          # float64 goes to scipy itself
