"""The cache: written on first load, memory-mapped after, rebuilt when stale, never left half-written."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from embedspace.catalog import load_space
from embedspace.io import cache, formats, word2vec_binary
from embedspace.io.loading import file_cache_key
from embedspace.space import Space
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


# -- staleness the quick check used to miss (issue 13, hole 2) ------------------------------------------------
@pytest.fixture
def big_source(tmp_path):
    """A word2vec .bin of about 3 MiB: its middle lies beyond the hashed first and last MiB."""
    rng = np.random.default_rng(0)
    keys = [f"w{i:05d}" for i in range(6000)]
    path = formats.write_word2vec(tmp_path / "big.bin", keys, rng.normal(size=(6000, 128)).astype(np.float32), binary=True)
    middle = path.read_bytes().index(b"w03000 ")
    assert cache.SAMPLE_BYTES < middle < path.stat().st_size - cache.SAMPLE_BYTES
    return path


def changed_in_the_middle(path: Path) -> bytes:
    """The file's content with one key in its middle renamed (same size, same ends)."""
    data = path.read_bytes()
    return data.replace(b"w03000 ", b"x03000 ", 1)


def test_middle_changed_with_size_and_mtime_restored_is_noticed(big_source):
    assert load_space(big_source).index_to_key[3000] == "w03000"
    status = os.stat(big_source)
    big_source.write_bytes(changed_in_the_middle(big_source))
    os.utime(big_source, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert os.stat(big_source).st_size == status.st_size and os.stat(big_source).st_mtime_ns == status.st_mtime_ns
    assert load_space(big_source).index_to_key[3000] == "x03000"  # the ctime moved


def test_replaced_by_rename_with_same_size_mtime_and_ends_is_noticed(big_source, tmp_path):
    assert load_space(big_source).index_to_key[3000] == "w03000"
    status = os.stat(big_source)
    replacement = tmp_path / "replacement.bin"
    replacement.write_bytes(changed_in_the_middle(big_source))
    os.utime(replacement, ns=(status.st_atime_ns, status.st_mtime_ns))
    os.replace(replacement, big_source)
    assert load_space(big_source).index_to_key[3000] == "x03000"  # another inode


def test_verify_compares_the_whole_content(big_source, monkeypatch):
    """A change no stamp shows (simulated: the stamp is frozen) is found by verify=True alone."""
    def build(allocate):
        keys, vectors = formats.read_vectors(big_source, allocate=allocate)
        return Space(keys, vectors)

    key = file_cache_key(big_source, None)
    assert cache.cached_space(big_source, key, build, verify=True).index_to_key[3000] == "w03000"
    frozen = cache.source_stamp(big_source)
    big_source.write_bytes(changed_in_the_middle(big_source))
    monkeypatch.setattr(cache, "source_stamp", lambda path: frozen)
    assert cache.cached_space(big_source, key, build).index_to_key[3000] == "w03000"  # stale, undetected
    assert cache.cached_space(big_source, key, build, verify=True).index_to_key[3000] == "x03000"
    assert isinstance(cache.cached_space(big_source, key, build, verify=True).vectors, np.memmap)


def test_verify_rebuilds_an_entry_made_without_it(source):
    key = file_cache_key(source, None)
    calls = []

    def build(allocate):
        calls.append(1)
        return Space(*formats.read_vectors(source, allocate=allocate))

    cache.cached_space(source, key, build)
    cache.cached_space(source, key, build, verify=True)  # no content hash stored: rebuilt, now with one
    cache.cached_space(source, key, build, verify=True)
    assert len(calls) == 2


# -- orphans of killed builds (hole 5) ---------------------------------------------------------------------
KILLED_BUILD = """
import sys, time
from embedspace.io.cache import cached_space
from embedspace.space import Space

def build(allocate):
    allocate((1000, 1000))  # the new entry's vectors.npy, preallocated on disk
    print("building", flush=True)
    time.sleep(60)

cached_space(sys.argv[1], "file-killed", build)
"""


def test_a_killed_build_leaves_a_folder_that_a_later_build_removes(source, cache_dir):
    child = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(source)], stdout=subprocess.PIPE,
                             env={**os.environ, "EMBEDSPACE_CACHE": str(cache_dir)})
    try:
        assert child.stdout.readline() == b"building\n"
    finally:
        child.kill()
        child.wait()
    orphans = [p for p in cache_dir.iterdir() if p.name.startswith(".file-killed.")]
    assert len(orphans) == 1 and (orphans[0] / "vectors.npy").stat().st_size >= 4_000_000
    load_space(source)
    assert orphans[0].exists()  # younger than an hour: it could be a live build on a stalled disk
    for path in (orphans[0], *orphans[0].iterdir()):
        os.utime(path, (time.time() - 7200,) * 2)
    load_space(source, limit=3)  # another build
    assert not orphans[0].exists()
    assert sorted(p.name for p in cache_dir.iterdir()) == sorted([entry(source).name, entry(source, 3).name])


