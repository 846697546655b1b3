"""Gradual transitions (cross-dissolves, fades to and from black or white) and frame comparisons.

Pure core, fed one frame at a time by `pipeline.shots.ShotDetector` (which owns the frame buffer).
Two detectors, because the two kinds look different in the signals:

* `DissolveFinder` -- the classic twin-comparison idea (Zhang et al. 1993) checked with the linear
  blend model a dissolve follows (F(t) = (1-a) A + a B; see e.g. Lienhart 2001 and the dissolve
  synthesis TransNetV2 trains on): a window [c-h, c+h] is a dissolve candidate when its two ends
  differ like two shots do, no single step inside is a cut, and the middle frame is close to the
  average of the ends. Camera pans and objects crossing the lens also change a lot over a window,
  but their middle frame is a displaced picture, not an average, so they fail the blend test.
  Overlapping windows merge into one region, trimmed to the frames that have left the first picture
  and not yet reached the last one.
* `FadeFinder` -- fades can be long and slow (a 4-second fade over a freeze frame changes each frame
  by less than sensor noise in a moving shot), so they are found from the mean luma instead: a run
  of frames whose brightness moves steadily in one direction and ends (or starts) at black or white.

Ranges are `[first, last]` inclusive frame numbers of the frames that belong to the transition.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Gradual:
    first: int
    last: int
    kind: str  # dissolve | fade_in | fade_out | dip (fade out, a short black/white slug, fade in)
    confidence: float

    @property
    def middle(self) -> int:
        return (self.first + self.last + 1) // 2


def mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two int16 pictures (the measure ContentDetector uses per channel)."""
    return float(np.abs(a - b).mean())


class Scores(list):
    """ContentDetector's score of each frame against the one before, as a list, that also answers the
    two questions every dissolve window asks -- the sum of a run of scores, and whether a score in it
    reaches the cut threshold -- without walking the run (six windows per frame, up to 48 frames each)."""

    def __init__(self, cut_threshold: float):
        super().__init__()
        self.cut_threshold = cut_threshold
        self._csum = [0.0]  # _csum[i] = sum(self[:i])
        self._cuts: list[int] = []  # frames whose score reaches cut_threshold, ascending

    def append(self, score: float) -> None:
        super().append(score)
        self._csum.append(self._csum[-1] + score)
        if score >= self.cut_threshold:
            self._cuts.append(len(self) - 1)

    def total(self, a: int, b: int) -> float:
        """sum(self[a:b])"""
        return self._csum[b] - self._csum[a]

    def has_cut(self, a: int, b: int) -> bool:
        """Whether any of self[a:b] reaches the cut threshold."""
        i = bisect_left(self._cuts, a)
        return i < len(self._cuts) and self._cuts[i] < b


