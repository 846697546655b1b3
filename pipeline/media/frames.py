"""Stream decoded frames from one ffmpeg process, at a small analysis size, in decoded order.

One process decodes the source once (`-fps_mode passthrough`: no frame duplicated or dropped, so
frame N here is frame N of ../shared/media's ground truth). Frames arrive as BGR arrays sized for
display (sample aspect ratio and rotation applied); each carries its presentation time read from
ffmpeg's `showinfo`, so VFR sources map frames to time exactly. Memory stays flat: one frame at a time.
"""

from __future__ import annotations

import collections
import re
import subprocess
import threading
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..errors import FFmpegFailed
from .ffmpeg import ffmpeg_bin, safe_input
from .probe import MediaInfo

_SHOWINFO = re.compile(rb"\[Parsed_showinfo_\d+ @ [^\]]+\] (?:\[info\] )?n:\s*(\d+) pts:\s*(-?\d+|NOPTS)\s+pts_time:\s*(-?[\d.e+-]+|NOPTS)")


@dataclass
class Frame:
    index: int  # 0-based, decoded order
    time: float  # presentation time in seconds from the first frame
    image: np.ndarray  # H x W x 3, uint8, BGR


def analysis_size(info: MediaInfo, short_side: int, max_long_side: int) -> tuple[int, int]:
    """Even width/height with the display aspect, short side `short_side` (never upscaled)."""
    dw, dh = info.display_size
    scale = min(1.0, short_side / min(dw, dh), max_long_side / max(dw, dh))
    w = max(2, int(round(dw * scale / 2)) * 2)
    h = max(2, int(round(dh * scale / 2)) * 2)
    return w, h


def decode_argv(info: MediaInfo, size: tuple[int, int], threads: int = 0,
                extra_outputs: list[str] | None = None) -> list[str]:
    """ffmpeg argv: the analysis stream on stdout, then any `extra_outputs` (e.g. a proxy encode with its
    own -map/-c/... options and file name): ffmpeg decodes the input once and feeds every output."""
    w, h = size
    vf = f"scale={w}:{h}:flags=area,setsar=1,showinfo"
    return [
        ffmpeg_bin(), "-nostdin", "-hide_banner", "-loglevel", "level+info",
        "-threads", str(threads), "-i", safe_input(info.path),
        "-map", "0:v:0", "-an", "-sn", "-dn",
        "-fps_mode", "passthrough", "-vf", vf,
        "-pix_fmt", "bgr24", "-f", "rawvideo", "pipe:1",
        *(extra_outputs or []),
    ]


_PREFIX = re.compile(r"^(\[[^\]]+ @ 0x[0-9a-f]+\]\s*)?(\[(error|fatal|warning)\]\s*)?")


def _is_problem(line: bytes) -> bool:
    """An ffmpeg log line (`-loglevel level+info`) that says the source is damaged."""
    return b"[error]" in line or b"[fatal]" in line or (b"[warning]" in line and b"corrupt" in line)


class _StderrReader(threading.Thread):
    """Collects frame times from showinfo, the source's decode problems, and the last lines of anything else."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.times: dict[int, float] = {}
        self.other = collections.deque(maxlen=20)
        self.problems: list[str] = []  # first lines kept; `problem_count` counts them all
        self.problem_count = 0
        self.cond = threading.Condition()
        self.done = False

    def run(self):
        for line in self.stream:
            m = _SHOWINFO.search(line)
            if m:
                t = m.group(3)
                with self.cond:
                    self.times[int(m.group(1))] = float("nan") if t == b"NOPTS" else float(t)
                    self.cond.notify_all()
            elif b"Parsed_showinfo" not in line:
                text = line.decode(errors="replace").rstrip()
                self.other.append(text)
                if _is_problem(line):
                    self.problem_count += 1
                    if len(self.problems) < 20:
                        self.problems.append(_PREFIX.sub("", text))
        with self.cond:
            self.done = True
            self.cond.notify_all()

    def time_of(self, n: int) -> float:
        with self.cond:
            self.cond.wait_for(lambda: n in self.times or self.done, timeout=30)
            return self.times.pop(n, float("nan"))


@dataclass
class DecodeLog:
    """What the decoder said about the source, filled in when the frame stream ends."""

    problems: list[str] | None = None  # the first error lines (ffmpeg's own words)
    problem_count: int = 0
    frames: int = 0


def stream_frames(info: MediaInfo, short_side: int = 256, max_long_side: int = 640,
                  extra_outputs: list[str] | None = None, log: DecodeLog | None = None) -> Iterator[Frame]:
    """Yield every frame of the first video stream. Raises FFmpegFailed if decoding fails.

    `log`, when given, receives the decoder's complaints about the source (damaged frames, a
    truncated file) once the stream ends: decoding goes on past them, the caller decides."""
    size = analysis_size(info, short_side, max_long_side)
    argv = decode_argv(info, size, extra_outputs=extra_outputs)
    w, h = size
    nbytes = w * h * 3
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=nbytes * 4)
    reader = _StderrReader(proc.stderr)
    reader.start()
    t0 = None
    n = 0
    try:
        while True:
            buf = proc.stdout.read(nbytes)
            if not buf:
                break
            if len(buf) < nbytes:
                break  # a partial frame at the end of a broken stream
            t = reader.time_of(n)
            if t0 is None:
                t0 = t
            image = np.frombuffer(buf, np.uint8).reshape(h, w, 3)
            yield Frame(n, t - t0 if t == t else n / float(info.fps), image)
            n += 1
        proc.wait()
        reader.join(timeout=10)
        if log is not None:
            log.problems, log.problem_count, log.frames = list(reader.problems), reader.problem_count, n
        if proc.returncode != 0 or n == 0:
            hint = ("no frame could be decoded: the file is damaged or truncated; copy it from the card again"
                    if n == 0 else "decoding stopped early: the file is probably truncated")
            raise FFmpegFailed(info.path, argv, proc.returncode, "\n".join(reader.other), hint)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
