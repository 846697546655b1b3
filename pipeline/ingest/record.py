"""The driver side of one file, the only writer of the catalog: plan its job from what the catalog
already holds, then write what its worker returned (hashes, probe, MHL check, analysis, proxies,
measurements) and run the stages that work on the catalog (takes, embed).

Restartable at any point: a unit of work counts as done only when its catalog row is committed, and its
files (keyframes, proxies) were renamed into place before that. EmbedderSlot holds a local model or, on
Ray, executors/ray_exec.ActorEmbedder.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from pipeline import embed as embed_stage
from pipeline import transcode
from pipeline.catalog import Catalog
from pipeline.config import Settings
from pipeline.editorial.takes import compile_patterns, takes_from_names
from pipeline.errors import CatalogError, DailiesError, ModelError
from pipeline.ingest import verify
from pipeline.ingest.cards import CardState, set_mhl
from pipeline.ingest.discover import Candidate
from pipeline.ingest.outcomes import FileOutcome
from pipeline.ingest.stages import embed_key, order, proxy_key
from pipeline.ingest.work import FileJob, FileResult, ProxyJob

log = logging.getLogger("dailies.batch")  # into the batch's run log

T = TypeVar("T")


def proxy_rel(preset: transcode.Preset, card: Path, path: Path) -> str:
    return f"proxies/{preset.name}/{card.name or 'root'}/{path.stem}.{preset.extension}"


def plan_job(
    catalog: Catalog,
    cand: Candidate,
    card: Path,
    settings: Settings,
    keys: dict,
    algorithms: tuple,
    presets: list,
    reverify: bool,
    patterns: tuple,
) -> FileJob:
    with catalog.transaction():
        clip = catalog.upsert_clip(str(cand.path))
    cached = None
    try:
        st = cand.path.stat()
        if not reverify and clip["hashes_json"] and clip["size"] == st.st_size and clip["mtime_ns"] == st.st_mtime_ns:
            cached = json.loads(clip["hashes_json"])
    except OSError:
        pass
    runs = catalog.stage_runs(clip["id"])
    done = {k: (r["content_hash"], r["settings_hash"]) for k, r in runs.items() if r["status"] == "done"}
    _adopt_measurements(catalog, clip, keys["measure"], done)
    return FileJob(
        clip_id=clip["id"],
        path=str(cand.path),
        expects_video=cand.expects_video,
        library=str(catalog.root),
        settings=settings,
        keys=keys,
        hash_algorithms=algorithms,
        cached_hashes=cached,
        probe_json=json.loads(clip["probe_json"]) if clip["probe_json"] else None,
        done=done,
        decoded_frames=clip["frame_count"] if "analyze" in done else None,
        proxies=tuple(ProxyJob(p, proxy_rel(p, card, cand.path), proxy_key(p, settings)) for p in presets),
        reel_patterns=patterns,
    )


def _adopt_measurements(catalog: Catalog, clip, key: str, done: dict) -> None:
    """Measurements a reader stored before measure was a stage of the ingest (same content, same settings)
    count as the stage done: a library ingested before does not decode its clips again for them."""
    content_hash = clip["content_hash"]
    if not content_hash or done.get("measure") == (content_hash, key):
        return
    if catalog.take_metrics(clip["id"], f"{content_hash}:{key}") is not None:
        with catalog.transaction():
            catalog.record_stage(clip["id"], "measure", content_hash, key, "done")
        done["measure"] = (content_hash, key)


def clip_row(catalog: Catalog, clip_id: int, path: str) -> sqlite3.Row:
    """The catalog row of a clip this run planned (plan_job made it)."""
    clip = catalog.clip(clip_id)
    if clip is None:
        raise CatalogError(
            f"{path}: its clip {clip_id} left the library's catalog during the ingest; run the same command again"
        )
    return clip


def _known(res: FileResult, value: T | None, what: str) -> T:
    """A field of a worker's result that the work it reports implies: a file that was read has a size and a
    content hash, and every stage result is keyed by that hash."""
    if value is None:
        raise DailiesError(
            f"{res.path}: the worker reported work on this file without its {what} (a bug in Dailies); "
            f"run the same command again and report it if it repeats"
        )
    return value


def record_result(
    catalog: Catalog, job: FileJob, res: FileResult, card: CardState, settings: Settings, embed_next: bool = False
) -> FileOutcome:
    """Write one file's results. `embed_next`: the driver embeds it next and marks it ok only then, so no
    reader (nor a run killed in between) takes a clip without its vectors for a finished one."""
    out = FileOutcome(res.path, res.status, res.message, list(res.ran))
    clip = clip_row(catalog, job.clip_id, res.path)
    hashes = res.hashes or job.cached_hashes
    with catalog.transaction():
        if res.hashes is not None:
            catalog.set_clip_source(
                job.clip_id,
                _known(res, res.size, "size"),
                _known(res, res.mtime_ns, "modification time"),
                _known(res, res.content_hash, "content hash"),
            )
            alg = settings.verify.checksum
            catalog.set_clip_hashes(job.clip_id, f"{alg}:{res.hashes[alg]}", res.hashes)
        if res.probe is not None:
            catalog.set_clip_probe(job.clip_id, res.probe)
            catalog.record_stage(
                job.clip_id, "probe", _known(res, res.content_hash, "content hash"), job.keys["probe"], "done"
            )
        probed = res.probe is not None or job.probe_json is not None
        changed = (clip["reel"], clip["reel_source"], clip["drop_frame"]) != (
            res.reel,
            res.reel_source,
            int(res.drop_frame),
        )
        if probed and res.status != "skipped" and (changed or res.probe is not None):
            catalog.set_clip_editorial(job.clip_id, res.reel, res.reel_source, res.drop_frame)
        if hashes:
            rel = os.path.relpath(res.path, card.path)
            check = verify.check_file(rel, hashes, card.history) if card.had_history else verify.FileCheck("new")
            card.checks[job.clip_id] = (rel, check, hashes)
            if check.status == "mismatch":
                log.error("MHL MISMATCH %s: %s", res.path, check.detail)
            set_mhl(catalog, clip, str(card.path), check.status, check.detail)
            out.mhl = check.status
    if res.analysis is not None:
        write_analysis(
            catalog,
            job.clip_id,
            _known(res, res.content_hash, "content hash"),
            job.keys["analyze"],
            res.analysis,
            _known(res, res.thumbs, "keyframe thumbnails"),
            res.analyze_seconds,
            res.warnings,
        )
        out.warnings = list(res.warnings)
    elif res.status == "ok":  # analysed before: its warnings were kept with the stage
        run = catalog.stage_run(job.clip_id, "analyze")
        out.warnings = run["detail"].split("\n") if run and run["status"] == "done" and run["detail"] else []
    with catalog.transaction():
        for p in res.proxies:
            catalog.set_proxy(job.clip_id, p.preset, p.rel, p.frame_count, p.start_tc, p.reel, p.bytes, p.seconds)
            content_hash = _known(res, res.content_hash, "content hash")
            catalog.record_stage(job.clip_id, f"proxy:{p.preset}", content_hash, p.key, "done", seconds=p.seconds)
        if res.status == "ok":
            _takes(catalog, job, _known(res, res.content_hash, "content hash"), out.ran)
        if res.metrics is not None:
            key = job.keys["measure"]
            content_hash = _known(res, res.content_hash, "content hash")
            catalog.set_take_metrics(job.clip_id, f"{content_hash}:{key}", res.metrics)
            catalog.record_stage(job.clip_id, "measure", content_hash, key, "done", seconds=res.measure_seconds)
        new_status = ("ok", None) if res.status == "ok" else (res.status, res.detail or res.message)
        if embed_next and res.status == "ok":
            new_status = (clip["status"], clip["error"])
        if (clip["status"], clip["error"]) != new_status:
            catalog.set_clip_status(job.clip_id, *new_status)
        if res.status != "ok":
            catalog.log_event("error" if res.status == "failed" else "note", res.message, res.path, "ingest")
    out.proxies = {r["preset"]: r["path"] for r in catalog.proxies(job.clip_id)}
    out.ran.sort(key=order)  # in the order of STAGES (the worker's measure, the driver's takes)
    return out


def _takes(catalog: Catalog, job: FileJob, content_hash: str, ran: list[str]) -> None:
    """The takes stage (on the driver: it reads and writes only the catalog): scene, take, camera, roll from
    the file name and the clip's tags, never over a field an ALE or the editor set."""
    key = job.keys["takes"]
    if catalog.is_done(job.clip_id, "takes", content_hash, key):
        return
    takes_from_names(catalog, job.clip_id, compile_patterns(job.settings.takes.patterns))
    catalog.record_stage(job.clip_id, "takes", content_hash, key, "done")
    ran.append("takes")


