"""The array-module dispatch, tested without a GPU: a fake ``cupy`` module stands in for CuPy."""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from transformer import backend
from transformer.errors import InvalidInput


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
    with pytest.raises(InvalidInput, match="unknown device 'tpu'"):
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


class DeviceArray(np.ndarray):
    """Stands in for a CuPy array: numpy underneath, but a different type the backend must track."""


def numpy_backed_cupy(monkeypatch):
    """Fake ``cupy`` and ``cupyx`` modules whose arrays are DeviceArray, so the CuPy branch runs on the CPU."""
    def to_device(a, dtype=None):
        return np.asarray(a, dtype=dtype).view(DeviceArray)

    def device_version(name):
        return lambda *args, **kwargs: getattr(np, name)(*args, **kwargs).view(DeviceArray)

    module = types.ModuleType("cupy")
    module.ndarray, module.asarray = DeviceArray, to_device
    module.asnumpy = lambda a: np.array(a).view(np.ndarray)
    for name in ("zeros", "empty", "ones", "arange", "tril"):
        setattr(module, name, device_version(name))
    module.__getattr__ = lambda name: getattr(np, name)      # everything else: numpy's own
    cupyx = types.ModuleType("cupyx")
    cupyx.scatter_add = np.add.at
    monkeypatch.setitem(sys.modules, "cupy", module)
    monkeypatch.setitem(sys.modules, "cupyx", cupyx)
    return module


def test_training_through_the_cupy_branch_equals_numpy(monkeypatch):
    from transformer.config import TransformerConfig
    from transformer.model import forward
    from transformer.train import TrainConfig, train

    cfg = TransformerConfig(vocab_size=12, n_ctx=6, n_embd=8, n_head=2, n_layer=1)
    tc = TrainConfig(steps=4, batch_size=2, eval_every=2, eval_batches=1, checkpoint_every=0)
    data = np.arange(200, dtype=np.int32) % 12
    on_cpu = train(cfg, data, data, tc)
    fake = numpy_backed_cupy(monkeypatch)
    on_device = train(cfg, data, data, tc, device="cuda")
    for name in on_cpu.params["blocks"][0]["mlp"]["c_fc"]:
        host = on_device.params["blocks"][0]["mlp"]["c_fc"][name]
        assert type(host) is np.ndarray                       # results come back to the host
        np.testing.assert_allclose(host, on_cpu.params["blocks"][0]["mlp"]["c_fc"][name], rtol=1e-6)
    for ours, reference in zip(on_device.history, on_cpu.history, strict=True):
        assert ours["val_loss"] == pytest.approx(reference["val_loss"], rel=1e-6)
    device_params = backend.to_device(on_cpu.params, fake)
    logits, cache = forward(device_params, [[1, 2, 3]], cfg)
    assert type(logits) is DeviceArray and type(cache.hidden_states[1]) is DeviceArray
    assert type(backend.asnumpy(cache.attentions[0])) is np.ndarray


def test_row_dot_without_vecdot_falls_back_to_einsum(monkeypatch):
    from transformer.layers import layer_norm_forward

    fake = numpy_backed_cupy(monkeypatch)
    fake.vecdot = None                                        # an array library without vecdot
    x = np.random.default_rng(0).standard_normal((3, 5, 8))
    on_device = backend.row_dot(fake.asarray(x), fake.asarray(x))
    np.testing.assert_allclose(on_device, (x * x).sum(axis=-1), rtol=1e-12)
    g, b = np.ones(8), np.zeros(8)
    out, _ = layer_norm_forward(fake.asarray(x), fake.asarray(g), fake.asarray(b))
    np.testing.assert_allclose(out, layer_norm_forward(x, g, b)[0], rtol=1e-12, atol=1e-12)
