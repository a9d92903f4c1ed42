import os
import stat

import pytest

from runtime.files import atomic_file, default_file_mode


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "kept.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(target, "w") as out:
        out.write("half of the new")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.txt"]


def test_a_written_file_gets_an_ordinary_file_s_permissions(tmp_path):
    old_umask = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "deep" / "figure.png") as out:
            out.write(b"\x89PNG")
        plain = tmp_path / "plain"
        plain.write_bytes(b"")
    finally:
        os.umask(old_umask)
    mode = stat.S_IMODE((tmp_path / "deep" / "figure.png").stat().st_mode)
    assert mode == stat.S_IMODE(plain.stat().st_mode) == 0o644
    assert default_file_mode() == 0o666 & ~old_umask


def test_model_and_checkpoint_files_get_ordinary_permissions(tmp_path):
    """safetensors creates its files readable by the owner alone; a model folder is meant to be shared."""
    import numpy as np

    from transformer.checkpoint import save_model
    from transformer.config import TransformerConfig
    from transformer.model import init_params

    cfg = TransformerConfig(vocab_size=5, n_ctx=4, n_embd=4, n_head=1, n_layer=1)
    old_umask = os.umask(0o022)
    try:
        folder = save_model(tmp_path / "model", init_params(cfg), cfg, dtype=np.float16)
    finally:
        os.umask(old_umask)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
    assert modes == {"model.safetensors": 0o644, "config.json": 0o644}
