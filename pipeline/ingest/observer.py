"""What the overnight batch tells its caller (kept apart from batch.py so the CLI can name it without
importing the batch's machinery: `dailies shots` starts faster)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.ingest.outcomes import FileOutcome


class Observer:
    """What the batch tells its caller (the CLI draws progress bars from it). Methods may be called from
    worker threads (`progress`) or the driver (the others)."""

    def start(self, total: int) -> None: ...
    def progress(self, path: str, phase: str, done: int, total: int) -> None: ...
    def file_done(self, index: int, total: int, outcome: FileOutcome) -> None: ...
    def card_done(self, card: str, status: str, message: str) -> None: ...
