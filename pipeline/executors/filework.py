"""The per-file compute of ingest as plain functions: no catalog, no globals, picklable in and out.

`compute_file(job)` hashes, probes and analyses one file (writing its keyframe JPEGs under the
library folder) as far as the job says is still needed, and returns what the catalog should
record. A Ray task runs it on any node that sees the same media and library paths; the driver,
the only writer of the catalog, commits the results (executors/ray_exec.py). The decisions are
the same as pipeline/flow.py's `ingest_one`, so both executors produce the same catalog.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..analyze import analyze_file
from ..config import Settings
from ..errors import MediaError, NotVideo
from ..hashing import hash_file
from ..keyframes import write_thumbnails
from ..media.probe import MediaInfo, probe


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
    analysis: dict | None = None  # when analysed this time
    error: tuple[str, str] | None = None  # (not_video | media | os, message)


def compute_file(job: FileJob) -> FileWork:
    out = FileWork()
    path = Path(job.path)
    try:
        st = path.stat()
        if job.stored_hash and job.stored_size == st.st_size and job.stored_mtime_ns == st.st_mtime_ns:
            out.content_hash = job.stored_hash
        else:
            out.content_hash = hash_file(path)
            out.source = (st.st_size, st.st_mtime_ns, out.content_hash)
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
            rel_dir = f"thumbs/{job.clip_id}/{job.analyze_key}"
            rows = write_thumbnails(job.root, rel_dir, result.keyframes, job.settings.keyframes.jpeg_quality)
            out.analysis = {"shots": [s.to_json() for s in result.shots],
                            "gradual": [(g.first, g.last, g.kind, g.confidence) for g in result.gradual], "rows": rows,
                            "frame_count": result.frame_count, "seconds": time.monotonic() - t0}
            out.ran.append("analyze")
    except NotVideo as exc:
        out.error = ("not_video", str(exc))
    except MediaError as exc:
        out.error = ("media", str(exc))
    except OSError as exc:
        out.error = ("os", f"{job.path}: cannot read file ({exc.strerror or exc}); check permissions and the card copy")
    return out


def outcome_status(error: tuple[str, str] | None, path: str, expects_video: bool) -> tuple[str, str, tuple]:
    """(status, message, (status, stored error)) exactly as flow.ingest_one decides them."""
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