class DissolveFinder:
    """Finds cross-dissolves in a stream of per-frame pictures and scores.

    `frame(i)` returns the int16 BGR and HSV pictures of frame i (the caller's buffer, at half the
    detection size: the blend test needs no detail) and the deviation of that HSV picture's V
    channel (its contrast, computed once per frame), and `scores` is ContentDetector's score of each
    frame against the one before (`Scores`, which the caller appends to, with `cut_threshold` = threshold).
    """

    def __init__(self, settings, frame: Callable[[int], tuple[np.ndarray, np.ndarray, float]], scores: Scores):
        self.s = settings
        self.frame = frame
        self.scores = scores
        hmax = max(2, settings.dissolve_max_frames // 2)
        hmin = max(2, settings.dissolve_min_frames // 2)
        self.halves = list(range(hmin, hmax + 1, max(1, (hmax - hmin) // 5 or 1)))
        self.hmax = self.halves[-1]
        self.region: list[int] | None = None  # [first window start, last window end]
        self.best = 1.0  # best blend error ratio seen in the open region
        self.found: list[Gradual] = []

    @property
    def lookahead(self) -> int:
        return self.hmax

    @property
    def open_from(self) -> int | None:
        return self.region[0] if self.region else None

    def _window_passes(self, c: int, h: int) -> float | None:
        a, b = c - h, c + h
        if a < 0:
            return None
        if self.scores.total(a + 1, b + 1) < self.s.dissolve_threshold or self.scores.has_cut(a + 1, b + 1):
            return None  # a hard cut inside, or too little change to be a transition (triangle inequality)
        bgr_a, hsv_a, contrast_a = self.frame(a)
        bgr_b, hsv_b, contrast_b = self.frame(b)
        if mean_abs(hsv_a, hsv_b) < self.s.dissolve_threshold:
            return None
        if max(contrast_a, contrast_b) < self.s.min_contrast:
            return None  # uniform fields changing colour: nothing to dissolve
        ends = mean_abs(bgr_a, bgr_b)
        blend = (bgr_a + bgr_b) / 2.0
        ratio = float(np.abs(self.frame(c)[0] - blend).mean()) / max(ends, 1e-6)
        for q, w in ((a + h // 2, 0.75), (b - h // 2, 0.25)):  # quarter points follow the same blend
            mix = bgr_a * w + bgr_b * (1.0 - w)
            ratio = max(ratio, float(np.abs(self.frame(q)[0] - mix).mean()) / max(ends, 1e-6))
        return ratio if ratio <= self.s.blend_ratio else None

    def push(self, c: int) -> list[Gradual]:
        """Examine windows centred on frame c (frames up to c + lookahead must be available)."""
        hits = [(h, r) for h in self.halves if (r := self._window_passes(c, h)) is not None]
        out: list[Gradual] = []
        if hits:
            lo = min(c - h for h, _ in hits)
            hi = max(c + h for h, _ in hits)
            if self.region and lo <= self.region[1]:
                self.region = [min(self.region[0], lo), max(self.region[1], hi)]
            else:
                out += self.close()
                self.region = [lo, hi]
            self.best = min(self.best, min(r for _, r in hits))
            if self.region[1] - self.region[0] > 3 * self.hmax:
                self.region, self.best = None, 1.0  # sustained blend-like change: lighting drift, not a transition
        elif self.region and c - self.hmax > self.region[1]:
            out += self.close()
        return out

    def close(self) -> list[Gradual]:
        if not self.region:
            return []
        p, q = self.region
        self.region = None
        best, self.best = self.best, 1.0
        hsv_p = self.frame(p)[1]
        hsv_q = self.frame(q)[1]
        total = mean_abs(hsv_p, hsv_q)
        edge = self.s.dissolve_edge * total
        first = next((i for i in range(p + 1, q + 1) if mean_abs(self.frame(i)[1], hsv_p) >= edge), p + 1)
        last = next((i for i in range(q - 1, p - 1, -1) if mean_abs(self.frame(i)[1], hsv_q) >= edge), q - 1)
        if last < first:
            return []
        inside = self.scores[first : last + 1]
        k = max(2, self.s.dissolve_min_frames // 2)
        t = self.s.threshold
        if (
            max(self.scores[max(1, first - k) : first + 1], default=0.0) >= t
            and max(self.scores[last + 1 : last + 2 + k], default=0.0) >= t
        ):
            return []  # hard cuts right at both ends: a whole (evolving) shot, not a transition
        outside = self.scores[max(1, first - 1 - k) : max(1, first - 1)] + self.scores[last + 2 : last + 2 + k]
        if outside and float(np.median(outside)) > self.s.dissolve_rise * float(np.median(inside)):
            return []  # the picture changes as fast before and after: one evolving shot, not a transition
        confidence = 0.5 + 0.5 * min(1.0, max(0.0, 1.0 - best / self.s.blend_ratio))
        g = Gradual(first, last, "dissolve", round(confidence, 3))
        self.found.append(g)
        return [g]


class FadeFinder:
    """Fades found from each frame's mean luma: a steady one-way run that reaches black or white.

    Steps smaller than `fade_min_step` are tolerated inside a run, but more than `fade_min_frames` of
    them in a row end it (a freeze frame or a still shot is not part of a fade). The picture end of
    a fade must have some contrast (luma deviation >= min_contrast): a uniform field that
    brightens is not a shot fading.
    """

    def __init__(self, settings):
        self.s = settings
        self.run: list[tuple[int, float, float]] | None = None  # (frame, luma, contrast) from the frame before
        self.sign = 0
        self.quiet = 0  # tolerated small steps since the last real one
        self.prev: tuple[int, float, float] | None = None
        self.found: list[Gradual] = []

    @property
    def open_from(self) -> int | None:
        return self.run[1][0] if self.run else None

    def push(self, i: int, luma: float, contrast: float, step_score: float) -> list[Gradual]:
        """Frame i with mean luma and luma deviation (0-255); `step_score` is its content score."""
        out: list[Gradual] = []
        prev, self.prev = self.prev, (i, luma, contrast)
        if prev is None:
            return out
        d = luma - prev[1]
        sign = 1 if d > 0 else -1
        cut = step_score >= self.s.threshold and abs(d) > self.s.fade_max_step
        real = abs(d) >= self.s.fade_min_step
        if self.run is not None and not cut and (sign == self.sign or not real):
            self.run.append(self.prev)
            self.quiet = 0 if real else self.quiet + 1
            if self.quiet <= self.s.fade_min_frames:
                return out
        out += self.close()
        if not cut and real:
            self.run, self.sign, self.quiet = [prev, self.prev], sign, 0
        return out

    def close(self) -> list[Gradual]:
        if self.run is None:
            return []
        run, quiet, self.run, self.quiet = self.run, self.quiet, None, 0
        if quiet:
            run = run[:-quiet]  # drop the trailing still frames
        s = self.s
        (_, l0, c0), (_, l1, c1) = run[0], run[-1]
        lo, hi = min(l0, l1), max(l0, l1)
        darkening = l1 < l0
        dark, bright = lo <= s.black_level, hi >= s.white_level
        to_extreme = darkening == dark  # fade out (to black, or brightening to white)
        picture_contrast, extreme_contrast = (c0, c1) if to_extreme else (c1, c0)
        frames = run[1:]
        if (
            len(frames) < s.fade_min_frames
            or hi - lo < s.fade_min_change
            or not (dark or bright)
            or picture_contrast < s.min_contrast
            or extreme_contrast >= s.min_contrast
        ):
            return []  # a fade joins a picture and a (near) uniform black or white frame
        extreme = lo if dark else hi
        at_extreme = [abs(v - extreme) <= s.fade_floor for _, v, _ in frames]
        first, last = 0, len(frames) - 1
        if to_extreme:
            while last > first and at_extreme[last]:
                last -= 1
        else:
            while first < last and at_extreme[first]:
                first += 1
        kind = "fade_out" if to_extreme else "fade_in"
        steadiness = min(1.0, (hi - lo) / (2.0 * s.fade_min_change))
        g = Gradual(frames[first][0], frames[last][0], kind, round(0.5 + 0.5 * steadiness, 3))
        self.found.append(g)
        return [g]
