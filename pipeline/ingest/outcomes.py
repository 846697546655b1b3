"""What an ingest reports: one FileOutcome per file, the IngestReport of a run, the BatchReport of the
overnight batch (cards and their MHL, the run log, the proxy presets)."""

from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass
class BatchReport(IngestReport):
    cards: list[dict] = field(default_factory=list)
    log_path: str = ""
    proxies: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        bad_card = any(c["status"] in ("mismatch", "missing") for c in self.cards)
        return 1 if self.failed or self.embed_pending or bad_card else 0

    def to_json(self) -> dict:
        d = super().to_json()
        d.update(cards=self.cards, log=self.log_path, proxy_presets=self.proxies)
        return d
