"""The per-file compute of ingest as plain functions: no catalog, no globals, picklable in and out.

`compute_file(job)` hashes, probes and analyses one file (writing its keyframe JPEGs under the
library folder) as far as the job says is still needed, and returns what the catalog should
record. A Ray task runs it on any node that sees the same media and library paths; the driver,
the only writer of the catalog, commits the results (executors/ray_exec.py). The decisions are
the same as pipeline/work.py's `process_file` (the local batch), so both executors produce the same
catalog (tests/test_ray_executor.py compares them table by table).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..analyze import Analysis, Truncated, analyze_file, check_complete
from ..config import Settings
from ..errors import MediaError, NotVideo
from ..flow import thumbs_dir
from ..hashing import hash_file
from ..keyframes import write_thumbnails
from ..media.probe import MediaInfo, probe
from ..sources import (StillGrowing, growing_message, is_disk_full, snapshot, snapshot_or_none,
                       unreadable_message)


@dataclass
class FileJob:
    path: str
    expects_video: bool
    clip_id: int
    root: str  # library folder (shared storage on a cluster)
    settings: Settings
    analyze_key: str
    stored_hash: str | None = None  # reused when size and mtime are unchanged
    stored_size: int | None = None
    stored_mtime_ns: int | None = None
    probe_done_for: str | None = None  # content hash whose probe is stored
    probe_json: dict | None = None
    analyze_done_for: str | None = None  # content hash whose analysis under analyze_key is stored


@dataclass
class FileWork:
    ran: list[str] = field(default_factory=list)
    content_hash: str | None = None
    source: tuple[int, int, str] | None = None  # (size, mtime_ns, hash) when (re)hashed
    probe_json: dict | None = None  # when probed this time
    analysis: Analysis | None = None  # when analysed this time (keyframe pictures dropped: see thumbs)
    thumbs: dict | None = None  # shot index -> [(frame, time, relative JPEG path)]
    analyze_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)  # damaged frames, a damaged header
    error: tuple[str, str] | None = None  # (not_video | media | os | failed | disk_full, message)


def compute_file(job: FileJob) -> FileWork:
    out = FileWork()
    path = Path(job.path)
    before = None
    try:
        before = snapshot(path)
        if job.stored_hash and job.stored_size == before.size and job.stored_mtime_ns == before.mtime_ns:
            out.content_hash = job.stored_hash
        else:
            out.content_hash = hash_file(path)
            after = snapshot_or_none(path)
            if after != before:
                raise StillGrowing(path, growing_message(before, after))
            out.source = (before.size, before.mtime_ns, out.content_hash)
            out.ran.append("hash")
        if job.probe_done_for == out.content_hash and job.probe_json:
            info = MediaInfo.from_json(job.probe_json)
        else:
            info = probe(path)
            out.probe_json = info.to_json()
            out.ran.append("probe")
        if job.analyze_done_for != out.content_hash:
            t0 = time.monotonic()
            result = analyze_file(info, job.settings)
            warnings = check_complete(result, job.settings.reliability.min_decoded_fraction)
            now = snapshot_or_none(path)
            if now != before:  # changed while decoded: never hand back an analysis of it
                raise StillGrowing(path, growing_message(before, now))
            out.thumbs = write_thumbnails(job.root, thumbs_dir(job.clip_id, job.analyze_key), result.keyframes,
                                          job.settings.keyframes.jpeg_quality)
            out.analysis = dataclasses.replace(result, keyframes={})  # the pictures are on disk now
            out.analyze_seconds = time.monotonic() - t0
            out.warnings = warnings
            out.ran.append("analyze")
    except (Truncated, StillGrowing) as exc:  # a damaged or unfinished video, whatever its name says
        out.error = ("failed", str(exc))
    except NotVideo as exc:
        out.error = ("not_video", str(exc))
    except MediaError as exc:
        out.error = ("media", str(exc))
    except OSError as exc:
        if is_disk_full(exc):
            out.error = ("disk_full", f"the library's disk is full ({job.root}: {exc.strerror}) while ingesting "
                                      f"{job.path}; finished work is kept -- free some space and run the same "
                                      f"command again")
        else:
            out.error = ("os", f"{job.path}: {unreadable_message(path, exc)}")
    if before is not None and (out.error is None or out.error[0] != "not_video"):
        after = snapshot_or_none(path)
        if after != before:  # the source changed under us: what was read is not the file
            out.error = ("failed", f"{job.path}: {growing_message(before, after)}")
    return out


def outcome_status(error: tuple[str, str] | None, path: str, expects_video: bool) -> tuple[str, str, tuple]:
    """(status, message, (status, stored error)) exactly as work.process_file decides them."""
    if error is None:
        return "ok", "", ("ok", None)
    kind, message = error
    if kind == "not_video":
        status = "failed" if expects_video else "skipped"
        return status, message, (status, message)
    if kind == "media":
        if expects_video:
            return "failed", message, ("failed", message)
        return "skipped", f"{path}: not a media file; skipped", ("skipped", message)
    return "failed", message, ("failed", message)

