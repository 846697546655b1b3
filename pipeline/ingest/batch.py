"""The overnight batch: a queue of files, a bounded pool of workers, the catalog written on the driver.

    plan (driver, catalog)  ->  process_file (worker, no catalog)  ->  record (driver, catalog) -> embed

Restartable at any point: a unit of work counts as done only when its catalog row is committed,
and its files (keyframes, proxies) were renamed into place before that. A killed run leaves at most
temporary files, which the next run deletes and redoes. Cards (folders) are verified against the
MHL they carry as their files are read, and get a new MHL generation once all their files are done.
Executors: `LocalExecutor` (threads; ffmpeg does the heavy lifting in its own processes) or
executors/ray_exec.RayExecutor (Ray tasks on a cluster). An executor only needs `run(fn, jobs, progress)`
yielding (job, result) as results complete, and returning only once nothing it started still writes.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline import index as index_stage
from pipeline import transcode
from pipeline.catalog import Catalog
from pipeline.config import Settings, settings_hash
from pipeline.ingest import verify
from pipeline.ingest.discover import Candidate, discover
from pipeline.ingest.flow import (
    PROBE_VERSION,
    EmbedderSlot,
    FileOutcome,
    IngestReport,
    _embed_stage,
    analyze_key,
    write_analysis,
)
from pipeline.ingest.observer import Observer
from pipeline.ingest.reels import load_patterns
from pipeline.ingest.work import FileJob, FileResult, ProxyJob, process_file

log = logging.getLogger("dailies.batch")


class Cancelled(BaseException):
    """Raised inside a worker (through its progress callback) once the batch is interrupted."""


class LocalExecutor:
    """A bounded pool of threads on this machine. When the driver stops (Ctrl-C), queued files are
    dropped and files in work stop at their next progress report (their ffmpeg is killed); `run` returns
    only once they have stopped and removed their temporary files, so a rerun never meets a worker of
    the interrupted run still writing."""

    def __init__(self, workers: int):
        self.workers = max(1, workers)
        self.cancel = threading.Event()

    def run(self, fn: Callable, jobs: list, progress: Callable | None) -> Iterator[tuple]:
        pool = cf.ThreadPoolExecutor(self.workers, thread_name_prefix="dailies-worker")
        try:
            futures = {pool.submit(fn, job, self._bind(progress, job)): job for job in jobs}
            for fut in cf.as_completed(futures):
                yield futures[fut], fut.result()
        finally:
            self.cancel.set()
            pool.shutdown(wait=True, cancel_futures=True)

    def _bind(self, progress, job):
        def report(phase, done, total):
            if self.cancel.is_set():
                raise Cancelled(job.path)
            if progress is not None:
                progress(job.path, phase, done, total)

        return report


@dataclass
class CardState:
    path: Path
    history: dict
    had_history: bool
    missing: list[str]
    pending: int = 0
    checks: dict = field(default_factory=dict)  # clip_id -> (rel, FileCheck, hashes)


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


def proxy_key(preset: transcode.Preset, settings: Settings) -> str:
    p = settings.proxies
    return settings_hash(
        "proxy-1", preset.to_json(), p.burnin, p.burnin_items if p.burnin else "", p.font if p.burnin else ""
    )


def proxy_rel(preset: transcode.Preset, card: Path, path: Path) -> str:
    return f"proxies/{preset.name}/{card.name or 'root'}/{path.stem}.{preset.extension}"


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


def _cards(paths: list, candidates: list[Candidate]) -> dict[Path, Path]:
    """candidate path -> its card folder."""
    roots = [Path(p).absolute() for p in paths]
    out = {}
    for cand in candidates:
        root = next((r for r in roots if r.is_dir() and (r == cand.path or r in cand.path.parents)), cand.path.parent)
        out[cand.path] = verify.find_card(cand.path, root)
    return out


def _plan(
    catalog: Catalog,
    cand: Candidate,
    card: Path,
    settings: Settings,
    akey: str,
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
    return FileJob(
        clip_id=clip["id"],
        path=str(cand.path),
        expects_video=cand.expects_video,
        library=str(catalog.root),
        settings=settings,
        analyze_key=akey,
        hash_algorithms=algorithms,
        cached_hashes=cached,
        probe_json=json.loads(clip["probe_json"]) if clip["probe_json"] else None,
        done=done,
        decoded_frames=clip["frame_count"] if "analyze" in done else None,
        proxies=tuple(ProxyJob(p, proxy_rel(p, card, cand.path), proxy_key(p, settings)) for p in presets),
        reel_patterns=patterns,
    )


def _record(
    catalog: Catalog, job: FileJob, res: FileResult, card: CardState, settings: Settings, embed_next: bool = False
) -> FileOutcome:
    """Write one file's results. `embed_next`: the driver embeds it next and marks it ok only then, so no
    reader (nor a run killed in between) takes a clip without its vectors for a finished one."""
    out = FileOutcome(res.path, res.status, res.message, list(res.ran))
    clip = catalog.clip(job.clip_id)
    hashes = res.hashes or job.cached_hashes
    with catalog.transaction():
        if res.hashes is not None:
            catalog.set_clip_source(job.clip_id, res.size, res.mtime_ns, res.content_hash)
            alg = settings.verify.checksum
            catalog.set_clip_hashes(job.clip_id, f"{alg}:{res.hashes[alg]}", res.hashes)
        if res.probe is not None:
            catalog.set_clip_probe(job.clip_id, res.probe)
            catalog.record_stage(job.clip_id, "probe", res.content_hash, PROBE_VERSION, "done")
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
            _set_mhl(catalog, clip, str(card.path), check.status, check.detail)
            out.mhl = check.status
    if res.analysis is not None:
        write_analysis(
            catalog,
            job.clip_id,
            res.content_hash,
            job.analyze_key,
            res.analysis,
            res.thumbs,
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
            catalog.record_stage(job.clip_id, f"proxy:{p.preset}", res.content_hash, p.key, "done", seconds=p.seconds)
        new_status = ("ok", None) if res.status == "ok" else (res.status, res.detail or res.message)
        if embed_next and res.status == "ok":
            new_status = (clip["status"], clip["error"])
        if (clip["status"], clip["error"]) != new_status:
            catalog.set_clip_status(job.clip_id, *new_status)
        if res.status != "ok":
            catalog.log_event("error" if res.status == "failed" else "note", res.message, res.path, "ingest")
    out.proxies = {r["preset"]: r["path"] for r in catalog.proxies(job.clip_id)}
    return out


def _set_mhl(catalog: Catalog, clip, card: str, status: str, detail: str) -> None:
    if (clip["card"], clip["mhl_status"], clip["mhl_detail"]) != (card, status, detail):
        catalog.set_clip_mhl(clip["id"], card, status, detail)


def _finish_card(catalog: Catalog, card: CardState, settings: Settings) -> dict:
    """After all files of a card are done: write a new MHL generation when there is something to record."""
    checks = card.checks
    mismatched = [rel for rel, c, _ in checks.values() if c.status == "mismatch"]
    unrecorded = [cid for cid, (_, c, _) in checks.items() if c.status in ("new", "unchecked")]
    alg = settings.verify.checksum
    status, message, generation = "verified", "", None
    if mismatched or card.missing:
        status = "mismatch" if mismatched else "missing"
        message = (
            "; ".join(
                filter(
                    None,
                    [
                        f"{len(mismatched)} file(s) differ from the card's MHL: {', '.join(mismatched[:5])}"
                        if mismatched
                        else "",
                        f"{len(card.missing)} file(s) listed in the card's MHL are missing: {', '.join(card.missing[:5])}"
                        if card.missing
                        else "",
                    ],
                )
            )
            + " -- no new MHL generation written; copy the card again from the camera original"
        )
    elif unrecorded and settings.verify.write_mhl:
        try:
            run = verify.write_generation(card.path, alg)
        except verify.ToolMissing as exc:
            run = verify.MhlRun(False, None, message=str(exc))
        generation = run.generation
        if run.ok:
            status, message = "written", f"MHL generation {run.generation} written ({alg})"
            history = verify.read_history(card.path)
            with catalog.transaction():
                for cid in unrecorded:
                    rel, _, hashes = checks[cid]
                    c = verify.check_file(rel, hashes, history)  # ascmhl's own read against ours
                    _set_mhl(catalog, catalog.clip(cid), str(card.path), c.status, c.detail)
        else:
            status, message = "failed", f"MHL not written for {card.path}: {run.message}"
    elif unrecorded:
        status, message = "off", "MHL writing is off ([verify] write_mhl = false)"
        with catalog.transaction():
            for cid in unrecorded:
                _set_mhl(catalog, catalog.clip(cid), str(card.path), "not-recorded", message)
    with catalog.transaction():
        catalog.set_card(str(card.path), status, alg, generation, message, card.missing)
        if status in ("mismatch", "missing"):
            catalog.log_event("error", f"{card.path}: {message}", str(card.path), "mhl")
        elif status == "failed":
            catalog.log_event("warning", message, str(card.path), "mhl")
    (log.error if status in ("mismatch", "missing", "failed") else log.info)(
        "card %s: %s %s", card.path, status, message
    )
    return {"card": str(card.path), "status": status, "message": message, "generation": generation}


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
    akey: str,
    n: int,
    total: int,
) -> None:
    """Driver side of one file: catalog rows, embedding, log line; the card's MHL once its last file is in."""
    embed = bool(model_id and res.status == "ok" and res.content_hash)
    outcome = _record(catalog, job, res, card, settings, embed_next=embed)
    if embed and catalog.is_done(job.clip_id, "analyze", res.content_hash, akey):
        outcome.embedding = _embed_stage(catalog, job.clip_id, res.content_hash, settings, slot, model_id, outcome.ran)
    if embed and catalog.clip(job.clip_id)["status"] != "ok":
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
        c = _finish_card(catalog, card, settings)
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
    """Ingest every file under `paths`: verify, probe, analyse, make proxies, embed, index."""
    t0 = time.monotonic()
    obs = observer or Observer()
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
        card_of = _cards(paths, candidates)
        cards: dict[Path, CardState] = {}
        for cpath in dict.fromkeys(card_of.values()):
            had = verify.has_history(cpath)
            history = verify.read_history(cpath) if had else {}
            missing = verify.missing_files(history, cpath)
            cards[cpath] = CardState(cpath, history, had, missing)
            if missing:
                log.error("card %s: %d file(s) its MHL lists are missing: %s", cpath, len(missing), ", ".join(missing))
        for cpath in card_of.values():
            cards[cpath].pending += 1
        akey = analyze_key(settings)
        patterns = tuple(load_patterns(catalog.root / "reels.toml"))
        jobs = []
        for cand in candidates:
            card = cards[card_of[cand.path]]
            algs = tuple(dict.fromkeys(["xxh64", settings.verify.checksum, *verify.algorithms_needed(card.history)]))
            jobs.append(_plan(catalog, cand, card.path, settings, akey, algs, presets, reverify, patterns))
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
                    akey,
                    n,
                    len(jobs),
                )
                n += 1
        if slot.error:
            report.embed_pending = str(slot.error)
        model_row = catalog.model(model_id) if model_id else None
        if model_row is not None:  # also when no vector was new: a killed run may not have saved the index
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


