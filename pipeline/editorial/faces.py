"""Faces in a frame with OpenCV's frontal-face Haar cascade.

OpenCV 4 ships the cascade files (cv2.data.haarcascades) and `cv2.CascadeClassifier`; the OpenCV 5
wheels in our environment ship neither. So: when `cv2.CascadeClassifier` exists it is used; otherwise
the same cascade XML (Debian's `opencv-data`: /usr/share/opencv4/haarcascades) is evaluated here with
numpy, the way OpenCV's HaarEvaluator does it (integral images, variance-normalised stump features,
staged rejection, neighbour grouping). No cascade file: `FaceDetectorUnavailable` says what to install.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.config import env
from pipeline.errors import DailiesError

CASCADE = "haarcascade_frontalface_default.xml"
SEARCH = [
    getattr(getattr(cv2, "data", None), "haarcascades", ""),
    "/usr/share/opencv4/haarcascades",
    "/usr/share/opencv/haarcascades",
]


class FaceDetectorUnavailable(DailiesError):
    """No Haar cascade file on this machine."""


def cascade_path() -> Path:
    for d in [env("DAILIES_HAARCASCADES")] + SEARCH:
        if d and (Path(d) / CASCADE).is_file():
            return Path(d) / CASCADE
    raise FaceDetectorUnavailable(
        f"no {CASCADE} found (looked in {', '.join(d for d in SEARCH if d)}); install "
        f"Debian's opencv-data (`apt-get install opencv-data`, scripts/setup.sh does) or set "
        f"DAILIES_HAARCASCADES to a folder holding it"
    )


@dataclass
class Cascade:
    width: int
    height: int
    stages: list  # [(threshold, [(feature index, threshold, left, right), ...])]
    features: list  # [[(x, y, w, h, weight), ...]]


@functools.lru_cache(maxsize=2)
def load_cascade(path: str) -> Cascade:
    root = ET.parse(path).getroot().find("cascade")
    if root is None or root.findtext("featureType", "").strip() != "HAAR":
        raise FaceDetectorUnavailable(f"{path}: not a HAAR cascade in OpenCV's current XML format")

    def child(el: ET.Element, tag: str) -> ET.Element:
        found = el.find(tag)
        if found is None:
            raise FaceDetectorUnavailable(f"{path}: <{el.tag}> has no <{tag}>; the cascade file is damaged")
        return found

    def text(el: ET.Element, tag: str) -> str:
        return child(el, tag).text or ""

    stages = []
    for st in child(root, "stages"):
        weak = []
        for wc in child(st, "weakClassifiers"):
            nodes = text(wc, "internalNodes").split()
            leaves = [float(v) for v in text(wc, "leafValues").split()]
            if len(nodes) != 4 or len(leaves) != 2:
                raise FaceDetectorUnavailable(f"{path}: only stump classifiers are supported")
            weak.append((int(nodes[2]), float(nodes[3]), leaves[0], leaves[1]))
        stages.append((float(text(st, "stageThreshold")), weak))
    features = []
    for f in child(root, "features"):
        if (f.findtext("tilted") or "0").strip() == "1":
            raise FaceDetectorUnavailable(f"{path}: tilted features are not supported")
        rects = []
        for r in child(f, "rects"):
            x, y, w, h, wt = (r.text or "").split()
            rects.append((int(x), int(y), int(w), int(h), float(wt)))
        features.append(rects)
    return Cascade(int(text(root, "width")), int(text(root, "height")), stages, features)


def _passing_windows(
    scaled: list[np.ndarray], c: Cascade, steps: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scale index, x, y) of the windows that pass every stage, over all scaled images at once: the
    integral images are concatenated, so each weak classifier is one vectorised step for every scale."""
    sums: list[np.ndarray] = []
    sqs: list[np.ndarray] = []
    bases: list[np.ndarray] = []  # per scale: where each window starts in the concatenated tables
    strides: list[np.ndarray] = []
    scale_of: list[np.ndarray] = []
    offset = 0
    for i, (grey, step) in enumerate(zip(scaled, steps, strict=True)):
        h, w = grey.shape
        s, sq = cv2.integral2(grey, sdepth=cv2.CV_64F, sqdepth=cv2.CV_64F)
        ys, xs = np.mgrid[0 : h - c.height : step, 0 : w - c.width : step]
        bases.append(offset + (ys * (w + 1) + xs).ravel())
        strides.append(np.full(ys.size, w + 1))
        scale_of.append(np.full(ys.size, i))
        sums.append(s.ravel())
        sqs.append(sq.ravel())
        offset += s.size
    s, sq = np.concatenate(sums), np.concatenate(sqs)
    base, stride, which = np.concatenate(bases), np.concatenate(strides), np.concatenate(scale_of)

    def box(table, x, y, bw, bh):
        a = base + y * stride + x
        down = bh * stride
        return table[a + down + bw] - table[a + bw] - table[a + down] + table[a]

    # variance normalisation over the window without its 1-pixel border (as OpenCV's normrect)
    nw, nh = c.width - 2, c.height - 2
    nf = nw * nh * box(sq, 1, 1, nw, nh) - box(s, 1, 1, nw, nh) ** 2
    inv = 1.0 / np.where(nf > 0, np.sqrt(np.maximum(nf, 0)), 1.0)
    # as OpenCV's HaarEvaluator::setWindow: a window too flat to hold a face (luma std <= 10) is skipped
    textured = (nf > 0) & (nw * nh * inv < 0.1)
    base, stride, which, inv = base[textured], stride[textured], which[textured], inv[textured]
    for threshold, weak in c.stages:
        total = np.zeros(len(base))
        for fi, thr, left, right in weak:
            val = sum(wt * box(s, x, y, bw, bh) for x, y, bw, bh, wt in c.features[fi])
            total += np.where(val * inv < thr, left, right)
        keep = total >= threshold
        base, stride, which, inv = base[keep], stride[keep], which[keep], inv[keep]
        if not len(base):
            break
    starts = np.cumsum([0] + [g.size + g.shape[0] + g.shape[1] + 1 for g in scaled])[:-1]
    local = base - starts[which]
    return which, local % stride, local // stride


