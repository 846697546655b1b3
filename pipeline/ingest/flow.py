"""The order of the stages, written once: hash -> probe -> analyze (shots + keyframes, + proxies in the
same decode) -> embed -> index.

Each unit of work is keyed by (source content hash, stage, settings hash): a rerun does only what is
new or what a changed setting invalidates. One file failing never stops the batch. The per-file work
is work.process_file (no catalog), run by an executor (threads on this machine, or Ray tasks:
executors/) for batch.py, which alone writes the catalog. This module holds what they share: stage
keys, outcomes, the runner side of analyze and embed (EmbedderSlot holds a local model or, on Ray,
executors/ray_exec.ActorEmbedder).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline import embed as embed_stage
from pipeline.catalog import Catalog
from pipeline.config import Settings, settings_hash
from pipeline.errors import DailiesError, ModelError

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
    proxies: dict = field(default_factory=dict)  # preset -> path relative to the library
    mhl: str = ""  # verified | mismatch | new | unchecked | not-recorded | ""
    warnings: list[str] = field(default_factory=list)  # ingested, but something is wrong with the source


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
            "model": self.model,
            "semantic": self.semantic,
            "embedding_pending": self.embed_pending,
            "index": self.index,
            "seconds": round(self.seconds, 2),
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
                if self.catalog.meta_get("model") is None:  # a new library is searchable while its first ingest runs
                    self.catalog.meta_set("model", e.name)
            self.embedder = e
        return self.embedder


def thumbs_dir(clip_id: int, key: str) -> str:
    return f"thumbs/{clip_id}/{key}"


def write_analysis(
    catalog: Catalog,
    clip_id: int,
    content_hash: str,
    key: str,
    result,
    rows: dict,
    seconds: float,
    warnings: list[str] = (),
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


def _embed_stage(
    catalog: Catalog,
    clip_id: int,
    content_hash: str,
    settings: Settings,
    slot: EmbedderSlot,
    model_id: str,
    ran: list[str],
) -> str:
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