def write_analysis(
    catalog: Catalog,
    clip_id: int,
    content_hash: str,
    key: str,
    result,
    rows: dict,
    seconds: float,
    warnings: Sequence[str] = (),
) -> None:
    """Runner side of the analyze stage: the catalog rows of one analysis, then old thumbnails go.
    `warnings` (damaged frames, a damaged header) are kept as the stage's detail and logged as events."""
    with catalog.transaction():
        catalog.replace_analysis(
            clip_id,
            [s.to_json() for s in result.shots],
            [(g.first, g.last, g.kind, g.confidence) for g in result.gradual],
            rows,
        )
        catalog.set_frame_count(clip_id, result.frame_count)
        catalog.record_stage(
            clip_id, "analyze", content_hash, key, "done", seconds=seconds, detail="\n".join(warnings) or None
        )
        for w in warnings:
            catalog.log_event("warning", f"{result.info.path}: {w}", result.info.path, "analyze")
    for old in (catalog.root / "thumbs" / str(clip_id)).iterdir():
        if old.name != key:
            shutil.rmtree(old, ignore_errors=True)


class EmbedderSlot:
    """Creates the embedder on first use; remembers a load failure so it is reported once, not per file."""

    def __init__(self, catalog: Catalog, preset, factory: Callable | None):
        self.catalog = catalog
        self.preset = preset
        self.factory = factory
        self.embedder = None
        self.error: DailiesError | None = None

    def get(self):
        if self.embedder is None and self.error is None and self.factory:
            try:
                e = self.factory(self.preset)
                e.load()
            except ModelError as exc:
                self.error = exc
                logging.getLogger("dailies.ingest").error("embedding unavailable: %s", exc)
                return None
            with self.catalog.transaction():
                self.catalog.ensure_model(e.name, self.preset.name, e.dim, self.preset.semantic, self.preset.to_json())
                if self.catalog.meta_get("model") is None:  # a new library is searchable while its first ingest runs
                    self.catalog.meta_set("model", e.name)
            self.embedder = e
        return self.embedder


def embed_clip(
    catalog: Catalog,
    clip_id: int,
    content_hash: str,
    settings: Settings,
    slot: EmbedderSlot,
    model_id: str,
    ran: list[str],
) -> str:
    """Runner side of the embed stage: vectors for the clip's keyframes. Returns done | pending."""
    key = embed_key(settings, model_id)
    if catalog.is_done(clip_id, "embed", content_hash, key):
        return "done"
    embedder = slot.get()
    if embedder is None:
        with catalog.transaction():
            catalog.record_stage(clip_id, "embed", content_hash, key, "pending", detail=str(slot.error))
        return "pending"
    t0 = time.monotonic()
    embed_stage.run(catalog, clip_id, embedder, getattr(embedder, "batch_size", 32), settings.embed.decode_workers)
    with catalog.transaction():
        catalog.record_stage(clip_id, "embed", content_hash, key, "done", seconds=time.monotonic() - t0)
    ran.append("embed")
    return "done"
