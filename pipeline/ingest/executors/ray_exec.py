"""The overnight batch on a Ray cluster: per-file work in Ray tasks, embedding in Ray actors, one catalog writer.

`dailies ingest --executor ray` runs batch.run_batch (MHL verify/write per card, proxies and burn-ins,
--reverify, --watch, the run log) exactly as on one machine; only where the work runs changes:

- `RayExecutor.run(fn, jobs, progress)` (local.LocalExecutor's interface): every job is a Ray task
  running `fn` (work.process_file: hash, probe, one decode for shots + keyframes + proxies, the files
  written into the library), results yielded as they complete. The driver records them in discover
  order (batch._record_one), so the catalog is the same as the local executor's.
- `ActorEmbedder`: what record.EmbedderSlot holds on Ray. Its actors (`EmbedWorker`) hold the model:
  one per GPU when the cluster has GPUs (`num_gpus=1` each, CUDA fp16), else `[ray] embed_actors` on
  CPUs. The embed stage hands it keyframe paths (embed.FileEmbedder); the actors read the JPEGs and
  return vectors, which the driver writes.
- The driver (this process) is the only writer of the catalog; tasks and actors never open it.

Every node must see the media and the library folder at the same paths (shared storage) and have
Dailies installed; see docs/scale.md, "Ingest on a Ray cluster".
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.config import EmbedSettings, Settings
from pipeline.embed import FileEmbedder
from pipeline.errors import DailiesError, ModelError

if TYPE_CHECKING:
    from models.clip import OpenClipEmbedder

log = logging.getLogger("dailies.batch.ray")  # into the batch's run log

PROGRESS_EVERY = 0.5  # seconds between a task's progress reports (and the driver's polls)


def connect(address: str | None, settings: Settings) -> bool:
    """Join the cluster at `address`, or start a local Ray instance on loopback. True if we started it."""
    import ray

    if ray.is_initialized():
        return False
    address = address or settings.ray.address or None
    if address:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise DailiesError(
                f"cannot reach the Ray cluster at {address} ({exc}); start it with `ray start --head` "
                f"on the head node, or leave out --ray-address to run Ray on this machine"
            ) from None
        return True
    start_local(settings.ray.local_cpus or None)
    return True


def start_local(num_cpus: int | None = None, **kwargs):
    """A Ray instance on this machine bound to 127.0.0.1 only.

    Ray resolves "127.0.0.1" to the machine's LAN address unless its single-machine mode is on
    (the switch it uses on macOS/Windows): RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 for the processes it
    starts, and the same switch in this process, where Ray may already be imported. The test checks
    that every address Ray reports is 127.0.0.1, so a Ray release that changes this is caught."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    import ray
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False
    return ray.init(
        num_cpus=num_cpus, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False, **kwargs
    )


class RayExecutor:
    """local.LocalExecutor's interface on a Ray cluster. A context manager: entering joins the cluster (or
    starts Ray on loopback), leaving stops the embedding actors and the Ray instance it started.

    When the driver stops (Ctrl-C, an error), tasks not started are dropped and running ones get a
    KeyboardInterrupt (`ray.cancel`): work.process_file stops, its ffmpeg is killed and its temporary
    files removed. `run` returns only once every task has ended, so a rerun never meets a task of the
    interrupted run still writing. One file's task lost with its node (after Ray's retries) fails that
    file, as an unreadable file would; a rerun redoes it."""

    def __init__(self, settings: Settings, address: str | None = None):
        self.settings = settings
        self.address = address
        self.started = False
        self.embedders: list[ActorEmbedder] = []

    def __enter__(self) -> RayExecutor:
        self.started = connect(self.address, self.settings)
        return self

    def __exit__(self, *exc) -> None:
        import ray

        for e in self.embedders:
            e.close()
        if self.started:
            ray.shutdown()
            self.started = False

    def embedder(self, preset, embed: EmbedSettings, allow_download: bool) -> ActorEmbedder:
        """What record.EmbedderSlot holds on this cluster (its factory returns it): the actors are asked for
        now, so they queue ahead of the file tasks, and load the model when the slot first needs them.
        They stay for every batch of a --watch and stop when the executor does."""
        e = ActorEmbedder(preset, embed, allow_download, self.settings.ray.embed_actors, self.settings.ray.task_cpus)
        self.embedders.append(e)
        return e

    def run(self, fn: Callable, jobs: list, progress: Callable | None) -> Iterator[tuple]:
        import ray

        task = ray.remote(num_cpus=self.settings.ray.task_cpus)(_task)
        cluster = ray.cluster_resources()
        log.info(
            "Ray: %d file task(s) of %g CPU each on a cluster of %g CPU(s), %g GPU(s)",
            len(jobs),
            self.settings.ray.task_cpus,
            cluster.get("CPU", 0),
            cluster.get("GPU", 0),
        )
        # Ray types an actor's methods only when each is decorated with @ray.method, which would import Ray
        # (an optional dependency) with this module: the handle is Any to the type checker
        box: Any = ray.remote(num_cpus=0)(ProgressBox).remote() if progress else None
        pending = {task.remote(fn, job, box): job for job in jobs}
        done: set[str] = set()
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=PROGRESS_EVERY if box else None)
                if box is not None and progress is not None:  # a box only for a progress callback
                    for path, (phase, n, total) in ray.get(box.take.remote()).items():
                        if path not in done:  # a late report must not reopen a finished file's progress
                            progress(path, phase, n, total)
                for ref in ready:
                    job = pending.pop(ref)
                    res = _result(ref, job)
                    done.add(job.path)
                    yield job, res
        finally:
            if pending:
                _stop(list(pending))
            if box is not None:
                ray.kill(box)


