"""The order of the stages, written once: hash -> probe -> analyze (shots + keyframes) -> embed -> index.

Each unit of work is keyed by (source content hash, stage, settings hash): a rerun does only what is
new or what a changed setting invalidates. One file failing never stops the batch.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import embed as embed_stage
from . import index as index_stage
from .analyze import analyze_file
from .catalog import Catalog
from .config import Settings, settings_hash
from .discover import Candidate, discover
from .errors import DailiesError, MediaError, ModelError, NotVideo
from .hashing import hash_file
from .keyframes import write_thumbnails
from .media.probe import MediaInfo, probe

log = logging.getLogger("dailies.ingest")

PROBE_VERSION = "probe-1"
ANALYZE_VERSION = "analyze-1"


def analyze_key(settings: Settings) -> str:
    return settings_hash(ANALYZE_VERSION, settings.analysis, settings.shots, settings.keyframes)


def embed_key(settings: Settings, model_id: str) -> str:
    # embed-2: frames preprocessed as tensors (models/preprocess.py) instead of open_clip's PIL transform
    return settings_hash("embed-2", model_id, analyze_key(settings))


@dataclass
class FileOutcome:
    path: str
    status: str  # ok | failed | skipped
    message: str = ""
    ran: list[str] = field(default_factory=list)  # stages that did work this run
    shots: int = 0
    embedding: str = ""  # done | pending | ""


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
    model: str | None = None
    semantic: bool = True
    embed_pending: str | None = None
    index: dict | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or self.embed_pending else 0

    def to_json(self) -> dict:
        return {
            "files": [f.__dict__ for f in self.files],
            "model": self.model, "semantic": self.semantic,
            "embedding_pending": self.embed_pending,
            "index": self.index, "seconds": round(self.seconds, 2),
            "summary": {s: sum(1 for f in self.files if f.status == s) for s in ("ok", "failed", "skipped")},
            "work_done": sum(len(f.ran) for f in self.files),
        }


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
                log.error("embedding unavailable: %s", exc)
                return None
            with self.catalog.transaction():
                self.catalog.ensure_model(e.name, self.preset.name, e.dim, self.preset.semantic, self.preset.to_json())
            self.embedder = e
        return self.embedder


def _probe_stage(catalog: Catalog, clip, cand: Candidate, content_hash: str, ran: list[str]) -> MediaInfo:
    if catalog.is_done(clip["id"], "probe", content_hash, PROBE_VERSION) and clip["probe_json"]:
        import json

        return MediaInfo.from_json(json.loads(clip["probe_json"]))
    info = probe(cand.path)
    with catalog.transaction():
        catalog.set_clip_probe(clip["id"], info.to_json())
        catalog.record_stage(clip["id"], "probe", content_hash, PROBE_VERSION, "done")
    ran.append("probe")
    return info


def _analyze_stage(catalog: Catalog, clip_id: int, info: MediaInfo, content_hash: str, settings: Settings,
                   ran: list[str], progress=None) -> int:
    key = analyze_key(settings)
    if catalog.is_done(clip_id, "analyze", content_hash, key):
        return catalog.count_shots(clip_id)
    t0 = time.monotonic()
    result = analyze_file(info, settings, progress=progress)
    rel_dir = f"thumbs/{clip_id}/{key}"
    rows = write_thumbnails(catalog.root, rel_dir, result.keyframes, settings.keyframes.jpeg_quality)
    with catalog.transaction():
        catalog.replace_analysis(clip_id, [s.to_json() for s in result.shots],
                                 [(g.first, g.last, g.kind, g.confidence) for g in result.gradual], rows)
        catalog.set_frame_count(clip_id, result.frame_count)
        catalog.record_stage(clip_id, "analyze", content_hash, key, "done", seconds=time.monotonic() - t0)
    for old in (catalog.root / "thumbs" / str(clip_id)).iterdir():
        if old.name != key:
            shutil.rmtree(old, ignore_errors=True)
    ran.append("analyze")
    return len(result.shots)


def _embed_stage(catalog: Catalog, clip_id: int, content_hash: str, settings: Settings, slot: EmbedderSlot,
                 model_id: str, ran: list[str]) -> str:
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


def _source_hash(catalog: Catalog, clip, path: Path, ran: list[str]) -> str:
    st = path.stat()
    if clip["content_hash"] and clip["size"] == st.st_size and clip["mtime_ns"] == st.st_mtime_ns:
        return clip["content_hash"]
    digest = hash_file(path)
    with catalog.transaction():
        catalog.set_clip_source(clip["id"], st.st_size, st.st_mtime_ns, digest)
    ran.append("hash")
    return digest


def ingest_one(catalog: Catalog, cand: Candidate, settings: Settings, slot: EmbedderSlot, model_id: str | None,
               progress=None) -> FileOutcome:
    path = str(cand.path)
    out = FileOutcome(path, "ok")
    with catalog.transaction():
        clip = catalog.upsert_clip(path)
    clip_id = clip["id"]
    try:
        content_hash = _source_hash(catalog, clip, cand.path, out.ran)
        info = _probe_stage(catalog, catalog.clip(clip_id), cand, content_hash, out.ran)
        out.shots = _analyze_stage(catalog, clip_id, info, content_hash, settings, out.ran, progress)
        if model_id:
            out.embedding = _embed_stage(catalog, clip_id, content_hash, settings, slot, model_id, out.ran)
        new_status = ("ok", None)
    except NotVideo as exc:
        if cand.expects_video:
            out.status, out.message = "failed", str(exc)
        else:
            out.status, out.message = "skipped", str(exc)
        new_status = (out.status, out.message)
    except MediaError as exc:
        out.status, out.message = ("failed", str(exc)) if cand.expects_video else ("skipped", f"{path}: not a media file; skipped")
        new_status = (out.status, str(exc))
    except OSError as exc:
        out.status, out.message = "failed", f"{path}: cannot read file ({exc.strerror or exc}); check permissions and the card copy"
        new_status = (out.status, out.message)
    with catalog.transaction():
        if (clip["status"], clip["error"]) != new_status:
            catalog.set_clip_status(clip_id, *new_status)
        if out.status != "ok":
            catalog.log_event("error" if out.status == "failed" else "note", out.message, path, "ingest")
    return out


def ingest(catalog: Catalog, paths: list[str], settings: Settings, preset=None, make_embedder=None,
           on_file: Callable[[int, int, FileOutcome], None] | None = None, progress_factory=None) -> IngestReport:
    """Ingest every file under `paths` with model `preset` (None: no embedding).

    `make_embedder(preset)` builds the Embedder (loaded only if some keyframe needs a vector);
    `progress_factory(candidate)` may return a per-frame callback with a close() method.
    """
    t0 = time.monotonic()
    model_id = preset.identity if preset else None
    report = IngestReport(model=model_id, semantic=bool(preset and preset.semantic))
    slot = EmbedderSlot(catalog, preset, make_embedder)
    candidates = list(discover(paths, exclude=[catalog.root]))
    for i, cand in enumerate(candidates):
        progress = progress_factory(cand) if progress_factory else None
        try:
            outcome = ingest_one(catalog, cand, settings, slot, model_id, progress)
        finally:
            if progress is not None and hasattr(progress, "close"):
                progress.close()
        report.files.append(outcome)
        if on_file:
            on_file(i, len(candidates), outcome)
    if slot.error:
        report.embed_pending = str(slot.error)
    if model_id and slot.embedder is not None:
        with catalog.transaction():
            catalog.meta_set("model", model_id)
        _, report.index = index_stage.sync(catalog, model_id, slot.embedder.dim, settings=settings.index)
    report.seconds = time.monotonic() - t0
    return report
