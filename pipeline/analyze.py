"""One decode, two consumers: shot detection and keyframe selection share the same frame stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from .config import Settings
from .keyframes import Keyframe, KeyframeCollector
from .media.frames import Frame, stream_frames
from .media.probe import MediaInfo
from .shots import CutDetector, Shot, build_shots


@dataclass
class Analysis:
    info: MediaInfo
    frame_count: int
    cuts: list[int]
    gradual: list[list[int]]
    shots: list[Shot]
    keyframes: dict[int, list[Keyframe]] = field(default_factory=dict)  # shot index -> keyframes

    def shots_json(self) -> dict:
        fps = self.info.fps
        return {
            "file": self.info.path,
            "fps": f"{fps.numerator}/{fps.denominator}",
            "frame_count": self.frame_count,
            "vfr": self.info.vfr,
            "start_tc": self.info.start_tc,
            "cuts": self.cuts,
            "gradual": self.gradual,
            "shots": [s.to_json() for s in self.shots],
        }


def analyze_frames(
    info: MediaInfo,
    frames: Iterable[Frame],
    settings: Settings,
    with_keyframes: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Analysis:
    """Pure core: detect shots and pick keyframes from a frame stream."""
    fps = info.fps
    detector = CutDetector(settings.shots, fps)
    collector = KeyframeCollector(float(fps), settings.keyframes) if with_keyframes else None
    times: list[float] = []
    for frame in frames:
        times.append(frame.time)
        if collector:
            collector.add(frame.index, frame.time, frame.image)
        for cut in detector.push(frame.index, frame.image):
            if collector:
                collector.cut(cut)
        if progress and frame.index % 50 == 0:
            progress(frame.index)
    for cut in detector.finish():
        if collector:
            collector.cut(cut)
    confidences = {c: detector.confidence(c) for c in detector.cuts}
    shots = build_shots(detector.cuts, times, fps, info.start_tc, confidences)
    keyframes: dict[int, list[Keyframe]] = {}
    if collector:
        by_start = {start: kfs for start, _end, kfs in collector.finish()}
        for shot in shots:
            keyframes[shot.index] = by_start[shot.start_frame]
    return Analysis(info, len(times), [s.start_frame for s in shots[1:]], [], shots, keyframes)


def analyze_file(info: MediaInfo, settings: Settings, with_keyframes: bool = True, progress=None,
                 extra_outputs: list[str] | None = None) -> Analysis:
    """`extra_outputs`: more ffmpeg outputs (e.g. proxy encodes) fed by the same decode (see media/frames.py)."""
    frames = stream_frames(info, settings.analysis.short_side, settings.analysis.max_long_side,
                           extra_outputs=extra_outputs)
    return analyze_frames(info, frames, settings, with_keyframes, progress)
