"""Shot boundaries from a frame stream: PySceneDetect's detectors, fed through their Python API, plus
what they lack -- flash/glitch suppression, motion checks and gradual transitions (pipeline/transitions.py).

Pure core: `ShotDetector.push(frame)` takes frames one at a time (the caller decodes once and shares
the stream with keyframe selection) and returns the shot boundaries it has settled, in order, a
bounded number of frames late. `build_shots` turns boundaries into `Shot`s with seconds and SMPTE
timecode. Frame numbers are 0-based in decoded order; a cut is the first frame of the new shot; a
gradual transition `[first, last]` splits shots at its middle frame.

How a hard cut is decided (all thresholds in configs/default.toml [shots]):
1. PySceneDetect proposes it: ContentDetector (HSV change >= `threshold`, its FlashFilter merging
   cuts closer than `min_scene_len`) or AdaptiveDetector (`detector = "adaptive"`).
2. It must stand out from its neighbours (score >= `motion_ratio` x the mean of the `motion_window`
   frames on each side): fast pans, whip pans and objects crossing the lens change every frame a lot,
   a cut changes one frame.
3. It must not be a flash: if a frame up to `flash_frames` before the jump and one up to
   `flash_frames` after it look alike (HSV distance below `flash_similarity` x the jump and below
   `threshold`), the frames between were a flash, a glitch or a corrupted frame.
4. A cut inside a gradual transition, or within `flash_frames` of its ends (a dissolve or fade that
   finishes with a jump), is part of that transition.
"""

from __future__ import annotations

import collections
import heapq
import itertools
from dataclasses import dataclass, field
from fractions import Fraction

import cv2
import numpy as np
from scenedetect import FrameTimecode
from scenedetect.detectors import AdaptiveDetector, ContentDetector

from pipeline.config import ShotSettings
from pipeline.timecode import frame_tc
from pipeline.transitions import DissolveFinder, FadeFinder, Gradual, Scores, mean_abs


@dataclass(frozen=True)
class Shot:
    index: int
    start_frame: int
    end_frame: int  # inclusive
    start_time: float  # seconds, presentation time of the first frame
    end_time: float  # seconds, end of the last frame (= start of the next shot)
    start_tc: str
    end_tc: str  # timecode of the last frame (inclusive, like end_frame)
    confidence: float = 1.0  # of the boundary that starts this shot (1.0 for the first shot)

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "start_time": round(self.start_time, 6),
            "end_time": round(self.end_time, 6),
            "start_tc": self.start_tc,
            "end_tc": self.end_tc,
            "confidence": round(self.confidence, 3),
        }


def make_detector(settings: ShotSettings):
    """The PySceneDetect detector that proposes hard cuts."""
    if settings.detector == "adaptive":
        return AdaptiveDetector(adaptive_threshold=settings.adaptive_threshold, min_scene_len=settings.min_scene_len)
    return ContentDetector(threshold=settings.threshold, min_scene_len=settings.min_scene_len)


@dataclass
class _Rec:
    hsv: np.ndarray  # int16 detection picture (flash checks)
    tiny_bgr: np.ndarray  # int16, half the detection size (blend tests)
    tiny_hsv: np.ndarray
    tiny_contrast: float  # deviation of tiny_hsv's V channel


@dataclass
class Boundaries:
    cuts: dict[int, float] = field(default_factory=dict)  # first frame of the new shot -> confidence
    gradual: list[Gradual] = field(default_factory=list)
    rejected: dict[int, str] = field(default_factory=dict)  # proposed cut -> why it was not kept


