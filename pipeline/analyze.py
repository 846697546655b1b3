"""One decode, two consumers: shot detection and keyframe selection share the same frame stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from .config import Settings
from .keyframes import Keyframe, KeyframeCollector
from .errors import MediaError
from .media.frames import DecodeLog, Frame, stream_frames
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


def analyze_file(info: MediaInfo, settings: Settings, with_keyframes: bool = True, progress=None) -> Analysis:
    log = DecodeLog()
    frames = stream_frames(info, settings.analysis.short_side, settings.analysis.max_long_side, log=log)
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
        raise Truncated(info.path, f"truncated: decoding ended after {got} of {expected} frames the header promises"
                                   f"{said}; the recording or the copy was cut short -- copy it from the card again "
                                   f"(no shots were recorded for it)")
    warnings = list(info.notes)
    if result.decode.problem_count:
        warnings.append(f"ffmpeg reported {result.decode.problem_count} decode error(s), e.g. {problems[0]!r}: "
                        f"some frames are damaged; shots and keyframes near them may be wrong -- check the clip "
                        f"and the card copy")
    return warnings
