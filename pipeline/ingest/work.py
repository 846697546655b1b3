"""The work on one source file, with no catalog: hash -> probe -> reel/TC -> analyze + proxies (one decode)
-> measure (one more decode, at [tags] short_side).

`process_file(job)` is what an executor runs (local threads in batch.py; any executor that can call
a function with picklable arguments). It reads the source, writes files into the library (keyframe
JPEGs, proxies -- each under a temporary name, renamed when complete) and returns a `FileResult`;
the driver writes the catalog. Which stages are due is decided here from the `done` snapshot the
driver took, because the content hash that keys them is only known once the file has been read.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import transcode
from pipeline.analyze import Analysis, Truncated, analyze_file, check_complete
from pipeline.config import Settings
from pipeline.editorial.measure import measure_clip
from pipeline.errors import DailiesError, DiskFull, FFmpegFailed, MediaError, NotVideo, is_disk_full
from pipeline.ingest.hashing import hash_many
from pipeline.ingest.reels import ReelPattern, resolve_reel
from pipeline.ingest.sources import (
    StillGrowing,
    growing_message,
    snapshot,
    snapshot_or_none,
    unreadable_message,
)
from pipeline.ingest.stages import thumbs_dir
from pipeline.keyframes import write_thumbnails
from pipeline.media.ffmpeg import ffmpeg_bin, run_with_progress, safe_input
from pipeline.media.probe import MediaInfo, probe
from pipeline.timecode import is_drop_frame_rate


@dataclass(frozen=True)
class ProxyJob:
    preset: transcode.Preset
    rel: str  # final path, relative to the library
    key: str  # settings hash of the preset + burn-in


@dataclass(frozen=True)
class FileJob:
    clip_id: int
    path: str
    expects_video: bool
    library: str
    settings: Settings
    keys: dict  # stage -> its key under these settings (stages.stage_keys)
    hash_algorithms: tuple[str, ...]  # digests to compute when the file is read
    cached_hashes: dict | None  # digests from an earlier read, still valid (size and mtime unchanged)
    probe_json: dict | None
    done: dict  # stage -> (content_hash, settings_hash) of work already done
    decoded_frames: int | None  # frame count of an earlier analysis
    proxies: tuple[ProxyJob, ...] = ()
    reel_patterns: tuple[ReelPattern, ...] = ()


@dataclass
class ProxyDone:
    preset: str
    rel: str
    key: str
    frame_count: int
    start_tc: str | None
    reel: str | None
    bytes: int
    seconds: float


@dataclass
class FileResult:
    clip_id: int
    path: str
    status: str = "ok"  # ok | failed | skipped
    message: str = ""
    detail: str = ""  # what the catalog stores as the error when it says more than `message`
    ran: list[str] = field(default_factory=list)
    size: int | None = None
    mtime_ns: int | None = None
    hashes: dict | None = None  # set when the file was read this time
    content_hash: str | None = None
    probe: dict | None = None  # set when probed this time
    reel: str | None = None
    reel_source: str | None = None
    drop_frame: bool = False
    analysis: Analysis | None = None
    thumbs: dict | None = None
    analyze_seconds: float = 0.0
    proxies: list[ProxyDone] = field(default_factory=list)
    proxy_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # from this analysis: damaged frames, a damaged header
    metrics: dict | None = None  # the measure stage's TakeMetrics (as JSON), when measured this time
    measure_seconds: float = 0.0


def _due(job: FileJob, stage: str, content_hash: str, key: str) -> bool:
    return tuple(job.done.get(stage) or ()) != (content_hash, key)


def _proxy_final(job: FileJob, pj: ProxyJob) -> Path:
    return Path(job.library) / pj.rel


def process_file(job: FileJob, progress: Callable[[str, int, int], None] | None = None) -> FileResult:
    """Do the due work on one file. Never raises for a problem with the file: the result says what happened.

    `progress(phase, done, total)` is called now and then (phase: hash | analyze | proxy)."""
    res = FileResult(job.clip_id, job.path)
    path = Path(job.path)
    before = None
    if progress:
        progress("start", 0, 1)  # an executor may stop work here (and at any later report)
    try:
        before = snapshot(path)
        res.size, res.mtime_ns = before.size, before.mtime_ns
        hashes = job.cached_hashes
        if hashes is None or any(a not in hashes for a in job.hash_algorithms):
            total = before.size
            seen = [0]

            def on_block(n):
                seen[0] += n
                if progress:
                    progress("hash", seen[0], total)

            hashes = hash_many(path, list(job.hash_algorithms), on_block)
            after = snapshot_or_none(path)
            if after != before:
                raise StillGrowing(path, growing_message(before, after))
            res.hashes = hashes
            res.ran.append("hash")
        res.content_hash = content_hash = f"xxh64:{hashes['xxh64']}"
        _media(job, res, content_hash, progress)
    except DiskFull:
        raise
    except (Truncated, StillGrowing) as exc:  # a damaged or unfinished video, whatever its name says
        res.status, res.message = "failed", str(exc)
    except NotVideo as exc:
        res.status = "failed" if job.expects_video else "skipped"
        res.message = str(exc)
    except MediaError as exc:
        if job.expects_video:
            res.status, res.message = "failed", str(exc)
        else:
            res.status, res.message = "skipped", f"{job.path}: not a media file; skipped"
            why = (
                f"ffprobe exit {exc.returncode}: {exc.stderr_tail}"
                if isinstance(exc, FFmpegFailed)
                else str(exc).removeprefix(f"{exc.path}: ")
            )
            # for the catalog: why, without the "copy it again" advice meant for a clip (this is not one)
            res.detail = f"{job.path}: not a media file ffprobe can read; skipped (not a camera clip; {why})"
    except OSError as exc:
        if is_disk_full(exc):
            raise _disk_full(job, exc.strerror or str(exc)) from None
        res.status, res.message = "failed", f"{job.path}: {unreadable_message(path, exc)}"
    except DailiesError as exc:
        res.status, res.message = "failed", str(exc)
    if any("No space left on device" in e for e in res.proxy_errors):
        raise _disk_full(job, "No space left on device")
    if res.proxy_errors and res.status == "ok":
        res.status, res.message = "failed", "; ".join(res.proxy_errors)
    if before is not None and res.status != "skipped":
        after = snapshot_or_none(path)
        if after != before:  # the source changed under us: what was read is not the file
            res.status, res.message = "failed", f"{job.path}: {growing_message(before, after)}"
            res.analysis = res.thumbs = res.metrics = None
            res.proxies = []
    return res


def _disk_full(job: FileJob, why: str) -> DiskFull:
    """Not a problem of this file: the whole run stops (every further file would fail the same way)."""
    return DiskFull(
        f"the library's disk is full ({job.library}: {why}) while ingesting {job.path}; finished work "
        f"is kept -- free some space and run the same command again"
    )


def _scene_take(job: FileJob) -> dict:
    """Scene/take for burn-ins: the camera's own tags, else the file name read with the [takes] patterns."""
    if not job.settings.proxies.burnin:
        return {}
    from pipeline.editorial.takes import compile_patterns, parse_name

    found = {k: v for k, v in transcode.format_tags(job.path).items() if k in ("scene", "take")}
    named = parse_name(job.path, compile_patterns(job.settings.takes.patterns))
    return {**{k: named[k] for k in ("scene", "take") if k in named}, **found}