class ShotDetector:
    """Streaming shot-boundary detector over small BGR frames (see the module docstring)."""

    def __init__(self, settings: ShotSettings, fps: Fraction):
        self.s = settings
        self.fps = Fraction(fps)
        self.detector = make_detector(settings)
        self.scores = Scores(settings.threshold)
        self.dissolves = DissolveFinder(settings, self._frame, self.scores)
        self.fades = FadeFinder(settings)
        self.lookahead = max(settings.flash_frames, settings.motion_window, self.dissolves.lookahead) + 1
        keep = 4 * self.dissolves.hmax + self.lookahead + settings.flash_frames + 8
        self.buf: collections.deque[_Rec] = collections.deque(maxlen=keep)
        self.n = 0  # frames pushed
        self.next_dissolve = 0  # next centre frame for the dissolve finder
        self.pending: list[int] = []  # proposed cuts not yet judged
        self.ready: list[tuple[int, str]] = []  # heap of settled (boundary frame, kind) not yet released
        self.released = 0
        self.result = Boundaries()
        self.held: Gradual | None = None  # a fade out that may become a dip
        self.dip_gap = round(settings.dip_max_seconds * float(self.fps))

    @property
    def lag(self) -> int:
        """How many frames late a boundary is usually released (long fades can take longer)."""
        return self.s.min_scene_len + self.lookahead + 4 * self.dissolves.hmax

    # -- buffer access -----------------------------------------------------------------------
    def _rec(self, i: int) -> _Rec:
        return self.buf[i - (self.n - len(self.buf))]

    def _frame(self, i: int) -> tuple[np.ndarray, np.ndarray, float]:
        r = self._rec(i)
        return r.tiny_bgr, r.tiny_hsv, r.tiny_contrast

    def _dist(self, i: int, j: int) -> float:
        return mean_abs(self._rec(i).hsv, self._rec(j).hsv)

    # -- streaming ---------------------------------------------------------------------------
    def push(self, index: int, small: np.ndarray) -> list[int]:
        """Feed frame `index` (small BGR picture); returns boundaries settled so far, in order."""
        if index != self.n:
            raise ValueError(f"frames must arrive in order: expected {self.n}, got {index}")
        found = self.detector.process_frame(FrameTimecode(index, self.fps), small)
        score = float(self.detector._frame_score or 0.0)
        self.scores.append(score)
        hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
        h, w = small.shape[:2]
        tiny = cv2.resize(small, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
        tiny_hsv = cv2.cvtColor(tiny, cv2.COLOR_BGR2HSV).astype(np.int16)
        self.buf.append(_Rec(hsv.astype(np.int16), tiny.astype(np.int16), tiny_hsv, float(tiny_hsv[..., 2].std())))
        self.n += 1
        self.pending += [tc.frame_num for tc in found if tc.frame_num > 0]
        if self.s.gradual:
            mean, dev = cv2.meanStdDev(hsv[..., 2])
            for g in self.fades.push(index, float(mean[0, 0]), float(dev[0, 0]), score):
                self._add_gradual(g)
        while self.s.gradual and self.next_dissolve + self.dissolves.lookahead < self.n:
            for g in self.dissolves.push(self.next_dissolve):
                self._add_gradual(g)
            self.next_dissolve += 1
        run = self.fades.open_from  # a fade in may be under way: wait for it
        if (
            self.held
            and self.n - 1 - self.held.last > self.dip_gap
            and (run is None or run - self.held.last - 1 > self.dip_gap)
        ):
            self._keep_gradual(self.held)
            self.held = None
        self._judge(final=False)
        return self._release(final=False)

    def finish(self) -> list[int]:
        if self.n == 0:
            return []
        found = self.detector.post_process(FrameTimecode(self.n - 1, self.fps))
        self.pending += [tc.frame_num for tc in found if 0 < tc.frame_num < self.n]
        for g in self.fades.close() + self.dissolves.close():
            self._add_gradual(g)
        if self.held:
            self._keep_gradual(self.held)
            self.held = None
        self._judge(final=True)
        return self._release(final=True)

    def _add_gradual(self, g: Gradual) -> None:
        """A fade out is held until we know whether a fade in follows within `dip_max_seconds`:
        out + short slug + in is one transition (a dip), not a shot made of a slug."""
        seen = self.result.gradual + ([self.held] if self.held else [])
        if any(not (g.last < o.first or g.first > o.last) for o in seen):
            return  # the same transition seen by both finders (a fade is also a blend)
        if self.held and g.kind == "fade_in" and g.first - self.held.last - 1 <= self.dip_gap:
            g = Gradual(self.held.first, g.last, "dip", min(self.held.confidence, g.confidence))
            self.held = None
        elif self.held:
            self._keep_gradual(self.held)
            self.held = None
        if g.kind == "fade_out":
            self.held = g
        else:
            self._keep_gradual(g)

    def _keep_gradual(self, g: Gradual) -> None:
        self.result.gradual.append(g)
        if 0 < g.middle < self.n:
            heapq.heappush(self.ready, (g.middle, "gradual"))

    def _open_from(self) -> int:
        if not self.s.gradual:
            return self.n
        held = self.held.first if self.held else None
        opens = [x for x in (self.fades.open_from, self.dissolves.open_from, held) if x is not None]
        return min(opens + [self.next_dissolve - self.dissolves.hmax])

    def _judge(self, final: bool) -> None:
        keep = []
        for c in sorted(set(self.pending)):
            if not final and (c + self.lookahead >= self.n or c >= self._open_from() - 1):
                keep.append(c)
                continue
            why = self._reject(c)
            if why:
                self.result.rejected[c] = why
            else:
                self.result.cuts[c] = self._confidence(c)
                heapq.heappush(self.ready, (c, "cut"))
        self.pending = keep

    def _release(self, final: bool) -> list[int]:
        limit = self.n if final else min([self._open_from() - 1] + self.pending)
        out = []
        while self.ready and self.ready[0][0] < limit:
            b, _ = heapq.heappop(self.ready)
            if b > self.released:
                out.append(b)
                self.released = b
        return out

    # -- the checks --------------------------------------------------------------------------
    def _ratio(self, c: int) -> float:
        w = self.s.motion_window
        around = [self.scores[i] for i in range(max(1, c - w), min(self.n, c + w + 1)) if i != c]
        mean = sum(around) / len(around) if around else 0.0
        return self.scores[c] / mean if mean > 1e-6 else float("inf")

    def _reject(self, c: int) -> str | None:
        k = self.s.flash_frames
        for g in self.result.gradual + ([self.held] if self.held else []):
            if g.first - k <= c <= g.last + k:
                return f"part of the {g.kind} {g.first}-{g.last}"
        if self._ratio(c) < self.s.motion_ratio:
            return "motion: neighbouring frames change almost as much"
        oldest = self.n - len(self.buf)
        k = self.s.flash_frames
        jump = max(self.scores[c], 1e-6)
        for a in range(max(oldest, c - 1 - k), c):
            for b in range(c, min(self.n, a + k + 2)):
                if b - a < 2:
                    continue
                d = self._dist(a, b)
                if d < self.s.threshold and d < self.s.flash_similarity * jump:
                    return f"flash: frames {a} and {b} match ({d:.1f})"
        return None

    def _confidence(self, c: int) -> float:
        """0.5 when the weaker of score/threshold and ratio/motion_ratio is at 1, 1.0 at twice."""
        margin = min(self.scores[c] / self.s.threshold, self._ratio(c) / self.s.motion_ratio)
        return round(float(min(1.0, max(0.0, 0.5 * margin))), 3)


def boundary_confidences(result: Boundaries) -> dict[int, float]:
    conf = {g.middle: g.confidence for g in result.gradual}
    conf.update(result.cuts)
    return conf


def build_shots(
    cuts: list[int],
    times: list[float] | np.ndarray,
    fps: Fraction,
    start_tc: str | None = None,
    confidences: dict[int, float] | None = None,
) -> list[Shot]:
    """Shots covering frames 0..len(times)-1, split before every boundary. `times` are per-frame PTS (s)."""
    n = len(times)
    if n == 0:
        return []
    frame_dur = 1.0 / float(fps)
    bounds = [0] + [c for c in sorted(set(cuts)) if 0 < c < n] + [n]
    shots = []
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        end_time = float(times[b]) if b < n else float(times[n - 1]) + frame_dur
        shots.append(
            Shot(
                index=i,
                start_frame=a,
                end_frame=b - 1,
                start_time=float(times[a]),
                end_time=end_time,
                start_tc=frame_tc(round(float(times[a]) * float(fps)), fps, start_tc),
                end_tc=frame_tc(round(float(times[b - 1]) * float(fps)), fps, start_tc),
                confidence=1.0 if a == 0 else (confidences or {}).get(a, 1.0),
            )
        )
    return shots
