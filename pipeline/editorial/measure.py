"""Per-frame measurements of a take: level, clipping, sharpness, global motion (optical flow).

Pure core: `measure_frames(frames, settings)` over any iterable of (index, BGR image) -> TakeMetrics.
`measure_clip(probe_json, settings)` decodes one clip once more at `[tags] short_side` (one ffmpeg
process, every `frame_step`-th frame measured): the ingest's measure stage runs it and stores the result,
keyed by the clip's content hash and the measurement settings (pipeline/ingest/stages.py). Cost: one
decode of the source at analysis size plus optical flow at half that size: roughly the cost of the
analyze stage again (see docs/editorial.md: measured 0.1-0.3 s per second of 640x360 footage on 2 cores).
Readers (selects, automatic tags) only read what the ingest stored: `stored_metrics`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from pipeline.config import TagSettings


@dataclass
class TakeMetrics:
    """Series over the measured frames (same length each); motion values are in percent of frame width
    per frame, scale in relative size change per frame; the first frame has no motion (0)."""

    frames: list[int] = field(default_factory=list)
    luma: list[float] = field(default_factory=list)  # mean luma 0..1
    clip_hi: list[float] = field(default_factory=list)  # fraction of pixels >= 250
    clip_lo: list[float] = field(default_factory=list)  # fraction of pixels <= 5
    sharpness: list[float] = field(default_factory=list)  # variance of the Laplacian
    contrast: list[float] = field(default_factory=list)  # standard deviation of luma (0..255)
    coarse: list[float] = field(default_factory=list)  # variance of the Laplacian after a sigma-2 Gaussian blur
    dx: list[float] = field(default_factory=list)
    dy: list[float] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)
    framing: list[list[float]] = field(default_factory=list)  # framing signatures, frame 0 and every `framing_every`
    framing_every: int = 24
    frame_count: int = 0

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> TakeMetrics:
        return cls(**d)

    def window(self, first: int, last: int) -> TakeMetrics:
        """The measurements of frames first..last (inclusive)."""
        keep = [i for i, f in enumerate(self.frames) if first <= f <= last]
        pick = lambda xs: [xs[i] for i in keep]  # noqa: E731
        return TakeMetrics(
            pick(self.frames),
            pick(self.luma),
            pick(self.clip_hi),
            pick(self.clip_lo),
            pick(self.sharpness),
            pick(self.contrast),
            pick(self.coarse),
            pick(self.dx),
            pick(self.dy),
            pick(self.scale),
            [],
            self.framing_every,
            last - first + 1,
        )


def global_motion(prev: np.ndarray, cur: np.ndarray) -> tuple[float, float, float]:
    """(dx, dy, scale) of the dominant motion between two grey frames: sparse Lucas-Kanade optical flow
    on Shi-Tomasi corners, then a RANSAC similarity fit (so moving subjects and flat areas do not count).
    dx/dy: motion of the frame centre in pixels; scale: relative size change. NaN when the frame has
    too little texture to track."""
    nan = (float("nan"),) * 3
    pts = cv2.goodFeaturesToTrack(prev, maxCorners=300, qualityLevel=0.01, minDistance=4, blockSize=5)
    if pts is None or len(pts) < 8:
        return nan
    nxt, status, _err = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, winSize=(21, 21), maxLevel=3)
    ok = status.ravel() == 1
    if ok.sum() < 8:
        return nan
    matrix, _inliers = cv2.estimateAffinePartial2D(pts[ok], nxt[ok], method=cv2.RANSAC, ransacReprojThreshold=1.0)
    if matrix is None:
        return nan
    h, w = prev.shape
    cx, cy = w / 2, h / 2
    nx, ny = matrix @ np.array([cx, cy, 1.0])
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0])) - 1.0
    return float(nx - cx), float(ny - cy), scale


def framing_signature(image: np.ndarray) -> np.ndarray:
    """A 32x18 grey thumbnail, zero-mean and unit-norm: the dot product of two is their framing
    correlation, insensitive to exposure gain and mild blur."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    v = cv2.resize(grey, (32, 18), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    v -= v.mean()
    return v / (np.linalg.norm(v) or 1.0)


def measure_frames(frames: Iterable[tuple[int, np.ndarray]], settings: TagSettings) -> TakeMetrics:
    """Measure every `frame_step`-th frame of (index, BGR image) pairs."""
    m = TakeMetrics()
    step = max(1, settings.frame_step)
    prev: tuple[np.ndarray, int] | None = None  # the last measured frame, downscaled, and its index
    last = -1
    for index, image in frames:
        last = index
        if index % m.framing_every == 0:
            m.framing.append([round(float(x), 3) for x in framing_signature(image)])
            if len(m.framing) > 48:  # long takes: keep every other one, sample half as often
                m.framing = m.framing[::2]
                m.framing_every *= 2
        if index % step:
            continue
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        n = grey.size
        m.frames.append(index)
        m.luma.append(float(grey.mean()) / 255.0)
        m.clip_hi.append(float(np.count_nonzero(grey >= 250)) / n)
        m.clip_lo.append(float(np.count_nonzero(grey <= 5)) / n)
        m.sharpness.append(float(cv2.Laplacian(grey, cv2.CV_64F).var()))
        m.contrast.append(float(grey.std()))
        m.coarse.append(float(cv2.Laplacian(cv2.GaussianBlur(grey, (0, 0), 2.0), cv2.CV_64F).var()))
        small = cv2.resize(grey, (grey.shape[1] // 2, grey.shape[0] // 2), interpolation=cv2.INTER_AREA)
        if prev is None:
            m.dx.append(0.0)
            m.dy.append(0.0)
            m.scale.append(0.0)
        else:
            prev_small, prev_index = prev
            gap = index - prev_index
            tx, ty, s = global_motion(prev_small, small)
            width = small.shape[1]
            m.dx.append(100.0 * tx / width / gap)
            m.dy.append(100.0 * ty / width / gap)
            m.scale.append(s / gap)
        prev = small, index
    m.frame_count = last + 1
    return m


def measure_clip(probe_json: dict, settings: TagSettings, progress: Callable[[int], None] | None = None) -> TakeMetrics:
    """Decode one clip (streamed, one frame in memory) and measure it. `progress(frame_index)` is called for
    every frame; it may raise to stop the measurement (the decoder is stopped with it)."""
    import contextlib

    from pipeline.media.frames import stream_frames
    from pipeline.media.probe import MediaInfo

    info = MediaInfo.from_json(probe_json)
    decoder = stream_frames(info, settings.short_side, settings.short_side * 3)
    # closed on the way out, also when progress raises: its ffmpeg stops now, not when the traceback goes
    with contextlib.closing(decoder) as stream:  # type: ignore[type-var]  # a generator: it has close()

        def frames():
            for f in stream:
                if progress is not None:
                    progress(f.index)
                yield f.index, f.image

        return measure_frames(frames(), settings)


def stored_metrics(catalog, clip_ids: Iterable[int]) -> dict[int, TakeMetrics]:
    """The measurements the ingest's measure stage stored for these clips (for their current content).
    A clip without them is left out: `pipeline.editorial.ingested` says which and what to do."""
    return {cid: TakeMetrics.from_json(m) for cid, m in catalog.stored_metrics(clip_ids).items()}