def snapshot(paths: Iterable, exclude: list[Path]) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of every file under the watched folders."""
    out = {}
    for cand in discover([p for p in paths if os.path.lexists(p)], exclude=exclude):
        try:
            st = cand.path.stat()
        except OSError:
            continue
        out[str(cand.path)] = (st.st_size, st.st_mtime_ns)
    return out


def watch(
    catalog: Catalog,
    paths: list,
    settings: Settings,
    run: Callable[[list[str]], object],
    stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Keep watching `paths`; when files appear or change and then stay unchanged for `settle_seconds`,
    run the batch on the folders (cards) that hold them. `run(list_of_paths)` is the batch; `stop()` ends it."""
    seen: dict[str, tuple[int, int]] = {}
    settling: dict[str, tuple[tuple[int, int], float]] = {}
    first = True
    while not stop():
        now = time.monotonic()
        current = snapshot(paths, [catalog.root])
        ready = []
        for path, sig in current.items():
            if seen.get(path) == sig:
                continue
            prev = settling.get(path)
            if prev is None or prev[0] != sig:
                settling[path] = (sig, now)
            elif first or now - prev[1] >= settings.batch.settle_seconds:
                ready.append(path)
        if first:
            ready = list(current)
            first = False
        if ready:
            roots = sorted({_root_of(p, paths) for p in ready})
            logging.getLogger("dailies.watch").info(
                "watch: %d new or changed file(s) in %s", len(ready), ", ".join(roots)
            )
            run(roots)
            for p in ready:
                seen[p] = current[p]
                settling.pop(p, None)
        if stop():
            break
        sleep(settings.batch.watch_interval)


def _root_of(path: str, roots: list) -> str:
    """The card folder of a new file: the first folder below the watched root (or the file itself)."""
    p = Path(path)
    for r in roots:
        r = Path(r).absolute()
        if r in p.parents:
            rel = p.relative_to(r)
            return str(r / rel.parts[0]) if len(rel.parts) > 1 else str(p)
    return str(p)