def _media(job: FileJob, res: FileResult, content_hash: str, progress) -> None:
    if job.probe_json is not None and not _due(job, "probe", content_hash, job.keys["probe"]):
        info = MediaInfo.from_json(job.probe_json)
    else:
        info = probe(job.path)
        res.probe = info.to_json()
        res.ran.append("probe")
    res.reel, res.reel_source = resolve_reel(job.path, info.reel, list(job.reel_patterns))
    res.drop_frame = bool(
        info.start_tc and (";" in info.start_tc or "," in info.start_tc) and is_drop_frame_rate(info.fps)
    )

    proxies = [
        pj
        for pj in job.proxies
        if _due(job, f"proxy:{pj.preset.name}", content_hash, pj.key) or not _proxy_final(job, pj).exists()
    ]
    burnin = transcode.make_burnin(job.settings.proxies, info, _scene_take(job)) if proxies else None
    temps = {}
    for pj in proxies:
        final = _proxy_final(job, pj)
        final.parent.mkdir(parents=True, exist_ok=True)
        transcode.clear_partials(final)
        temps[pj.preset.name] = transcode.temp_path(final)
    extra = [
        a for pj in proxies for a in transcode.output_args(pj.preset, info, temps[pj.preset.name], res.reel, burnin)
    ]
    try:
        _analyse_and_encode(job, res, content_hash, info, proxies, temps, extra, progress)
    finally:  # whatever happened (failure, interruption), no temporary proxy is left behind
        for t in temps.values():
            t.unlink(missing_ok=True)
    if not res.proxy_errors:
        _measure(job, res, content_hash, info, progress)


