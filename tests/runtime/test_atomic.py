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


# -- atomic_folder: the one atomic folder replacement (spaces, caches, checkpoints) ------------------------------
def test_a_folder_replaces_the_old_one_whole(tmp_path):
    from runtime.files import atomic_folder

    dest = tmp_path / "space"
    for content in ("old", "new"):
        with atomic_folder(dest) as tmp:
            assert tmp.parent == tmp_path and tmp.name.startswith(".space.") and tmp.name.endswith(".tmp")
            (tmp / "x").write_text(content)
    assert (dest / "x").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["space"]


def test_an_interrupted_folder_leaves_the_old_one_and_no_temporary(tmp_path):
    from runtime.files import atomic_folder

    dest = tmp_path / "model"
    dest.mkdir()
    (dest / "config.json").write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_folder(dest) as tmp:
        (tmp / "config.json").write_text("half")
        raise KeyboardInterrupt
    assert (dest / "config.json").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_folder_gets_an_ordinary_folder_s_permissions_or_the_mode_asked(tmp_path):
    from runtime.files import atomic_folder

    old_umask = os.umask(0o022)
    try:
        with atomic_folder(tmp_path / "shared"):
            pass
        with atomic_folder(tmp_path / "private", mode=0o700):
            pass
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "shared").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o700


def test_checkpoints_and_space_folders_use_it(tmp_path, monkeypatch):
    """Both writers go through runtime.files.replace_folder: one implementation."""
    import numpy as np

    from embedspace.io.space_folder import write_space_dir
    from runtime import files
    from transformer.checkpoint import write_atomically

    swaps = []
    real = files.replace_folder
    monkeypatch.setattr(files, "replace_folder", lambda source, dest: (swaps.append(dest.name), real(source, dest)))
    write_atomically(tmp_path / "step-000001", lambda folder: (folder / "state.json").write_text("{}"))
    write_space_dir(tmp_path / "space", ["a"], np.ones((1, 2), np.float32), {})
    assert swaps == ["step-000001", "space"]


def test_stale_temporaries_of_gone_processes_are_removed_and_nothing_else(tmp_path):
    import time

    from runtime.files import atomic_folder, host_tag, remove_stale_temporaries

    host, old = host_tag(), time.time() - 7200
    names = {
        f".a.abcd1234.999999999@{host}.tmp": True,  # old, its process gone: removed
        f".b.abcd1234.{os.getpid()}@{host}.tmp": False,  # its process lives
        f".c.abcd1234.999999999@{host}.tmp": False,  # a file inside was written recently
        ".d.abcd1234.1@ffffffff.old": True,  # another host: the age alone decides
        ".e.not-a-temporary": False,
    }
    for name in names:
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (old, old))
    (tmp_path / f".c.abcd1234.999999999@{host}.tmp" / "vectors.npy").write_bytes(b"")
    with atomic_folder(tmp_path / "live") as live:  # a live build of this very process, made old
        os.utime(live, (old, old))
        removed = {p.name for p in remove_stale_temporaries(tmp_path)}
        assert live.exists()
    assert removed == {name for name, gone in names.items() if gone}


def test_the_host_tag_names_this_machine_as_socket_does():
    import hashlib
    import socket

    from runtime.files import host_tag

    # temporaries written by an earlier version (which hashed socket.gethostname()) keep their owner
    assert host_tag() == hashlib.blake2b(socket.gethostname().encode("utf-8"), digest_size=4).hexdigest()