def _result(ref, job):
    """The task's FileResult; its exception re-raised as LocalExecutor's `fut.result()` would (a full disk
    stops the run); a task lost with its worker or node fails its file only."""
    import ray

    from pipeline.ingest.work import FileResult

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause if isinstance(exc.cause, BaseException) else None
        if cause is None:
            raise
        raise cause from exc
    except ray.exceptions.RayError as exc:
        return FileResult(
            job.clip_id,
            job.path,
            status="failed",
            message=f"{job.path}: the Ray worker working on it was lost ({_summary(exc)}); run the same command again",
        )


def _summary(exc: BaseException) -> str:
    """A Ray error in one line: its type and the first line of its (often many-line) message."""
    text = str(exc)
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def _stop(refs: list) -> None:
    """Cancel the tasks and wait until every one has ended (a running one at its next Python instruction)."""
    import ray

    log.info("stopping %d Ray task(s)", len(refs))
    for ref in refs:
        ray.cancel(ref)
    remaining = refs
    while remaining:
        _, remaining = ray.wait(remaining, num_returns=len(remaining), timeout=10)
        if remaining:
            log.info("waiting for %d Ray task(s) to stop", len(remaining))


def _task(fn: Callable, job, box):
    """One Ray task: `fn(job, progress)`, its progress sent to the driver's ProgressBox at most every
    PROGRESS_EVERY seconds (and at each new phase)."""
    if box is None:
        return fn(job, None)
    last: dict[str, Any] = {"phase": None, "at": 0.0}

    def report(phase: str, n: int, total: int) -> None:
        now = time.monotonic()
        if phase != last["phase"] or now - last["at"] >= PROGRESS_EVERY:
            last.update(phase=phase, at=now)
            box.put.remote(job.path, phase, n, total)

    return fn(job, report)


class ProgressBox:
    """A Ray actor (no CPU) holding the latest progress report of each file until the driver takes them."""

    def __init__(self):
        self.latest: dict[str, tuple[str, int, int]] = {}

    def put(self, path: str, phase: str, n: int, total: int) -> None:
        self.latest[path] = (phase, n, total)

    def take(self) -> dict:
        out, self.latest = self.latest, {}
        return out


class EmbedWorker:
    """Holds one model; runs as a Ray actor (the class is wrapped with ray.remote at use)."""

    def __init__(self, preset, embed: EmbedSettings, allow_download: bool):
        self.preset, self.settings, self.allow_download = preset, embed, allow_download
        self.embedder: OpenClipEmbedder | None = None

    def load(self) -> dict:
        """{name, dim, device, batch_size}, or {error} when the model cannot be loaded here."""
        from models.clip import OpenClipEmbedder

        try:
            embedder = OpenClipEmbedder.for_ingest(self.preset, self.settings, self.allow_download)
            embedder.load()
        except ModelError as exc:
            return {"error": str(exc)}
        self.embedder = embedder
        return {
            "name": embedder.name,
            "dim": embedder.dim,
            "device": embedder.device,
            "batch_size": embedder.batch_size,
        }

    def embed(self, paths: list[str]) -> np.ndarray:
        from pipeline import embed as embed_stage

        if self.embedder is None:
            raise ModelError(
                f"this embedding actor has no model loaded ({self.preset.name}): load() failed or was not called"
            )
        return embed_stage.embed_images(
            self.embedder, [Path(p) for p in paths], self.embedder.batch_size, self.settings.decode_workers
        )


