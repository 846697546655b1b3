"""Ingest on a Ray cluster: per-file compute in Ray tasks, embedding in Ray actors, one catalog writer.

- Every file is one task (`filework.compute_file`: hash, probe, decode, shots, keyframe JPEGs), all
  submitted at once; Ray spreads them over the cluster's CPUs.
- Embedding runs in long-lived actors that hold the model: one per GPU when the cluster has GPUs
  (each actor asks for `num_gpus=1` and embeds on CUDA in fp16), else `[ray] embed_actors` on CPUs.
- The driver (this process) is the only writer of the catalog. It commits each file's results in
  the order `discover` lists them -- so keyframe ids, and therefore the catalog, come out the same
  as with the local executor -- while later files are still being computed.

Every node must see the media and the library folder at the same paths (shared storage) and have
Dailies installed; see the README's "Ingest on a Ray cluster".
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Callable

from .. import index as index_stage
from ..catalog import Catalog
from ..config import Settings
from ..discover import discover
from ..errors import DailiesError, DiskFull, ModelError
from ..flow import PROBE_VERSION, FileOutcome, IngestReport, analyze_key, embed_key, write_analysis
from .filework import FileJob, FileWork, compute_file, outcome_status

log = logging.getLogger("dailies.ray")


class EmbedWorker:
    """Holds one embedder; runs as a Ray actor (the class is wrapped with ray.remote at use)."""

    def __init__(self, preset, embed_settings):
        from models.clip import OpenClipEmbedder

        e = embed_settings
        self.settings = e
        self.embedder = OpenClipEmbedder(preset, device=e.device, allow_download=e.allow_download,
                                         batch_size=e.batch_size, precision=e.precision, threads=e.cpu_threads)

    def load(self) -> dict:
        try:
            self.embedder.load()
        except ModelError as exc:
            return {"error": str(exc)}
        return {"name": self.embedder.name, "dim": self.embedder.dim, "device": self.embedder.device}

    def embed(self, paths: list[str]):
        from .. import embed as embed_stage

        return embed_stage.embed_images(self.embedder, [Path(p) for p in paths], self.embedder.batch_size,
                                        self.settings.decode_workers)


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
            raise DailiesError(f"cannot reach the Ray cluster at {address} ({exc}); start it with `ray start --head` "
                               f"on the head node, or leave out --ray-address to run Ray on this machine") from None
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
    return ray.init(num_cpus=num_cpus, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
                    **kwargs)


class _Embedding:
    """The driver's view of the embedding actors: created on first need, load failure remembered."""

    def __init__(self, catalog: Catalog, preset, settings: Settings):
        self.catalog, self.preset, self.settings = catalog, preset, settings
        self.actors: list = []
        self.error: str | None = None
        self.loaded = False
        self._next = 0

    def ready(self) -> bool:
        if self.loaded or self.error:
            return self.loaded
        import ray

        gpus = int(ray.cluster_resources().get("GPU", 0))
        count = self.settings.ray.embed_actors or max(1, gpus)
        options = {"num_gpus": 1, "num_cpus": 1} if gpus else {"num_cpus": 1}
        actor_cls = ray.remote(**options)(EmbedWorker)
        self.actors = [actor_cls.remote(self.preset, self.settings.embed) for _ in range(count)]
        infos = ray.get([a.load.remote() for a in self.actors])
        bad = [i["error"] for i in infos if "error" in i]
        if bad:
            self.error = bad[0]
            log.error("embedding unavailable: %s", self.error)
            return False
        log.info("embedding in %d Ray actor(s) on %s", count, ", ".join(sorted({i["device"] for i in infos})))
        with self.catalog.transaction():
            self.catalog.ensure_model(infos[0]["name"], self.preset.name, infos[0]["dim"], self.preset.semantic,
                                      self.preset.to_json())
            if self.catalog.meta_get("model") is None:  # a new library is searchable while its first ingest runs
                self.catalog.meta_set("model", infos[0]["name"])
        self.loaded = True
        return True

    def submit(self, paths: list[str]):
        actor = self.actors[self._next % len(self.actors)]
        self._next += 1
        return actor.embed.remote(paths)


def _job(catalog: Catalog, clip, cand, settings: Settings, key: str) -> FileJob:
    runs = catalog.stage_runs(clip["id"])
    probe_run, analyze_run = runs.get("probe"), runs.get("analyze")
    return FileJob(
        path=str(cand.path), expects_video=cand.expects_video, clip_id=clip["id"], root=str(catalog.root),
        settings=settings, analyze_key=key, stored_hash=clip["content_hash"], stored_size=clip["size"],
        stored_mtime_ns=clip["mtime_ns"],
        probe_done_for=probe_run["content_hash"] if probe_run and probe_run["status"] == "done"
        and probe_run["settings_hash"] == PROBE_VERSION else None,
        probe_json=json.loads(clip["probe_json"]) if clip["probe_json"] else None,
        analyze_done_for=analyze_run["content_hash"] if analyze_run and analyze_run["status"] == "done"
        and analyze_run["settings_hash"] == key else None)


