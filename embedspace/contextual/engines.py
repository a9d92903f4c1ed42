"""Running an extraction: plan once, then turn each missing shard's lines into arrays, here or on Ray.

Both engines call the same :func:`embedspace.contextual.extraction.extract_task` on the same
:class:`~embedspace.contextual.extraction.ShardTask`, so a shard is the same whichever computed it:

- :class:`LocalEngine` runs the shards one after another in this process, with the encoder the caller holds;
- :class:`RayEngine` hands them to Ray Data: ``from_items`` (one row per shard task) and ``map_batches`` with
  :class:`ShardWorker`, a class that loads one encoder per worker (Ray's documented pattern for batch
  embedding). Workers read their lines from the corpus by byte offset and return the shard's bytes; this
  process writes them. So the corpus must be readable at the same path on every node (a shared or copied
  file), and nothing else must be shared.

Example
-------
>>> import tempfile, pathlib
>>> corpus = pathlib.Path(tempfile.mkdtemp()) / "corpus.txt"
>>> _ = corpus.write_text("the river bank flooded\\nshe paid the bank\\n")
>>> run = extract_occurrences(corpus, ["bank"], "mini", folder=corpus.parent / "run")
>>> run.complete, run.manifest["lines"]
(True, 2)
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from embedspace.contextual.extraction import Job, ShardTask, extract_task
from embedspace.contextual.occurrences import Plan, plan_corpus, specials_of, target_keys
from embedspace.contextual.settings import BATCH_SIZE, ENGINES, GROUP_SIZE, MAX_TOKENS, PER_WORD, RunSettings
from embedspace.contextual.shards import CorpusIdentity, RunFolder, default_folder
from embedspace.errors import InvalidInput, NotInstalled

log = logging.getLogger(__name__)



def model_spec(model: str | os.PathLike) -> str:
    """``"minilm"``/``"mini"`` as they are, a model folder as its absolute path (InvalidInput otherwise)."""
    if str(model) in ("minilm", "mini"):
        return str(model)
    path = Path(model)
    if not path.is_dir():
        raise InvalidInput(f"unknown model {str(model)!r}: use minilm, mini or a mini model folder")
    return str(path.resolve())


def open_encoder(model: str | os.PathLike, threads: int | None = None):
    """The encoder ``model`` names (see :func:`model_spec`), on at most ``threads`` threads (default: one per core).

    The caller owns it (``close()`` when it has one).
    """
    from embedspace.contextual.encoders import load_encoder

    return load_encoder(model_spec(model), threads)


def close_encoder(encoder) -> None:
    """Stop an encoder's threads where it has any (``close()``)."""
    close = getattr(encoder, "close", None)
    if close is not None:
        close()


@dataclass
class Progress:
    """Where an extraction stands; rates count only the shards computed in this call."""

    shards: int            # shards done, earlier runs' included
    shards_total: int
    sentences: int         # lines run in this call
    sentences_todo: int    # lines this call had to run
    tokens: int            # tokens run in this call (specials included, padding not)
    seconds: float         # since this call started computing shards

    @property
    def sentences_per_s(self) -> float:
        return self.sentences / self.seconds if self.seconds > 0 else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


def shard_tasks(plan: Plan, group_size: int) -> list[ShardTask]:
    """The plan's lines cut into groups of ``group_size`` consecutive lines, one task each."""
    tasks = []
    for index, start in enumerate(range(0, len(plan.lines), group_size)):
        rows = range(start, min(start + group_size, len(plan.lines)))
        tasks.append(ShardTask(index, tuple(int(plan.lines[i]) for i in rows),
                               tuple(int(plan.offsets[i]) for i in rows),
                               tuple(tuple(int(w) for w in plan.words_of(i)) for i in rows)))
    return tasks


OnShard = Callable[[int, bytes, int, int], None]  # (shard index, npz bytes, lines, tokens)


