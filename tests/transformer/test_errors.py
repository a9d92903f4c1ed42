"""The transformer's user errors: one base (TransformerError, a runtime UserError), builtin bases kept."""
from __future__ import annotations

import numpy as np
import pytest

from runtime.errors import UserError
from transformer.backend import DeviceUnavailable
from transformer.errors import InvalidInput, TransformerError, UnsupportedCheckpoint
from transformer.minilm_files import ChecksumMismatch, ModelNotFound
from transformer.train import TrainingDiverged


@pytest.mark.parametrize("error, builtin", [
    (InvalidInput, ValueError), (UnsupportedCheckpoint, ValueError), (ModelNotFound, FileNotFoundError),
    (ChecksumMismatch, ValueError), (DeviceUnavailable, ImportError), (TrainingDiverged, FloatingPointError)])
def test_every_transformer_error_is_a_user_error_and_keeps_its_builtin_base(error, builtin):
    assert issubclass(error, TransformerError) and issubclass(error, UserError) and issubclass(error, builtin)
    with pytest.raises(builtin, match="one line"):                 # existing `except FileNotFoundError` still work
        raise error("one line")


def test_what_a_user_gets_wrong_raises_invalid_input():
    from transformer.backend import resolve_device
    from transformer.config import TransformerConfig
    from transformer.generate import distribution, generate, top_k
    from transformer.model import init_params
    from transformer.train import TrainConfig, get_batch, train

    cfg = TransformerConfig(vocab_size=10, n_ctx=4, n_embd=8, n_head=2, n_layer=1)
    cases = [
        (lambda: resolve_device("tpu"), "unknown device"),
        (lambda: TransformerConfig(vocab_size=0, n_ctx=4, n_embd=8, n_head=2, n_layer=1), "vocab_size"),
        (lambda: distribution(np.zeros(3), -1.0), "temperature"),
        (lambda: top_k(np.ones(3), 0), "k must be"),
        (lambda: generate(init_params(cfg), cfg, [1], -1), "max_new_tokens"),
        (lambda: TrainConfig(steps=0), "steps"),
        (lambda: get_batch(np.arange(3), 1, 4, np.random.default_rng(0)), "need more than"),
        (lambda: train(cfg, np.arange(100) % 10, np.arange(100) % 10, TrainConfig(steps=1), threads=0), "threads"),
    ]
    for call, match in cases:
        with pytest.raises(InvalidInput, match=match):
            call()
