"""Representative frames per shot, chosen while the frames stream by (no second decode).

`KeyframeCollector` keeps, for the shot still open, every frame of the last `recent` frames plus a
thinned sample of older ones (the sample halves whenever it grows past `cap`), so memory stays
bounded however long the shot. When a cut closes a shot, `keyframe_targets` says which frames
to keep: one per `seconds_per_keyframe` of the shot (at least one, at most `max_per_shot`), each at
the centre of its part of the shot, and the nearest kept frame is used.
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.config import KeyframeSettings


@dataclass
class Keyframe:
    frame: int
    time: float
    image: np.ndarray  # BGR


def keyframe_targets(start: int, end: int, fps: float, settings: KeyframeSettings) -> list[int]:
    """Frame numbers to represent frames start..end (inclusive)."""
    length = end - start + 1
    seconds = length / fps
    count = max(1, min(settings.max_per_shot, math.ceil(seconds / settings.seconds_per_keyframe - 1e-9)))
    count = min(count, length)
    return sorted({start + int((i + 0.5) * length / count) for i in range(count)})


class KeyframeCollector:
    def __init__(self, fps: float, settings: KeyframeSettings, recent: int = 96, cap: int = 64):
        self.fps = fps
        self.settings = settings
        self.cap = cap
        self.recent: collections.deque = collections.deque(maxlen=recent)  # Frames
        self.sample: list = []
        self.stride = 1
        self.shot_start = 0
        self.last = -1
        self.done: list[tuple[int, int, list[Keyframe]]] = []  # (start, end, keyframes)

    def add(self, frame) -> None:
        """Keep `frame` (a pipeline.media.frames.Frame: index, time, image) as a candidate."""
        kf, index = frame, frame.index
        self.recent.append(kf)
        if (index - self.shot_start) % self.stride == 0:
            self.sample.append(kf)
            if len(self.sample) > self.cap:
                self.sample = self.sample[::2]
                self.stride *= 2
        self.last = index

    def cut(self, at: int) -> None:
        """Frame `at` starts a new shot: choose the keyframes of the shot that ends at `at - 1`."""
        if at <= self.shot_start:
            return
        self._close(self.shot_start, at - 1)
        self.sample = [kf for kf in self.recent if kf.index >= at]
        self.stride = 1
        self.shot_start = at

    def finish(self) -> list[tuple[int, int, list[Keyframe]]]:
        if self.last >= self.shot_start:
            self._close(self.shot_start, self.last)
        self.sample, self.recent = [], collections.deque()
        return self.done

    def _close(self, start: int, end: int) -> None:
        pool = {kf.index: kf for kf in self.sample if start <= kf.index <= end}
        pool.update({kf.index: kf for kf in self.recent if start <= kf.index <= end})
        if not pool:
            raise RuntimeError(f"no frame kept for shot {start}-{end}: keyframe buffer too small for detector lag")
        frames = sorted(pool)
        chosen = []
        for target in keyframe_targets(start, end, self.fps, self.settings):
            best = min(frames, key=lambda f: abs(f - target))
            if best not in chosen:
                chosen.append(best)
        self.done.append((start, end, [Keyframe(f, pool[f].time, pool[f].image) for f in sorted(chosen)]))


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def write_thumbnails(root, rel_dir: str, keyframes: dict[int, list[Keyframe]], quality: int) -> dict[int, list[tuple]]:
    """Runner side: write each keyframe as a JPEG under `root/rel_dir` (temp name, then rename).

    Returns {shot index: [(frame, time, relative path), ...]} for the catalog.
    """
    import os
    from pathlib import Path

    folder = Path(root) / rel_dir
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[int, list[tuple]] = {}
    for shot, kfs in keyframes.items():
        rows = []
        for kf in kfs:
            rel = f"{rel_dir}/{kf.frame:07d}.jpg"
            tmp = folder / f".{kf.frame:07d}.jpg.tmp"
            try:
                tmp.write_bytes(encode_jpeg(kf.image, quality))
            except OSError:
                tmp.unlink(missing_ok=True)  # a full disk leaves no half JPEG behind
                raise
            os.replace(tmp, Path(root) / rel)
            rows.append((kf.frame, kf.time, rel))
        out[shot] = rows
    return out