class LocalEngine:
    """Shards one after another in this process (the default)."""

    name = "local"

    def __init__(self, encoder=None):
        self.encoder = encoder

    def run(self, job: Job, tasks: Sequence[ShardTask], on_shard: OnShard) -> None:
        """Compute each task and hand its bytes to ``on_shard``."""
        encoder = self.encoder if self.encoder is not None else open_encoder(job.model)
        try:
            specials = specials_of(encoder)
            for task in tasks:
                arrays = extract_task(encoder, job, task, specials)
                on_shard(task.index, arrays.to_bytes(), len(task.lines), arrays.n_tokens)
        finally:
            if encoder is not self.encoder:
                close_encoder(encoder)


class ShardWorker:
    """A Ray Data worker: one encoder on one thread, loaded once; each batch row is a task, each output row a shard."""

    def __init__(self, job: dict):
        self.job = Job(**{**job, "keys": tuple(job["keys"])})
        self.encoder = open_encoder(self.job.model, threads=1)  # the worker holds one CPU
        self.specials = specials_of(self.encoder)

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        out: dict[str, list] = {"shard": [], "payload": [], "sentences": [], "tokens": []}
        for text in batch["task"]:
            task = ShardTask.from_json(str(text))
            arrays = extract_task(self.encoder, self.job, task, self.specials)
            for key, value in zip(out, (task.index, arrays.to_bytes(), len(task.lines), arrays.n_tokens)):
                out[key].append(value)
        return {"shard": np.array(out["shard"], dtype=np.int64), "payload": np.array(out["payload"], dtype=object),
                "sentences": np.array(out["sentences"], dtype=np.int64),
                "tokens": np.array(out["tokens"], dtype=np.int64)}


def import_ray():
    """The ``ray`` module with Ray Data, or NotInstalled naming the extra."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise NotInstalled("ray[data]", "ray") from None
    return ray


class RayEngine:
    """Shards on a Ray cluster: ``address`` of a running one, or a local one of ``workers`` CPUs started here.

    Parameters
    ----------
    address : str, optional
        ``ray.init(address=...)``: ``"auto"``, ``"ray://host:10001"``, ... (default: a local cluster).
    workers : int
        Encoders running side by side (one CPU each).
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int = 2):
        if workers < 1:
            raise InvalidInput(f"workers must be at least 1, got {workers}")
        self.address, self.workers = address, workers

    def run(self, job: Job, tasks: Sequence[ShardTask], on_shard: OnShard) -> None:
        """Map the tasks over the workers; write each shard as it comes back."""
        if not tasks:
            return
        ray = import_ray()
        started = not ray.is_initialized()
        if started:
            options = {"address": self.address} if self.address else {"num_cpus": self.workers}
            ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING, **options)
        quiet(ray)
        try:
            rows = ray.data.from_items([{"task": t.to_json()} for t in tasks], override_num_blocks=len(tasks))
            shards = rows.map_batches(ShardWorker, fn_constructor_kwargs={"job": asdict(job)}, batch_size=1,
                                      batch_format="numpy", num_cpus=1,
                                      compute=ray.data.ActorPoolStrategy(size=self.workers))
            for row in shards.iter_rows():
                on_shard(int(row["shard"]), bytes(row["payload"]), int(row["sentences"]), int(row["tokens"]))
        finally:
            if started:
                ray.shutdown()


