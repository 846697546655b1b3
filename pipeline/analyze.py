"""One decode, two consumers: shot detection and keyframe selection share the same frame stream."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pipeline.config import Settings
from pipeline.errors import MediaError
from pipeline.keyframes import Keyframe, KeyframeCollector
from pipeline.media.frames import DecodeLog, Frame, stream_frames
from pipeline.media.probe import MediaInfo
from pipeline.shots import Shot, ShotDetector, boundary_confidences, build_shots
from pipeline.transitions import Gradual


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
    decode: DecodeLog = field(default_factory=DecodeLog)  # what the decoder said about the source

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
            "transitions": [
                {"type": "cut", "frame": c, "confidence": self.cut_confidence.get(c, 1.0)} for c in self.cuts
            ]
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
    collector = (
        KeyframeCollector(float(fps), settings.keyframes, recent=max(96, detector.lag + 32)) if with_keyframes else None
    )
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
    if progress and times:
        progress(len(times))  # every frame read: the file's bar ends full
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


def analyze_file(
    info: MediaInfo,
    settings: Settings,
    with_keyframes: bool = True,
    progress=None,
    extra_outputs: list[str] | None = None,
) -> Analysis:
    """`extra_outputs`: more ffmpeg outputs (e.g. proxy encodes) fed by the same decode (see media/frames.py)."""
    a = settings.analysis
    log = DecodeLog()
    frames = stream_frames(
        info, a.short_side, a.max_long_side, extra_outputs=extra_outputs, fast_decode=a.fast_decode, log=log
    )
    result = analyze_frames(info, frames, settings, with_keyframes, progress)
    result.decode = log
    return result


class Truncated(MediaError):
    """Decoding ended well before the frames the file's header promises."""


def check_complete(result: Analysis, min_fraction: float) -> list[str]:
    """Pure check of a finished decode: raise Truncated when the file ended early; return warnings
    (damaged frames the decoder concealed, a header that disagrees with the stream)."""
    info = result.info
    expected, got = info.frame_count, result.frame_count
    problems = result.decode.problems or []
    if expected > 0 and got < expected * min_fraction:
        said = f" (ffmpeg: {problems[-1]})" if problems else ""
        raise Truncated(
            info.path,
            f"truncated: decoding ended after {got} of {expected} frames the header promises"
            f"{said}; the recording or the copy was cut short -- copy it from the card again "
            f"(no shots were recorded for it)",
        )
    warnings = list(info.notes)
    if result.decode.problem_count:
        warnings.append(
            f"ffmpeg reported {result.decode.problem_count} decode error(s), e.g. {problems[0]!r}: "
            f"some frames are damaged; shots and keyframes near them may be wrong -- check the clip "
            f"and the card copy"
        )
    return warnings
