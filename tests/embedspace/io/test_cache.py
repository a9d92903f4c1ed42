"""The cache: written on first load, memory-mapped after, rebuilt when stale, never left half-written."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from embedspace.io import cache, formats, word2vec_binary
from embedspace.io.registry import file_cache_key, load_space
from runtime import files

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vectors"
REFERENCE = np.load(FIXTURES / "tiny_vectors.npy")


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(folder))
    return folder


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "vectors.bin"
    shutil.copy(FIXTURES / "tiny.bin", path)
    return path


def entry(path: Path, limit=None) -> Path:
    return cache.cache_root() / file_cache_key(path, limit)


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    assert cache.cache_root() == tmp_path / "cache"
    monkeypatch.delenv("EMBEDSPACE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and os.uname().sysname == "Linux":
        assert cache.cache_root() == tmp_path / "xdg" / "embedspace"


def test_first_load_writes_the_cache_and_the_second_maps_it(tmp_path):
    source = tmp_path / "vectors.txt"
    shutil.copy(FIXTURES / "tiny.txt", source)
    first = load_space(source)
    assert not isinstance(first.vectors, np.memmap)
    assert sorted(p.name for p in entry(source).iterdir()) == ["meta.json", "vectors.npy", "vocab.txt"]
    second = load_space(source)
    assert isinstance(second.vectors, np.memmap)
    assert second.index_to_key == first.index_to_key
    np.testing.assert_array_equal(second.vectors, REFERENCE)
    assert not second.vectors.flags.writeable


def test_binary_files_are_read_straight_into_the_cache(source, cache_dir):
    first = load_space(source)
    assert isinstance(first.vectors, np.memmap)  # the new cache file, mapped while it was filled
    np.testing.assert_array_equal(first.vectors, REFERENCE)
    np.testing.assert_array_equal(np.load(entry(source) / "vectors.npy"), REFERENCE)
    assert [p.name for p in cache_dir.iterdir()] == [entry(source).name]  # no temporary left


def test_duplicates_in_a_binary_file_are_cached_without_them(tmp_path, caplog):
    path = tmp_path / "dup.bin"
    formats.write_word2vec(path, ["a", "b", "c"], np.arange(6, dtype=np.float32).reshape(3, 2), binary=True)
    path.write_bytes(path.read_bytes().replace(b"c ", b"a ", 1))
    for _ in range(2):  # built, then reloaded
        space = load_space(path)
        assert space.index_to_key == ["a", "b"]
        np.testing.assert_array_equal(space.vectors, [[0, 1], [2, 3]])
    assert "duplicate key" in caplog.text


def test_changed_source_makes_the_cache_stale(source):
    load_space(source)
    keys = ["a", "b"]
    formats.write_word2vec(source, keys, np.array([[1, 2], [3, 4]], np.float32), binary=True)
    reloaded = load_space(source)
    assert reloaded.index_to_key == keys
    np.testing.assert_array_equal(reloaded.vectors, [[1, 2], [3, 4]])
    assert isinstance(load_space(source).vectors, np.memmap)


def test_same_size_and_mtime_but_new_content_is_noticed_by_the_hash(source):
    load_space(source)
    status = os.stat(source)
    content = source.read_bytes().replace(b"cat ", b"cap ", 1)
    source.write_bytes(content)
    os.utime(source, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert os.stat(source).st_size == status.st_size
    assert load_space(source).index_to_key[0] == "cap"


def test_damaged_cache_is_rebuilt(source, caplog):
    load_space(source)
    (entry(source) / "vectors.npy").write_bytes(b"garbage")
    space = load_space(source)
    np.testing.assert_array_equal(space.vectors, REFERENCE)
    assert "damaged cache" in caplog.text
    assert isinstance(load_space(source).vectors, np.memmap)


@pytest.mark.parametrize("step", ["check_finite", "replace_folder"])
def test_interrupted_cache_write_leaves_nothing_behind(source, monkeypatch, cache_dir, step):
    """Killed while the vectors are read into the new entry, or just before it is renamed into place."""
    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(word2vec_binary if step == "check_finite" else files, step, crash)
    with pytest.raises(KeyboardInterrupt):
        load_space(source)
    assert list(cache_dir.iterdir()) == []
    monkeypatch.undo()
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(cache_dir))
    np.testing.assert_array_equal(load_space(source).vectors, REFERENCE)
    assert isinstance(load_space(source).vectors, np.memmap)


def test_a_limit_gets_its_own_entry(source):
    assert len(load_space(source, limit=4)) == 4
    assert len(load_space(source)) == 12
    assert isinstance(load_space(source, limit=4).vectors, np.memmap)
    assert entry(source, 4).is_dir() and entry(source).is_dir()


def test_unwritable_cache_still_loads(source, monkeypatch, tmp_path, caplog):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(blocker / "cache"))
    space = load_space(source)
    np.testing.assert_array_equal(space.vectors, REFERENCE)
    assert "could not write the cache" in caplog.text