class ActorEmbedder(FileEmbedder):
    """The embedder record.EmbedderSlot holds on Ray: `load()` waits for the actors to load the model (a
    failure raises ModelError, so the slot reports "embedding pending" as on one machine, and the next
    batch of a --watch tries again); `embed_files(paths)` splits the paths over the actors, which read
    the JPEGs from the shared library and return vectors in order."""

    def __init__(self, preset, embed: EmbedSettings, allow_download: bool, actors: int = 0, task_cpus: float = 1.0):
        self.preset, self.embed, self.allow_download, self.wanted = preset, embed, allow_download, actors
        self.task_cpus = task_cpus
        self.name = preset.identity
        self.dim = 0
        self.batch_size = embed.batch_size or preset.batch_size
        self.actors: list = []
        self.loads: list = []
        self.start()

    def start(self) -> None:
        """Ask the cluster for the actors (returns at once; they start when resources free up)."""
        import ray

        if self.actors:
            return
        gpus = 0 if self.embed.device == "cpu" else int(ray.cluster_resources().get("GPU", 0))
        options: dict[str, Any]  # ray.remote's keyword arguments
        if gpus:  # one actor per GPU at most: more would wait for a GPU forever
            count, options = min(self.wanted or gpus, gpus), {"num_gpus": 1, "num_cpus": 1}
        else:
            count, options = self.wanted or 1, {"num_cpus": 1}
        cpus = ray.cluster_resources().get("CPU", 0)
        if cpus - count < self.task_cpus:  # the actors hold their CPU for the whole run: no file could start
            raise DailiesError(
                f"the Ray cluster has {cpus:g} CPU(s): {count} embedding actor(s) of 1 CPU would leave "
                f"less than one file task's {self.task_cpus:g} ([ray] task_cpus); add CPUs (or nodes), "
                f"lower [ray] embed_actors or task_cpus, or ingest with --no-embed"
            )
        actor_cls = ray.remote(**options)(EmbedWorker)
        self.actors = [actor_cls.remote(self.preset, self.embed, self.allow_download) for _ in range(count)]
        self.loads = [a.load.remote() for a in self.actors]

    def load(self) -> None:
        import ray

        self.start()
        try:
            infos = ray.get(self.loads)
        except ray.exceptions.RayError as exc:
            self.close()
            raise ModelError(
                f"the embedding actors could not start on the Ray cluster ({_summary(exc)}); "
                f"check that every node has Dailies "
                f"and its model installed (docs/scale.md: Ingest on a Ray cluster)"
            ) from None
        bad = [i["error"] for i in infos if "error" in i]
        if bad:
            self.close()
            raise ModelError(bad[0])
        self.dim, self.batch_size = infos[0]["dim"], infos[0]["batch_size"]
        log.info("embedding in %d Ray actor(s) on %s", len(infos), ", ".join(sorted({i["device"] for i in infos})))

    def embed_files(self, paths: Sequence[Path]) -> np.ndarray:
        import ray

        if not paths:
            return np.zeros((0, self.dim), np.float32)
        parts = [
            p
            for p in np.array_split(np.array([str(p) for p in paths], dtype=object), min(len(self.actors), len(paths)))
            if len(p)
        ]
        try:
            out = ray.get([a.embed.remote(list(part)) for a, part in zip(self.actors, parts, strict=False)])
        except ray.exceptions.RayError as exc:
            raise DailiesError(
                f"embedding on the Ray cluster failed ({_summary(exc)}); finished files are kept -- run "
                f"the same command again"
            ) from None
        return np.concatenate(out)

    def close(self) -> None:
        import ray

        for a in self.actors:
            ray.kill(a)
        self.actors, self.loads = [], []
