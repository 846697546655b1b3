"""Stream decoded frames from one ffmpeg process, at a small analysis size, in decoded order.

One process decodes the source once (`-fps_mode passthrough`: no frame duplicated or dropped, so
frame N here is frame N of ../shared/media's ground truth). Frames arrive sized for display (sample
aspect ratio and rotation applied); each carries its presentation time read from ffmpeg's `showinfo`,
so VFR sources map frames to time exactly. Memory stays flat: one frame at a time.

Where the time goes (measured on a 1080p H.264 file, scripts/bench_shots.py): decoding dominates;
swscale's conversion to packed BGR costs about as much again as the downscale, so ffmpeg hands over
planar YUV 4:2:0 (area-averaged, so thumbnails are not aliased) and each frame becomes BGR in OpenCV
only when someone asks for `Frame.image`. Shot detection reads `Frame.small(factor)`, a further
integer-factor reduction. With `fast_decode` the H.264/HEVC in-loop deblocking filter is skipped
(about 20 % less decoding work; invisible at analysis size) -- but only when no extra output shares
the decode, since a proxy encode needs the full-quality picture.
"""

from __future__ import annotations

import collections
import logging
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass

if sys.platform != "win32":  # no fcntl on Windows
    import fcntl

import cv2
import numpy as np

from pipeline.errors import FFmpegFailed
from pipeline.media.ffmpeg import ffmpeg_bin, safe_input
from pipeline.media.probe import MediaInfo

_SHOWINFO = re.compile(
    rb"\[Parsed_showinfo_\d+ @ [^\]]+\] (?:\[info\] )?n:\s*(\d+) pts:\s*(-?\d+|NOPTS)\s+pts_time:\s*(-?[\d.e+-]+|NOPTS)"
)
_SKIP_LOOP_FILTER_CODECS = {"h264", "hevc"}
log = logging.getLogger("dailies.frames")