def test_only_old_orphans_of_gone_processes_are_removed(source, cache_dir):
    host = files.host_tag()
    old = time.time() - 7200
    kept = {
        f".file-a.abcd1234.{os.getpid()}@{host}.tmp": old,  # a live process (this one)
        f".file-b.abcd1234.999999999@{host}.tmp": time.time(),  # young
        f"file-c.abcd1234.999999999@{host}.tmp": old,  # not our pattern
        ".file-d.notours": old,
    }
    removed = {f".file-e.abcd1234.999999999@{host}.tmp": old, ".file-f.abcd1234.1@00000000.old": old,
               ".file-g-all.abcd_123": old}  # the last: left by a version before atomic_folder
    for name, when in {**kept, **removed}.items():
        (cache_dir / name).mkdir(parents=True)
        os.utime(cache_dir / name, (when, when))
    load_space(source)
    names = {p.name for p in cache_dir.iterdir()}
    assert set(kept) <= names and not set(removed) & names


# -- entries this user does not own alone (hole 6) ----------------------------------------------------------
def poison(folder: Path, keys: list[str]) -> None:
    """Make the entry ``folder`` serve ``keys`` with zero vectors (its meta copied from the real one)."""
    meta = (folder / "meta.json").read_text()
    shutil.rmtree(folder)
    folder.mkdir()
    np.save(folder / "vectors.npy", np.zeros((len(keys), 6), np.float32))
    (folder / "vocab.txt").write_text("\n".join(keys) + "\n")
    (folder / "meta.json").write_text(meta.replace('"count": 12', f'"count": {len(keys)}'))


@pytest.mark.parametrize("how", ["world-writable", "group-writable file", "symlink"])
def test_an_entry_others_could_write_is_not_trusted(source, cache_dir, tmp_path, caplog, how):
    load_space(source)
    folder = entry(source)
    poison(folder, [f"evil{i}" for i in range(12)])
    assert load_space(source).index_to_key[0] == "evil0"  # what an untrusted entry would serve
    if how == "world-writable":
        folder.chmod(0o777)
    elif how == "group-writable file":
        (folder / "vectors.npy").chmod(0o664)
    else:
        elsewhere = tmp_path / "elsewhere"
        folder.rename(elsewhere)
        folder.symlink_to(elsewhere)
    space = load_space(source)
    assert space.index_to_key[0] == "cat"
    np.testing.assert_array_equal(space.vectors, REFERENCE)
    assert "ignoring the cache entry" in caplog.text
    assert (cache_dir / f"{folder.name}.uid{os.getuid()}").is_dir()  # rebuilt in an entry of our own
    assert isinstance(load_space(source).vectors, np.memmap)


@pytest.mark.skipif(os.getuid() != 0, reason="making a file of another user needs root")
def test_another_users_entry_is_not_trusted(source, cache_dir, caplog):
    load_space(source)
    folder = entry(source)
    poison(folder, [f"evil{i}" for i in range(12)])
    for path in (folder, *folder.iterdir()):
        os.chown(path, 65534, 65534)
    assert load_space(source).index_to_key[0] == "cat"
    assert "belongs to another user (uid 65534)" in caplog.text


def test_entries_we_write_are_writable_by_us_alone(source, cache_dir):
    old = os.umask(0o002)  # a user-private-group umask: files would be group-writable
    try:
        load_space(source)
    finally:
        os.umask(old)
    folder = entry(source)
    assert all(not p.stat().st_mode & 0o022 for p in (folder, *folder.iterdir()))
    assert isinstance(load_space(source).vectors, np.memmap)  # and so trusted when reloaded