def quiet(ray) -> None:
    """No Ray Data progress bars or execution logs: the caller's ``progress`` reports instead."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    context.enable_auto_log_stats = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # "progress bars disabled" is a warning


def make_engine(name: str = "local", encoder=None, address: str | None = None, workers: int = 2):
    """An engine by name: ``"local"`` (with the caller's encoder) or ``"ray"``."""
    if name == "local":
        return LocalEngine(encoder)
    if name == "ray":
        return RayEngine(address, workers)
    raise InvalidInput(f"unknown engine {name!r}: use one of {', '.join(ENGINES)}")


def extract_occurrences(corpus: str | os.PathLike, words: Sequence[str], model: str | os.PathLike = "minilm", *,
                        per_word: int = PER_WORD, max_tokens: int = MAX_TOKENS, group_size: int = GROUP_SIZE,
                        batch_size: int = BATCH_SIZE, seed: int = 0, folder: str | os.PathLike | None = None,
                        encoder=None, engine=None, progress: Callable[[Progress], None] | None = None,
                        scan_progress: Callable[[int, int], None] | None = None) -> RunFolder:
    """Every layer's vector of up to ``per_word`` lines' occurrences of each word, stored as shards.

    Resumes a run with the same settings over the same corpus (only missing shards are computed).

    Parameters
    ----------
    corpus : path
        A UTF-8 text file, one sentence per line.
    words : sequence of str
        The targets; each must be one word for the model.
    model : str or path
        ``"minilm"``, ``"mini"`` or a mini model folder.
    per_word, max_tokens, group_size, batch_size, seed
        See :class:`~embedspace.contextual.settings.RunSettings`.
    folder : path, optional
        The run folder (default: :func:`~embedspace.contextual.shards.default_folder`).
    encoder : Encoder, optional
        An encoder for ``model`` the caller holds (else one is opened and closed here).
    engine : LocalEngine or RayEngine, optional
        Default: a :class:`LocalEngine` with the encoder.
    progress : callable, optional
        ``progress(Progress)`` after each shard.
    scan_progress : callable, optional
        ``scan_progress(bytes_read, bytes_total)`` while planning.

    Returns
    -------
    RunFolder
        Complete: every shard written.
    """
    for name, value, low in (("per_word", per_word, 1), ("max_tokens", max_tokens, 3), ("group_size", group_size, 1),
                             ("batch_size", batch_size, 1)):
        if value < low:
            raise InvalidInput(f"{name} must be at least {low}, got {value}")
    corpus = Path(corpus)
    if not corpus.is_file():
        raise FileNotFoundError(f"no such corpus file: {corpus}")
    own = encoder is None
    spec = model_spec(model)
    if not own and encoder.name != (spec if spec in ("minilm", "mini") else "mini"):
        raise InvalidInput(f"the encoder given is {encoder.name!r} but the model named is {str(model)!r}")
    encoder = open_encoder(spec) if own else encoder
    try:
        context = getattr(encoder.cfg, "n_ctx", max_tokens)
        if encoder.causal and max_tokens > context:
            raise InvalidInput(f"max_tokens {max_tokens} is longer than {encoder.name!r}'s context of {context}")
        keys = target_keys(encoder, words)
        settings = RunSettings(spec, tuple(keys), per_word, max_tokens, group_size, batch_size, seed)
        identity = CorpusIdentity.of(corpus)
        run = RunFolder(folder if folder is not None else default_folder(settings, identity))
        run.check(settings, identity)
        if run.manifest is None:
            plan = plan_corpus(corpus, encoder, keys, per_word, max_tokens, seed, scan_progress)
            run.start(settings, identity, plan, encoder)
        missing = set(run.missing())
        tasks = [t for t in shard_tasks(run.plan(), group_size) if t.index in missing]
        job = Job(identity.path, settings.model, settings.keys, seed, batch_size)
        engine = engine if engine is not None else LocalEngine(encoder)
        run_tasks(engine, job, tasks, run, progress)
    finally:
        if own:
            close_encoder(encoder)
    return run


def run_tasks(engine, job: Job, tasks: Sequence[ShardTask], run: RunFolder,
              progress: Callable[[Progress], None] | None) -> None:
    """Let ``engine`` compute ``tasks``, writing each shard and reporting progress."""
    total = run.require()["shards"]
    state = Progress(total - len(tasks), total, 0, sum(len(t.lines) for t in tasks), 0, 0.0)
    start = time.perf_counter()

    def on_shard(index: int, payload: bytes, sentences: int, tokens: int) -> None:
        run.write_shard(index, payload)
        state.shards += 1
        state.sentences += sentences
        state.tokens += tokens
        state.seconds = time.perf_counter() - start
        if progress is not None:
            progress(state)

    log.info("%s engine: %d shard(s) to compute, %d already done", engine.name, len(tasks), total - len(tasks))
    engine.run(job, tasks, on_shard)