def _commit_compute(catalog: Catalog, clip_id: int, work: FileWork, key: str) -> None:
    """What the local batch records for hash, probe and analyze, in the same order."""
    if work.source:
        with catalog.transaction():
            catalog.set_clip_source(clip_id, *work.source)
    if work.probe_json is not None:
        with catalog.transaction():
            catalog.set_clip_probe(clip_id, work.probe_json)
            catalog.record_stage(clip_id, "probe", work.content_hash, PROBE_VERSION, "done")
    if work.analysis is not None:
        write_analysis(catalog, clip_id, work.content_hash, key, work.analysis, work.thumbs, work.analyze_seconds,
                       work.warnings)


def ingest_ray(catalog: Catalog, paths: list[str], settings: Settings, preset=None, make_embedder=None,
               on_file: Callable[[int, int, FileOutcome], None] | None = None, progress_factory=None,
               address: str | None = None) -> IngestReport:
    """flow.ingest on a Ray cluster (`make_embedder` and `progress_factory` are not used: the actors build
    their embedder from `preset` and settings.embed; progress is per file)."""
    import ray

    t0 = time.monotonic()
    started = connect(address, settings)
    try:
        return _run(catalog, paths, settings, preset, on_file, t0)
    finally:
        if started:
            ray.shutdown()


def _run(catalog, paths, settings, preset, on_file, t0) -> IngestReport:
    import ray

    model_id = preset.identity if preset else None
    report = IngestReport(model=model_id, semantic=bool(preset and preset.semantic))
    key = analyze_key(settings)
    candidates = list(discover(paths, exclude=[catalog.root]))
    remote_compute = ray.remote(num_cpus=settings.ray.task_cpus)(compute_file)
    clips, futures = [], []
    for cand in candidates:
        with catalog.transaction():
            clip = catalog.upsert_clip(str(cand.path))
        clips.append(clip)
        futures.append(remote_compute.remote(_job(catalog, clip, cand, settings, key)))
    embedding = _Embedding(catalog, preset, settings) if preset else None
    # pass 1, in discover order: commit hash/probe/analysis (keyframe ids in the local order), start embedding
    works, embeds = [], []
    for clip, fut in zip(clips, futures):
        work: FileWork = ray.get(fut)
        if work.error and work.error[0] == "disk_full":  # not this file's fault: the whole run stops
            raise DiskFull(work.error[1])
        _commit_compute(catalog, clip["id"], work, key)
        works.append(work)
        embeds.append(_start_embed(catalog, clip["id"], work, settings, embedding, model_id))
    # pass 2, in discover order: vectors, stage records, status and events
    for i, (cand, clip, work, emb) in enumerate(zip(candidates, clips, works, embeds)):
        out = FileOutcome(str(cand.path), "ok", ran=list(work.ran))
        error = work.error
        if error is None:
            out.shots = catalog.count_shots(clip["id"])
            run = catalog.stage_run(clip["id"], "analyze")
            out.warnings = run["detail"].split("\n") if run and run["status"] == "done" and run["detail"] else []
            if model_id:
                try:
                    out.embedding = _finish_embed(catalog, clip["id"], work, settings, emb, embedding, model_id, out.ran)
                except ray.exceptions.RayTaskError as exc:
                    cause = exc.cause if isinstance(getattr(exc, "cause", None), Exception) else exc
                    error = ("os", f"{cand.path}: embedding failed ({cause}); run the ingest again")
        out.status, out.message, new_status = outcome_status(error, str(cand.path), cand.expects_video)
        with catalog.transaction():
            if (clip["status"], clip["error"]) != new_status:
                catalog.set_clip_status(clip["id"], *new_status)
            if out.status != "ok":
                catalog.log_event("error" if out.status == "failed" else "note", out.message, str(cand.path), "ingest")
        report.files.append(out)
        if on_file:
            on_file(i, len(candidates), out)
    if embedding and embedding.error:
        report.embed_pending = embedding.error
    model_row = catalog.model(model_id) if model_id else None
    if model_row is not None:  # also when no vector was new: a killed run may not have saved the index
        with catalog.transaction():
            catalog.meta_set("model", model_id)
        _, report.index = index_stage.sync(catalog, model_id, model_row["dim"], settings=settings.index)
    report.seconds = time.monotonic() - t0
    return report


def _start_embed(catalog, clip_id, work: FileWork, settings, embedding: _Embedding | None, model_id):
    """Submit the clip's keyframes to an actor when embedding is due (flow._embed_stage's checks)."""
    if work.error is not None or not model_id:
        return None
    if catalog.is_done(clip_id, "embed", work.content_hash, embed_key(settings, model_id)):
        return "done"
    if not embedding.ready():
        return "pending"
    rows = catalog.keyframes_missing_vectors(clip_id, model_id)
    return (rows, embedding.submit([str(catalog.root / r["thumb"]) for r in rows]) if rows else None, time.monotonic())


def _finish_embed(catalog, clip_id, work: FileWork, settings, emb, embedding: _Embedding, model_id, ran) -> str:
    import ray

    key = embed_key(settings, model_id)
    if emb == "done":
        return "done"
    if emb == "pending":
        with catalog.transaction():
            catalog.record_stage(clip_id, "embed", work.content_hash, key, "pending", detail=embedding.error)
        return "pending"
    rows, fut, t0 = emb
    if fut is not None:
        vectors = ray.get(fut)
        with catalog.transaction():
            catalog.add_vectors(model_id, [r["id"] for r in rows], vectors)
    with catalog.transaction():
        catalog.record_stage(clip_id, "embed", work.content_hash, key, "done", seconds=time.monotonic() - t0)
    ran.append("embed")
    return "done"
