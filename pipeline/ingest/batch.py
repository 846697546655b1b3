"""The overnight batch: a queue of files, a bounded pool of workers, the catalog written on the driver.

    plan (driver, catalog)  ->  process_file (worker, no catalog)  ->  record (driver, catalog) -> embed

Restartable at any point (see record.py). Cards (folders) are verified against the MHL they carry as
their files are read, and get a new MHL generation once all their files are done (cards.py).
Executors: executors/local.LocalExecutor (threads; ffmpeg does the heavy lifting in its own processes)
or executors/ray_exec.RayExecutor (Ray tasks on a cluster). An executor only needs
`run(fn, jobs, progress)` yielding (job, result) as results complete, and returning only once nothing
it started still writes.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from pipeline import index as index_stage
from pipeline import transcode
from pipeline.catalog import Catalog
from pipeline.config import Settings
from pipeline.editorial.takes import compile_patterns
from pipeline.ingest import verify
from pipeline.ingest.cards import CardState, card_folders, finish_card, open_card
from pipeline.ingest.discover import discover
from pipeline.ingest.executors.local import LocalExecutor
from pipeline.ingest.observer import Observer
from pipeline.ingest.outcomes import BatchReport
from pipeline.ingest.record import EmbedderSlot, clip_row, embed_clip, plan_job, record_result
from pipeline.ingest.reels import load_patterns
from pipeline.ingest.stages import stage_keys
from pipeline.ingest.work import FileJob, FileResult, process_file

log = logging.getLogger("dailies.batch")


class _RunLog(logging.FileHandler):
    """The run's log file. A disk that fills up stops the log quietly: the run reports the full disk itself,
    in one line, instead of a logging traceback per record."""

    def handleError(self, record):
        if not isinstance(sys.exc_info()[1], OSError):
            super().handleError(record)


def _open_log(catalog: Catalog) -> tuple[Path, logging.Handler]:
    logs = catalog.root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"ingest-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}.log"
    handler = _RunLog(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return path, handler


def _record_one(
    catalog: Catalog,
    job: FileJob,
    res: FileResult,
    card: CardState,
    settings: Settings,
    report: BatchReport,
    obs: Observer,
    slot: EmbedderSlot,
    model_id: str | None,
    n: int,
    total: int,
) -> None:
    """Driver side of one file: catalog rows, embedding, log line; the card's MHL once its last file is in."""
    content_hash = res.content_hash
    embed = bool(model_id and res.status == "ok" and content_hash)
    outcome = record_result(catalog, job, res, card, settings, embed_next=embed)
    if embed:
        assert model_id is not None and content_hash is not None  # what `embed` says
        if catalog.is_done(job.clip_id, "analyze", content_hash, job.keys["analyze"]):
            outcome.embedding = embed_clip(catalog, job.clip_id, content_hash, settings, slot, model_id, outcome.ran)
        if clip_row(catalog, job.clip_id, job.path)["status"] != "ok":
            with catalog.transaction():
                catalog.set_clip_status(job.clip_id, "ok", None)
    outcome.shots = catalog.count_shots(job.clip_id)
    report.files.append(outcome)
    (log.error if outcome.status == "failed" else log.info)(
        "[%d/%d] %s: %s %s %s", n + 1, total, job.path, outcome.status, ",".join(outcome.ran) or "-", outcome.message
    )
    obs.file_done(n, total, outcome)
    card.pending -= 1
    if card.pending == 0:
        c = finish_card(catalog, card, settings)
        report.cards.append(c)
        obs.card_done(c["card"], c["status"], c["message"])


def run_batch(
    catalog: Catalog,
    paths: list,
    settings: Settings,
    preset=None,
    make_embedder=None,
    proxies: list[str] | None = None,
    reverify: bool = False,
    observer: Observer | None = None,
    executor=None,
    argv: list[str] | None = None,
) -> BatchReport:
    """Ingest every file under `paths`: the stages of STAGES (stages.py) -- verify, probe, analyse, make proxies,
    read takes, measure, embed, index."""
    t0 = time.monotonic()
    obs = observer or Observer()
    compile_patterns(settings.takes.patterns)  # a pattern that is not a regular expression stops the run here
    presets = transcode.load_presets(settings.proxies.preset_names() if proxies is None else proxies)
    model_id = preset.identity if preset else None
    report = BatchReport(model=model_id, semantic=bool(preset and preset.semantic), proxies=[p.name for p in presets])
    log_path, handler = _open_log(catalog)
    report.log_path = str(log_path)
    with catalog.transaction():
        run_id = catalog.start_batch(argv or [], str(log_path))
    status = "interrupted"
    try:
        candidates = list(discover(paths, exclude=[catalog.root]))
        card_of = card_folders(paths, candidates)
        cards: dict[Path, CardState] = {cpath: open_card(cpath) for cpath in dict.fromkeys(card_of.values())}
        for cpath in card_of.values():
            cards[cpath].pending += 1
        keys = stage_keys(settings)
        patterns = tuple(load_patterns(catalog.root / "reels.toml"))
        jobs = []
        for cand in candidates:
            card = cards[card_of[cand.path]]
            algs = tuple(dict.fromkeys(["xxh64", settings.verify.checksum, *verify.algorithms_needed(card.history)]))
            jobs.append(plan_job(catalog, cand, card.path, settings, keys, algs, presets, reverify, patterns))
        log.info(
            "batch %d: %d file(s) on %d card(s), proxies: %s, workers %d",
            run_id,
            len(jobs),
            len(cards),
            ",".join(report.proxies) or "none",
            settings.batch.workers,
        )
        obs.start(len(jobs))
        slot = EmbedderSlot(catalog, preset, make_embedder)
        executor = executor or LocalExecutor(settings.batch.workers)
        order = {job.path: i for i, job in enumerate(jobs)}
        waiting: dict[int, tuple] = {}
        n = 0
        for job, res in executor.run(process_file, jobs, obs.progress):
            # recorded in discover order, so catalog ids (keyframe ids = vector ids) do not depend on
            # which worker finished first; a finished file waits at most for the files before it
            waiting[order[job.path]] = (job, res)
            while n in waiting:
                job, res = waiting.pop(n)
                _record_one(
                    catalog,
                    job,
                    res,
                    cards[card_of[Path(job.path)]],
                    settings,
                    report,
                    obs,
                    slot,
                    model_id,
                    n,
                    len(jobs),
                )
                n += 1
        if slot.error:
            report.embed_pending = str(slot.error)
        model_row = catalog.model(model_id) if model_id else None
        if model_id and model_row is not None:  # also when no vector was new: a killed run may not have saved the index
            with catalog.transaction():
                catalog.meta_set("model", model_id)
            _, report.index = index_stage.sync(catalog, model_id, model_row["dim"], settings=settings.index)
        status = "done"
    finally:
        report.seconds = time.monotonic() - t0
        summary = dict(Counter(f.status for f in report.files))
        try:
            with catalog.transaction():
                catalog.finish_batch(run_id, status, summary)
        finally:
            log.info("batch %d %s after %.1fs: %s", run_id, status, report.seconds, summary)
            log.removeHandler(handler)
            try:
                handler.close()
            except OSError:  # a full disk must not hide the error that stopped the run behind this one
                pass
    return report
