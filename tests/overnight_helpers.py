"""Small camera-like clips (lavfi) and ffprobe checks for the overnight tests."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path

from pipeline.media.ffmpeg import ffmpeg_bin, ffprobe_bin


def camera_clip(path: Path, rate: str, frames: int, timecode: str | None = None, audio: bool = False,
                size: str = "320x180", extra: list[str] | None = None, rotate: int = 0) -> Path:
    """A clip with two visibly different shots (half each), optional timecode, 48 kHz stereo audio, tags."""
    half = frames // 2
    graph = (f"testsrc2=s={size}:r={rate},trim=end_frame={half},setpts=PTS-STARTPTS[a];"
             f"smptehdbars=s={size}:r={rate},trim=end_frame={frames - half},setpts=PTS-STARTPTS[b];"
             f"[a][b]concat=n=2:v=1:a=0,format=yuv420p[v]")
    argv = [ffmpeg_bin(), "-y", "-nostdin", "-v", "error", "-filter_complex", graph]
    if audio:
        seconds = frames / float(Fraction(rate))
        argv += ["-f", "lavfi", "-t", f"{seconds:.4f}", "-i", "sine=f=440:r=48000,pan=stereo|c0=c0|c1=c0"]
    argv += ["-map", "[v]"] + (["-map", "0:a"] if audio else [])
    argv += ["-c:v", "libx264", "-preset", "ultrafast"] + (["-c:a", "pcm_s16le"] if audio else [])
    if timecode:
        argv += ["-timecode", timecode]
    target = path.with_name(f"tmp-{path.name}") if rotate else path
    argv += list(extra or []) + [str(target)]
    subprocess.run(argv, check=True)
    if rotate:  # ffmpeg 5.1 writes a display matrix only when the stream is copied
        subprocess.run([ffmpeg_bin(), "-y", "-nostdin", "-v", "error", "-i", str(target), "-map", "0:v", "-map", "0:a?", "-c", "copy",
                        "-metadata:s:v:0", f"rotate={rotate}", *(["-timecode", timecode] if timecode else []),
                        str(path)], check=True)
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
