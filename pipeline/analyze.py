"""One decode, two consumers: shot detection and keyframe selection share the same frame stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from .config import Settings
from .keyframes import Keyframe, KeyframeCollector
from .media.frames import Frame, stream_frames
from .media.probe import MediaInfo
from .shots import Shot, ShotDetector, boundary_confidences, build_shots
from .transitions import Gradual


@dataclass
class Analysis:
    info: MediaInfo
    frame_count: int
    cuts: list[int]  # hard cuts only
    gradual: list[Gradual]
    shots: list[Shot]  # split at hard cuts and at the middle of each gradual transition
    keyframes: dict[int, list[Keyframe]] = field(default_factory=dict)  # shot index -> keyframes
    cut_confidence: dict[int, float] = field(default_factory=dict)
    rejected: dict[int, str] = field(default_factory=dict)  # proposed cuts not kept, and why

    def shots_json(self) -> dict:
        fps = self.info.fps
        return {
            "file": self.info.path,
            "fps": f"{fps.numerator}/{fps.denominator}",
            "frame_count": self.frame_count,
            "vfr": self.info.vfr,
            "start_tc": self.info.start_tc,
            "cuts": self.cuts,
            "gradual": [[g.first, g.last] for g in self.gradual],
            "transitions": [{"type": "cut", "frame": c, "confidence": self.cut_confidence.get(c, 1.0)}
                            for c in self.cuts]
            + [{"type": g.kind, "range": [g.first, g.last], "confidence": g.confidence} for g in self.gradual],
            "shots": [s.to_json() for s in self.shots],
        }


def detect_factor(frame_size: tuple[int, int], detect_short_side: int) -> int:
    """Integer reduction from analysis frames to detection frames (area average)."""
    return max(1, round(min(frame_size) / max(1, detect_short_side)))


def analyze_frames(
    info: MediaInfo,
    frames: Iterable[Frame],
    settings: Settings,
    with_keyframes: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Analysis:
    """Pure core: detect shots and pick keyframes from a frame stream."""
    fps = info.fps
    detector = ShotDetector(settings.shots, fps)
    collector = (KeyframeCollector(float(fps), settings.keyframes, recent=max(96, detector.lag + 32))
                 if with_keyframes else None)
    times: list[float] = []
    factor = None
    for frame in frames:
        if factor is None:
            factor = detect_factor(frame.size, settings.analysis.detect_short_side)
        times.append(frame.time)
        if collector:
            collector.add(frame)
        for boundary in detector.push(frame.index, frame.small(factor)):
            if collector:
                collector.cut(boundary)
        if progress and frame.index % 50 == 0:
            progress(frame.index)
    for boundary in detector.finish():
        if collector:
            collector.cut(boundary)
    result = detector.result
    gradual = sorted(result.gradual, key=lambda g: g.first)
    bounds = sorted(set(result.cuts) | {g.middle for g in gradual})
    shots = build_shots(bounds, times, fps, info.start_tc, boundary_confidences(result))
    keyframes: dict[int, list[Keyframe]] = {}
    if collector:
        by_start = {start: kfs for start, _end, kfs in collector.finish()}
        for shot in shots:
            keyframes[shot.index] = by_start[shot.start_frame]
    cuts = sorted(c for c in result.cuts if 0 < c < len(times))
    return Analysis(info, len(times), cuts, gradual, shots, keyframes, dict(result.cuts), dict(result.rejected))


def analyze_file(info: MediaInfo, settings: Settings, with_keyframes: bool = True, progress=None,
                 extra_outputs: list[str] | None = None) -> Analysis:
    """`extra_outputs`: more ffmpeg outputs (e.g. proxy encodes) fed by the same decode (see media/frames.py)."""
    a = settings.analysis
    frames = stream_frames(info, a.short_side, a.max_long_side, extra_outputs=extra_outputs, fast_decode=a.fast_decode)
    return analyze_frames(info, frames, settings, with_keyframes, progress)
