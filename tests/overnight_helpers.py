"""Small camera-like clips (lavfi) and ffprobe checks for the overnight tests."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

from pipeline.media.ffmpeg import ffmpeg_bin, ffprobe_bin


def camera_clip(
    path: Path,
    rate: str,
    frames: int,
    timecode: str | None = None,
    audio: bool = False,
    size: str = "320x180",
    extra: list[str] | None = None,
    rotate: int = 0,
    mono_tracks: int = 0,
) -> Path:
    """A clip with two visibly different shots (half each), optional timecode, 48 kHz stereo audio (or
    `mono_tracks` mono tracks, each its own tone, the way production cameras record them), tags."""
    half = frames // 2
    graph = (
        f"testsrc2=s={size}:r={rate},trim=end_frame={half},setpts=PTS-STARTPTS[a];"
        f"smptehdbars=s={size}:r={rate},trim=end_frame={frames - half},setpts=PTS-STARTPTS[b];"
        f"[a][b]concat=n=2:v=1:a=0,format=yuv420p[v]"
    )
    argv = [ffmpeg_bin(), "-y", "-nostdin", "-v", "error", "-filter_complex", graph]
    seconds = frames / float(Fraction(rate))
    if audio:
        argv += ["-f", "lavfi", "-t", f"{seconds:.4f}", "-i", "sine=f=440:r=48000,pan=stereo|c0=c0|c1=c0"]
    for i in range(mono_tracks):
        argv += ["-f", "lavfi", "-t", f"{seconds:.4f}", "-i", f"sine=f={330 * (i + 1)}:r=48000"]
    tracks = int(bool(audio)) + mono_tracks
    argv += ["-map", "[v]"] + [a for i in range(tracks) for a in ("-map", f"{i}:a")]
    argv += ["-c:v", "libx264", "-preset", "ultrafast"] + (["-c:a", "pcm_s16le"] if tracks else [])
    if timecode:
        argv += ["-timecode", timecode]
    target = path.with_name(f"tmp-{path.name}") if rotate else path
    argv += list(extra or []) + [str(target)]
    subprocess.run(argv, check=True)
    if rotate:  # ffmpeg 5.1 writes a display matrix only when the stream is copied
        subprocess.run(
            [
                ffmpeg_bin(),
                "-y",
                "-nostdin",
                "-v",
                "error",
                "-i",
                str(target),
                "-map",
                "0:v",
                "-map",
                "0:a?",
                "-c",
                "copy",
                "-metadata:s:v:0",
                f"rotate={rotate}",
                *(["-timecode", timecode] if timecode else []),
                str(path),
            ],
            check=True,
        )
        target.unlink()
    return path


def ffprobe(path: Path, count: bool = False) -> dict:
    argv = [ffprobe_bin(), "-v", "error", "-show_streams", "-show_format", "-of", "json"]
    if count:
        argv.append("-count_frames")
    return json.loads(subprocess.run(argv + [str(path)], check=True, capture_output=True).stdout)


def tags(data: dict, key: str) -> set[str]:
    """Every value of tag `key` in the format and stream tags."""
    sources = [data["format"].get("tags") or {}] + [s.get("tags") or {} for s in data["streams"]]
    return {t[key] for t in sources if t.get(key)}


def video(data: dict) -> dict:
    return next(s for s in data["streams"] if s["codec_type"] == "video")


def audio(data: dict) -> list[dict]:
    return [s for s in data["streams"] if s["codec_type"] == "audio"]


def gray_frame(path: Path, width: int, height: int, autorotate: bool = True) -> np.ndarray:
    """The first frame as 8-bit luma scaled to width x height; autorotate=False: as stored (no display matrix)."""
    argv = [
        ffmpeg_bin(),
        "-v",
        "error",
        *([] if autorotate else ["-noautorotate"]),
        "-i",
        str(path),
        "-frames:v",
        "1",
        "-vf",
        f"scale={width}:{height}",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "gray",
        "-",
    ]
    raw = subprocess.run(argv, check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(height, width).astype(float)


def audio_rms(path: Path, track: int) -> float:
    """RMS level (16-bit scale) of one audio track, mixed to mono."""
    argv = [ffmpeg_bin(), "-v", "error", "-i", str(path), "-map", f"0:a:{track}", "-ac", "1", "-f", "s16le", "-"]
    pcm = np.frombuffer(subprocess.run(argv, check=True, capture_output=True).stdout, np.int16).astype(float)
    return float(np.sqrt(np.mean(pcm**2))) if pcm.size else 0.0


def rotation(stream: dict) -> int:
    """Display-matrix rotation in degrees (counter-clockwise), as ffprobe reports it; 0 without one."""
    return next((int(round(float(sd["rotation"]))) for sd in stream.get("side_data_list", []) if "rotation" in sd), 0)


def rows(library, sql, *args):
    """The rows of one query on a library's catalog (read with sqlite3 directly, not with Dailies' reader)."""
    conn = sqlite3.connect(library / "catalog.sqlite")
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()