class Frame:
    """One decoded frame: `index` (0-based, decoded order), `time` (s from the first frame), pixels.

    Pixels are kept as ffmpeg sent them (planar YUV 4:2:0, or BGR when built from an array);
    `image` is the BGR picture (H x W x 3 uint8), converted once on first use.
    """

    __slots__ = ("index", "time", "_yuv", "_bgr", "_size")

    def __init__(
        self,
        index: int,
        time: float,
        image: np.ndarray | None = None,
        yuv: np.ndarray | None = None,
        size: tuple[int, int] | None = None,
    ):
        if (image is None) == (yuv is None):
            raise ValueError("Frame needs exactly one of image (BGR) or yuv (I420 with size)")
        self.index = index
        self.time = time
        if not size:
            if image is None:
                raise ValueError("Frame from yuv needs its size (width, height)")
            size = (image.shape[1], image.shape[0])
        self._bgr = image
        self._yuv = yuv
        self._size = size

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def image(self) -> np.ndarray:
        if self._bgr is None:
            assert self._yuv is not None  # the constructor takes one of the two
            self._bgr = cv2.cvtColor(self._yuv, cv2.COLOR_YUV2BGR_I420)
        return self._bgr

    def small(self, factor: int) -> np.ndarray:
        """BGR picture reduced `factor` times on each side (area average): what detectors read.

        From YUV it reduces the planes first and converts only the small picture (no full-size BGR)."""
        if factor <= 1:
            return self.image
        w, h = self._size
        sw, sh = max(1, w // factor), max(1, h // factor)
        yuv = self._yuv
        if self._bgr is not None or yuv is None or sw % 2 or sh % 2:
            return cv2.resize(self.image, (sw, sh), interpolation=cv2.INTER_AREA)
        # A small I420 picture, converted with the same (BT.601, limited range) rule as `image`.
        small = np.empty((sh * 3 // 2, sw), np.uint8)
        cv2.resize(yuv[:h], (sw, sh), dst=small[:sh], interpolation=cv2.INTER_AREA)
        chroma = yuv[h:].reshape(h, w // 2)  # the U plane above the V plane, each (h/2, w/2)
        if w == sw * factor and (h // 2) % factor == 0:
            # exact blocks that never straddle the U/V seam: one resize gives U then V, in I420 order
            cv2.resize(chroma, (sw // 2, sh), dst=small[sh:].reshape(sh, sw // 2), interpolation=cv2.INTER_AREA)
        else:
            for plane, out in zip(
                chroma.reshape(2, h // 2, w // 2), small[sh:].reshape(2, sh // 2, sw // 2), strict=True
            ):
                cv2.resize(plane, (sw // 2, sh // 2), dst=out, interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(small, cv2.COLOR_YUV2BGR_I420)


def analysis_size(info: MediaInfo, short_side: int, max_long_side: int) -> tuple[int, int]:
    """Even width/height with the display aspect, short side `short_side` (never upscaled)."""
    dw, dh = info.display_size
    scale = min(1.0, short_side / min(dw, dh), max_long_side / max(dw, dh))
    w = max(2, int(round(dw * scale / 2)) * 2)
    h = max(2, int(round(dh * scale / 2)) * 2)
    return w, h


def decode_argv(
    info: MediaInfo,
    size: tuple[int, int],
    threads: int = 0,
    extra_outputs: list[str] | None = None,
    fast_decode: bool = False,
) -> list[str]:
    """ffmpeg argv: the analysis stream (raw I420) on stdout, then any `extra_outputs` (e.g. a proxy
    encode with its own -map/-c/... options and file name): ffmpeg decodes the input once and feeds
    every output. `fast_decode` skips the deblocking filter, only when there is no extra output."""
    w, h = size
    vf = f"scale={w}:{h}:flags=area,setsar=1,showinfo=checksum=0"
    skip = (
        ["-skip_loop_filter", "all"]
        if fast_decode and not extra_outputs and info.codec in _SKIP_LOOP_FILTER_CODECS
        else []
    )
    return [
        ffmpeg_bin(),
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "level+info",
        "-threads",
        str(threads),
        *skip,
        "-i",
        safe_input(info.path),
        "-map",
        "0:v:0",
        "-an",
        "-sn",
        "-dn",
        "-fps_mode",
        "passthrough",
        "-vf",
        vf,
        "-pix_fmt",
        "yuv420p",
        "-f",
        "rawvideo",
        "pipe:1",
        *(extra_outputs or []),
    ]


_PREFIX = re.compile(r"^(\[[^\]]+ @ 0x[0-9a-f]+\]\s*)?(\[(error|fatal|warning)\]\s*)?")


# ffmpeg's words for an output that could not be written (a proxy encoded in the same run): not the source.
_OUTPUT_TROUBLE = (
    b"No space left on device",
    b"Error writing trailer",
    b"av_interleaved_write_frame",
    b"Error muxing",
    b"Error submitting a packet to the muxer",
)


def _is_problem(line: bytes) -> bool:
    """An ffmpeg log line (`-loglevel level+info`) that says the source is damaged."""
    return b"[error]" in line or b"[fatal]" in line or (b"[warning]" in line and b"corrupt" in line)


class _StderrReader(threading.Thread):
    """Collects frame times from showinfo, the source's decode problems, and the last lines of anything else."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.times: dict[int, float] = {}
        self.other: collections.deque[str] = collections.deque(maxlen=20)
        self.problems: list[str] = []  # first lines kept; `problem_count` counts them all
        self.problem_count = 0
        self.output_problems: list[str] = []  # an extra output (proxy) could not be written
        self.cond = threading.Condition()
        self.done = False

    def run(self):
        for line in self.stream:
            m = _SHOWINFO.search(line) if b"showinfo" in line else None
            if m:
                t = m.group(3)
                with self.cond:
                    self.times[int(m.group(1))] = float("nan") if t == b"NOPTS" else float(t)
                    self.cond.notify_all()
            elif b"Parsed_showinfo" not in line:
                text = line.decode(errors="replace").rstrip()
                self.other.append(text)
                if any(t in line for t in _OUTPUT_TROUBLE):
                    self.output_problems.append(_PREFIX.sub("", text))
                elif _is_problem(line):
                    self.problem_count += 1
                    if len(self.problems) < 20:
                        self.problems.append(_PREFIX.sub("", text))
        with self.cond:
            self.done = True
            self.cond.notify_all()

    def time_of(self, n: int) -> float:
        with self.cond:
            if n not in self.times:
                self.cond.wait_for(lambda: n in self.times or self.done, timeout=30)
            return self.times.pop(n, float("nan"))


@dataclass
class DecodeLog:
    """What the decoder said about the source, filled in when the frame stream ends."""

    problems: list[str] | None = None  # the first error lines (ffmpeg's own words)
    problem_count: int = 0
    output_problems: list[str] | None = None  # writing an extra output failed (a full disk...)
    frames: int = 0


_F_SETPIPE_SZ = 1031  # Linux fcntl


def _widen_pipe(stream, frame_bytes: int) -> None:
    """Let the pipe hold a few frames (Linux: 64 KiB by default, less than one analysis frame), so ffmpeg
    writes each frame in one go instead of waiting for us to drain it piece by piece: about 5 % less wall
    time on a 1080p file (scripts/bench_shots.py). Elsewhere, or above the system's limit, the default stays."""
    if sys.platform == "win32":
        return
    want = min(1 << 20, max(1 << 16, 4 * frame_bytes))
    try:
        fcntl.fcntl(stream.fileno(), _F_SETPIPE_SZ, want)
    except OSError as exc:  # not Linux (no such fcntl), or above /proc/sys/fs/pipe-max-size
        log.debug("frame pipe left at its default size (%s)", exc)


def stream_frames(
    info: MediaInfo,
    short_side: int = 256,
    max_long_side: int = 640,
    extra_outputs: list[str] | None = None,
    fast_decode: bool = False,
    log: DecodeLog | None = None,
) -> Iterator[Frame]:
    """Yield every frame of the first video stream. Raises FFmpegFailed if decoding fails.

    `log`, when given, receives the decoder's complaints about the source (damaged frames, a
    truncated file) once the stream ends: decoding goes on past them, the caller decides."""
    size = analysis_size(info, short_side, max_long_side)
    argv = decode_argv(info, size, extra_outputs=extra_outputs, fast_decode=fast_decode)
    w, h = size
    nbytes = w * h * 3 // 2
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=nbytes * 4
    )
    assert proc.stdout is not None and proc.stderr is not None  # both are pipes
    _widen_pipe(proc.stdout, nbytes)
    reader = _StderrReader(proc.stderr)
    reader.start()
    t0 = None
    n = 0
    fps = float(info.fps)
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
            yuv = np.frombuffer(buf, np.uint8).reshape(h * 3 // 2, w)
            yield Frame(n, t - t0 if t == t else n / fps, yuv=yuv, size=size)
            n += 1
        proc.wait()
        reader.join(timeout=10)
        if log is not None:
            log.problems, log.problem_count, log.frames = list(reader.problems), reader.problem_count, n
            log.output_problems = list(reader.output_problems[-5:])
        if proc.returncode != 0 or n == 0:
            hint = (
                "no frame could be decoded: the file is damaged or truncated; copy it from the card again"
                if n == 0
                else "decoding stopped early: the file is probably truncated"
            )
            raise FFmpegFailed(info.path, argv, proc.returncode, "\n".join(reader.other), hint)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