def group_rectangles(rects: list[tuple[int, int, int, int]], min_neighbors: int, eps: float = 0.2) -> list[tuple]:
    """OpenCV's groupRectangles: cluster similar rectangles, keep clusters with more than `min_neighbors`."""
    labels = list(range(len(rects)))

    def similar(a, b):
        delta = eps * (min(a[2], b[2]) + min(a[3], b[3])) * 0.5
        return (
            abs(a[0] - b[0]) <= delta
            and abs(a[1] - b[1]) <= delta
            and abs(a[0] + a[2] - b[0] - b[2]) <= delta
            and abs(a[1] + a[3] - b[1] - b[3]) <= delta
        )

    def find(i):
        while labels[i] != i:
            labels[i] = labels[labels[i]]
            i = labels[i]
        return i

    for i in range(len(rects)):
        for j in range(i + 1, len(rects)):
            if similar(rects[i], rects[j]):
                labels[find(i)] = find(j)
    clusters: dict[int, list] = {}
    for i, r in enumerate(rects):
        clusters.setdefault(find(i), []).append(r)
    return [tuple(int(round(v)) for v in np.mean(c, axis=0)) for c in clusters.values() if len(c) > min_neighbors]


def detect_faces(
    image: np.ndarray, min_size: int = 24, scale_factor: float = 1.2, min_neighbors: int = 4
) -> list[tuple]:
    """Face boxes (x, y, w, h) in a BGR or grey image."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    path = str(cascade_path())
    if hasattr(cv2, "CascadeClassifier"):
        found = cv2.CascadeClassifier(path).detectMultiScale(
            grey, scale_factor, min_neighbors, minSize=(min_size, min_size)
        )
        return [tuple(int(v) for v in r) for r in found]
    c = load_cascade(path)
    factors, scaled = [], []
    factor = max(1.0, min_size / c.width)
    while grey.shape[1] / factor > c.width + 1 and grey.shape[0] / factor > c.height + 1:
        size = (int(round(grey.shape[1] / factor)), int(round(grey.shape[0] / factor)))
        scaled.append(cv2.resize(grey, size, interpolation=cv2.INTER_LINEAR))
        factors.append(factor)
        factor *= scale_factor
    if not scaled:
        return []
    which, xs, ys = _passing_windows(scaled, c, [1 if f > 2 else 2 for f in factors])
    f = np.array(factors)[which]
    rects = [(x * k, y * k, c.width * k, c.height * k) for x, y, k in zip(xs, ys, f, strict=True)]
    return group_rectangles(rects, min_neighbors)
