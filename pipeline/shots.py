"""Shot boundaries from a frame stream, with PySceneDetect's detectors fed through their Python API.

Pure core: `CutDetector` takes frames one at a time (so the caller decodes once and shares the stream
with keyframe selection) and reports confirmed cuts; `build_shots` turns cuts into `Shot`s with
seconds and SMPTE timecode. Frame numbers are 0-based in decoded order; a cut is the first frame
of the new shot.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scenedetect import FrameTimecode
from scenedetect.detectors import AdaptiveDetector, ContentDetector

from .config import ShotSettings
from .timecode import frame_tc


@dataclass(frozen=True)
class Shot:
    index: int
    start_frame: int
    end_frame: int  # inclusive
    start_time: float  # seconds, presentation time of the first frame
    end_time: float  # seconds, end of the last frame (= start of the next shot)
    start_tc: str
    end_tc: str  # timecode of the last frame (inclusive, like end_frame)
    confidence: float = 1.0  # of the cut that starts this shot (1.0 for the first shot)

    def to_json(self) -> dict:
        return {
            "index": self.index, "start_frame": self.start_frame, "end_frame": self.end_frame,
            "start_time": round(self.start_time, 6), "end_time": round(self.end_time, 6),
            "start_tc": self.start_tc, "end_tc": self.end_tc, "confidence": round(self.confidence, 3),
        }


def make_detector(settings: ShotSettings, fps: Fraction):
    if settings.detector == "adaptive":
        return AdaptiveDetector(adaptive_threshold=settings.adaptive_threshold, min_scene_len=settings.min_scene_len)
    return ContentDetector(threshold=settings.threshold, min_scene_len=settings.min_scene_len)


class CutDetector:
    """Feeds frames to a PySceneDetect detector; keeps each frame's content score for confidences."""

    def __init__(self, settings: ShotSettings, fps: Fraction):
        self.settings = settings
        self.fps = Fraction(fps)
        self.detector = make_detector(settings, self.fps)
        self.scores: list[float] = []
        self.cuts: list[int] = []
        self._last = -1

    def push(self, index: int, image: np.ndarray) -> list[int]:
        """Process frame `index` (BGR); return cuts confirmed by this frame (may lie in the past)."""
        found = self.detector.process_frame(FrameTimecode(index, self.fps), image)
        self.scores.append(float(getattr(self.detector, "_frame_score", None) or 0.0))
        self._last = index
        return self._accept(found)

    def finish(self) -> list[int]:
        if self._last < 0:
            return []
        return self._accept(self.detector.post_process(FrameTimecode(self._last, self.fps)))

    def _accept(self, found) -> list[int]:
        new = sorted(tc.frame_num for tc in found if tc.frame_num > 0)
        new = [c for c in new if not self.cuts or c > self.cuts[-1]]
        self.cuts.extend(new)
        return new

    def confidence(self, cut: int) -> float:
        """Content score at the cut relative to the threshold: 0.5 at the threshold, 1.0 at twice it."""
        if cut >= len(self.scores):
            return 0.5
        threshold = self.settings.threshold if self.settings.detector == "content" else 27.0
        return float(min(1.0, self.scores[cut] / (2.0 * threshold)))


def build_shots(
    cuts: list[int],
    times: list[float] | np.ndarray,
    fps: Fraction,
    start_tc: str | None = None,
    confidences: dict[int, float] | None = None,
) -> list[Shot]:
    """Shots covering frames 0..len(times)-1, split before every cut. `times` are per-frame PTS (s)."""
    n = len(times)
    if n == 0:
        return []
    frame_dur = 1.0 / float(fps)
    bounds = [0] + [c for c in sorted(set(cuts)) if 0 < c < n] + [n]
    shots = []
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        end_time = float(times[b]) if b < n else float(times[n - 1]) + frame_dur
        shots.append(Shot(
            index=i,
            start_frame=a,
            end_frame=b - 1,
            start_time=float(times[a]),
            end_time=end_time,
            start_tc=frame_tc(round(float(times[a]) * float(fps)), fps, start_tc),
            end_tc=frame_tc(round(float(times[b - 1]) * float(fps)), fps, start_tc),
            confidence=1.0 if a == 0 else (confidences or {}).get(a, 1.0),
        ))
    return shots
