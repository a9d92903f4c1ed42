"""A run folder: the manifest, the plan and the shards of one extraction, so a stopped run resumes.

::

    RUN/manifest.json     settings, corpus identity, encoder shape, shard count (written after the plan)
    RUN/plan.npz          which lines each shard reads (:class:`embedspace.contextual.occurrences.Plan`)
    RUN/shard-000000.npz  one group of lines' arrays (:class:`embedspace.contextual.extraction.ShardArrays`)

Every file is written atomically (:func:`runtime.files.atomic_file`), so a shard that exists is whole and a
resumed run only computes the missing ones. A folder whose manifest records other settings or another
corpus is refused, never mixed: the default folder is named after a digest of both.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedspace.contextual.extraction import ShardArrays
from embedspace.contextual.occurrences import Plan
from embedspace.contextual.settings import RunSettings
from embedspace.errors import InvalidInput
from embedspace.paths import cache_root
from runtime.files import atomic_file

log = logging.getLogger(__name__)

MANIFEST, PLAN = "manifest.json", "plan.npz"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class CorpusIdentity:
    """A corpus file as found now: where, how large, when last changed (its sha256 is in the plan)."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | os.PathLike) -> CorpusIdentity:
        """The identity of the file at ``path`` (FileNotFoundError when missing)."""
        path = Path(path).resolve()
        stat = path.stat()
        return cls(str(path), stat.st_size, stat.st_mtime_ns)


def default_folder(settings: RunSettings, corpus: CorpusIdentity) -> Path:
    """``<cache>/occurrences/<model>-<digest of settings and corpus>``: equal runs meet, others never do."""
    data = json.dumps([settings.as_dict(), dataclasses.asdict(corpus)], sort_keys=True)
    name = Path(settings.model).name if os.sep in settings.model else settings.model
    return cache_root() / "occurrences" / f"{name}-{hashlib.sha256(data.encode()).hexdigest()[:16]}"


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class RunFolder:
    """The files of one run. ``open`` checks an existing manifest; ``start`` writes the plan and manifest.

    Parameters
    ----------
    folder : path
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.folder)!r})"

    @property
    def manifest(self) -> dict | None:
        """The manifest, or None before the run has planned."""
        path = self.folder / MANIFEST
        return json.loads(path.read_text("utf-8")) if path.is_file() else None

    def check(self, settings: RunSettings, corpus: CorpusIdentity) -> None:
        """Refuse a folder that holds a run with other settings or another corpus (nothing there is fine).

        Raises
        ------
        InvalidInput
            Naming the settings that differ, or saying that the corpus changed.
        """
        manifest = self.manifest
        if manifest is None:
            return
        theirs, ours = manifest["settings"], settings.as_dict()
        differ = [f"{k} {theirs.get(k)!r} there, {v!r} here" for k, v in ours.items() if theirs.get(k) != v]
        if differ or manifest.get("version") != FORMAT_VERSION:
            raise InvalidInput(f"{self.folder} holds a run with other settings ({'; '.join(differ) or 'format'}): "
                               "choose another run folder or delete it")
        recorded = manifest["corpus"]
        same_file = (recorded["size"], recorded["mtime_ns"]) == (corpus.size, corpus.mtime_ns)
        if not same_file and (recorded["size"] != corpus.size or file_sha256(corpus.path) != recorded["sha256"]):
            raise InvalidInput(f"{self.folder} holds a run over another version of {corpus.path} "
                               "(its size or content changed): choose another run folder or delete it")

    def start(self, settings: RunSettings, corpus: CorpusIdentity, plan: Plan, encoder) -> None:
        """Write the plan, then the manifest (whose presence means the plan is there)."""
        with atomic_file(self.folder / PLAN) as handle:
            np.savez(handle, **plan.arrays())
        shards = -(-len(plan.lines) // settings.group_size)
        manifest = {"version": FORMAT_VERSION, "settings": settings.as_dict(),
                    "corpus": dataclasses.asdict(corpus) | {"sha256": plan.sha256, "lines": plan.corpus_lines},
                    "encoder": {"name": encoder.name, "layers": encoder.n_layer, "width": encoder.cfg.n_embd},
                    "shards": shards, "lines": len(plan.lines), "pairs": len(plan.word_ids)}
        with atomic_file(self.folder / MANIFEST, "w") as handle:
            json.dump(manifest, handle, indent=2)

    def plan(self) -> Plan:
        """The plan the run follows."""
        with np.load(self.folder / PLAN, allow_pickle=False) as npz:
            return Plan.from_arrays({k: npz[k] for k in npz.files})

    @property
    def keys(self) -> list[str]:
        """The target keys (shards' word ids index them)."""
        return list(self.require()["settings"]["keys"])

    def require(self) -> dict:
        """The manifest of a planned run (InvalidInput when the folder holds none)."""
        manifest = self.manifest
        if manifest is None:
            raise InvalidInput(f"{self.folder} holds no extraction run (no {MANIFEST})")
        return manifest

    def shard_path(self, index: int) -> Path:
        """Where shard ``index`` lives."""
        return self.folder / f"shard-{index:06d}.npz"

    def missing(self) -> list[int]:
        """Shards not written yet."""
        return [i for i in range(self.require()["shards"]) if not self.shard_path(i).is_file()]

    @property
    def complete(self) -> bool:
        """True when every shard of the plan is written."""
        return self.manifest is not None and not self.missing()

    def write_shard(self, index: int, payload: bytes) -> None:
        """Store one shard's ``.npz`` bytes atomically."""
        with atomic_file(self.shard_path(index)) as handle:
            handle.write(payload)

    def shards(self) -> Iterator[ShardArrays]:
        """Each written shard's arrays in order, one at a time (memory: one shard)."""
        for index in range(self.require()["shards"]):
            path = self.shard_path(index)
            if path.is_file():
                yield ShardArrays.load(path)
