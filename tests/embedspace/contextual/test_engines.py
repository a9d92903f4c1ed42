"""Runs: shards, resuming after an interruption, refusing to mix settings, and Ray against the local engine."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from embedspace.contextual.encoders import load_encoder
from embedspace.contextual.engines import (
    LocalEngine,
    RayEngine,
    extract_occurrences,
    make_engine,
    shard_tasks,
)
from embedspace.contextual.shards import RunFolder
from embedspace.errors import InvalidInput

TINY = Path(__file__).parents[2] / "fixtures" / "corpus" / "tiny.txt"
WORDS = ["bank", "river", "king"]
SETTINGS = {"per_word": 6, "max_tokens": 32, "group_size": 4, "batch_size": 3}


@pytest.fixture(scope="module")
def mini():
    return load_encoder("mini")


def shard_arrays(run: RunFolder) -> dict:
    """Every shard's arrays, concatenated field by field."""
    shards = list(run.shards())
    return {name: np.concatenate([getattr(s, name) for s in shards]) for name in vars(shards[0])}


class Interrupted(Exception):
    pass


class StopAfter(LocalEngine):
    """A local engine that stops (like Ctrl-C) after ``n`` shards."""

    def __init__(self, encoder, n):
        super().__init__(encoder)
        self.n = n

    def run(self, job, tasks, on_shard):
        def counted(*args):
            on_shard(*args)
            self.n -= 1
            if self.n == 0:
                raise Interrupted
        super().run(job, tasks, counted)


def test_a_run_writes_every_shard_and_reports_progress(tmp_path, mini):
    seen = []
    run = extract_occurrences(TINY, WORDS, "mini", encoder=mini, folder=tmp_path / "run", progress=seen.append,
                              **SETTINGS)
    manifest = run.manifest
    assert run.complete and manifest["shards"] == len(seen) == -(-manifest["lines"] // 4)
    assert seen[-1].sentences == manifest["lines"] and seen[-1].tokens > seen[-1].sentences
    arrays = shard_arrays(run)
    lines = TINY.read_text().splitlines()
    for word_id, line in zip(arrays["occ_word"], arrays["occ_line"]):
        assert WORDS[word_id] in lines[line].split()
    usable = [[line for line in lines if word in line.split() and len(line.split()) < 30] for word in WORDS]
    expected = [sum(line.split().count(word) for line in found[:6]) for word, found in zip(WORDS, usable)]
    assert np.bincount(arrays["occ_word"]).tolist() == expected == [6, 5, 3]  # each line holds a word once


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path, mini):
    whole = extract_occurrences(TINY, WORDS, "mini", encoder=mini, folder=tmp_path / "whole", **SETTINGS)
    with pytest.raises(Interrupted):
        extract_occurrences(TINY, WORDS, "mini", encoder=mini, folder=tmp_path / "part",
                            engine=StopAfter(mini, 1), **SETTINGS)
    part = RunFolder(tmp_path / "part")
    assert not part.complete and len(part.missing()) == whole.manifest["shards"] - 1
    written = part.shard_path(0).stat().st_mtime_ns
    done = []
    extract_occurrences(TINY, WORDS, "mini", encoder=mini, folder=tmp_path / "part", progress=done.append, **SETTINGS)
    assert part.complete and part.shard_path(0).stat().st_mtime_ns == written   # shard 0 was not computed again
    assert done[-1].shards == done[-1].shards_total and done[-1].sentences < whole.manifest["lines"]
    a, b = shard_arrays(whole), shard_arrays(part)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


def test_a_folder_with_other_settings_or_another_corpus_is_refused(tmp_path, mini):
    corpus = tmp_path / "c.txt"
    shutil.copy(TINY, corpus)
    extract_occurrences(corpus, WORDS, "mini", encoder=mini, folder=tmp_path / "run", **SETTINGS)
    with pytest.raises(InvalidInput, match="per_word 6 there, 5 here"):
        extract_occurrences(corpus, WORDS, "mini", encoder=mini, folder=tmp_path / "run", **(SETTINGS | {"per_word": 5}))
    with pytest.raises(InvalidInput, match="other settings"):
        extract_occurrences(corpus, ["bank"], "mini", encoder=mini, folder=tmp_path / "run", **SETTINGS)
    os.utime(corpus, ns=(1, 1))  # touched, same bytes: still the same corpus
    extract_occurrences(corpus, WORDS, "mini", encoder=mini, folder=tmp_path / "run", **SETTINGS)
    corpus.write_text(corpus.read_text().replace("king", "kind"))
    with pytest.raises(InvalidInput, match="another version"):
        extract_occurrences(corpus, WORDS, "mini", encoder=mini, folder=tmp_path / "run", **SETTINGS)