def _measure(job: FileJob, res: FileResult, content_hash: str, info: MediaInfo, progress) -> None:
    """The measure stage: the take's level, clipping, sharpness, motion and framing (editorial.measure),
    from one more decode at [tags] short_side. A decode that fails here fails the file (its analysis is kept;
    the next run measures it again)."""
    if not _due(job, "measure", content_hash, job.keys["measure"]):
        return
    t0 = time.monotonic()
    if progress:
        progress("measure", 0, info.frame_count)
    on_frame = (lambda i: progress("measure", i, info.frame_count)) if progress else None
    try:
        res.metrics = measure_clip(info.to_json(), job.settings.tags, on_frame).to_json()
    except MediaError as exc:
        res.status, res.message = "failed", f"{exc} (while measuring the take for selects and tags)"
        return
    res.measure_seconds = time.monotonic() - t0
    res.ran.append("measure")


def _analyse_and_encode(
    job: FileJob,
    res: FileResult,
    content_hash: str,
    info: MediaInfo,
    proxies: list,
    temps: dict,
    extra: list,
    progress,
) -> None:
    frames = job.decoded_frames
    t0 = time.monotonic()
    if _due(job, "analyze", content_hash, job.keys["analyze"]):
        on_frame = (lambda i: progress("analyze", i, info.frame_count)) if progress else None
        try:
            analysis = analyze_file(info, job.settings, progress=on_frame, extra_outputs=extra or None)
            shared = bool(extra)
        except FFmpegFailed:
            if not extra:
                raise
            # a proxy output may be what failed: analyse alone, then encode the proxies on their own
            if progress:
                progress("analyze", 0, info.frame_count)
            analysis = analyze_file(info, job.settings, progress=on_frame)
            shared = False
        # a truncated source raises here: its proxies stay temporary names and are removed (see _media)
        res.warnings = check_complete(analysis, job.settings.reliability.min_decoded_fraction)
        full = [p for p in analysis.decode.output_problems or [] if "No space left on device" in p]
        if full:  # a proxy in the same decode hit a full disk: the run stops, the next one redoes this file
            raise _disk_full(job, full[-1])
        res.thumbs = write_thumbnails(
            job.library,
            thumbs_dir(job.clip_id, job.keys["analyze"]),
            analysis.keyframes,
            job.settings.keyframes.jpeg_quality,
        )
        res.analysis = dataclasses.replace(analysis, keyframes={})
        res.analyze_seconds = time.monotonic() - t0
        res.ran.append("analyze")
        frames = analysis.frame_count
    else:
        shared = False
    expected = frames if frames is not None else info.frame_count
    if proxies and not shared:
        if progress:
            progress("proxy", 0, expected)
        argv = [ffmpeg_bin(), "-nostdin", "-hide_banner", "-loglevel", "error", "-i", safe_input(job.path), *extra]
        on_frame = (lambda n: progress("proxy", n, expected)) if progress else (lambda n: None)
        try:  # progress may raise Cancelled (the batch stopped): the encode is killed, _media removes its temp
            run_with_progress(argv, job.path, on_frame, hint="proxy encode failed")
        except FFmpegFailed as exc:
            res.proxy_errors.append(str(exc))
            return
    seconds = time.monotonic() - t0
    for pj in proxies:
        final = _proxy_final(job, pj)
        try:
            check = transcode.finish(temps[pj.preset.name], final, expected, info.start_tc, res.reel)
        except DailiesError as exc:
            res.proxy_errors.append(f"proxy {pj.preset.name}: {exc}")
            continue
        res.proxies.append(
            ProxyDone(
                pj.preset.name,
                pj.rel,
                pj.key,
                check.frame_count,
                check.start_tc,
                check.reel,
                os.path.getsize(final),
                seconds,
            )
        )
        res.ran.append(f"proxy:{pj.preset.name}")