def test_the_default_folder_depends_on_the_settings(tmp_path, mini, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path))
    a = extract_occurrences(TINY, ["bank"], "mini", encoder=mini, **SETTINGS)
    b = extract_occurrences(TINY, ["bank"], "mini", encoder=mini, **(SETTINGS | {"seed": 1}))
    again = extract_occurrences(TINY, ["bank"], "mini", encoder=mini, **SETTINGS)
    assert a.folder != b.folder and a.folder == again.folder
    assert a.folder.parent == tmp_path / "occurrences"


@pytest.mark.parametrize("bad", [{"per_word": 0}, {"batch_size": 0}, {"max_tokens": 65}])
def test_bad_settings_are_user_errors(tmp_path, mini, bad):
    with pytest.raises(InvalidInput):
        extract_occurrences(TINY, WORDS, "mini", encoder=mini, folder=tmp_path / "r", **(SETTINGS | bad))


def test_unknown_models_and_engines_are_user_errors(tmp_path, mini):
    with pytest.raises(InvalidInput, match="the encoder given is 'mini'"):
        extract_occurrences(TINY, WORDS, "minilm", encoder=mini, folder=tmp_path / "r")
    with pytest.raises(InvalidInput, match="unknown model"):
        extract_occurrences(TINY, WORDS, "bert-large", folder=tmp_path / "r")
    with pytest.raises(InvalidInput, match="unknown engine"):
        make_engine("spark")
    with pytest.raises(FileNotFoundError):
        extract_occurrences(tmp_path / "missing.txt", WORDS, "mini")


def test_shard_tasks_cut_the_plan_into_consecutive_groups(tmp_path, mini):
    run = extract_occurrences(TINY, WORDS, "mini", encoder=mini, folder=tmp_path / "run", **SETTINGS)
    tasks = shard_tasks(run.plan(), 4)
    assert [len(t.lines) for t in tasks[:-1]] == [4] * (len(tasks) - 1)
    assert [line for t in tasks for line in t.lines] == run.plan().lines.tolist()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # raised inside Ray Data
def test_ray_on_two_local_workers_equals_the_local_engine(tmp_path, mini):
    ray = pytest.importorskip("ray", reason="ray is not installed: pip install 'embedspace[ray]' to run this test")
    pytest.importorskip("ray.data", reason="Ray Data is not installed: pip install 'embedspace[ray]'")
    local = extract_occurrences(TINY, WORDS, "mini", encoder=mini, folder=tmp_path / "local", **SETTINGS)
    start_local_cluster(ray, cpus=2)
    try:
        on_ray = extract_occurrences(TINY, WORDS, "mini", encoder=mini, folder=tmp_path / "ray",
                                     engine=RayEngine(workers=2), **SETTINGS)
        assert ray.cluster_resources().get("CPU") == 2
    finally:
        ray.shutdown()
    assert on_ray.complete and local.manifest["shards"] >= 3
    a, b = shard_arrays(local), shard_arrays(on_ray)
    for name in a:
        if a[name].dtype.kind == "f":
            np.testing.assert_allclose(a[name], b[name], rtol=1e-5, atol=1e-5)
        else:
            np.testing.assert_array_equal(a[name], b[name])


def start_local_cluster(ray, cpus: int, attempts: int = 2) -> None:
    """``ray.init`` of a local cluster, tried again once when its raylet misses Ray's fixed 30 s start limit.

    On a machine loaded several times over (this project's shared one) the raylet can take longer to
    register; that is the machine, not the code under test.
    """
    for attempt in range(attempts):
        try:
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
            return
        except Exception as error:  # Ray raises a bare Exception for this
            ray.shutdown()
            if "timed out during startup" not in str(error) or attempt == attempts - 1:
                raise
