"""Frame.small: the detection picture made from the I420 analysis frame equals reducing each plane on its
own and converting (the rule `Frame.image` uses), whichever path it takes for a size."""

import cv2
import numpy as np
import pytest

from pipeline.media.frames import Frame


def reference(yuv: np.ndarray, w: int, h: int, factor: int) -> np.ndarray:
    sw, sh = w // factor, h // factor
    y = cv2.resize(yuv[:h], (sw, sh), interpolation=cv2.INTER_AREA)
    u, v = (cv2.resize(c, (sw // 2, sh // 2), interpolation=cv2.INTER_AREA) for c in yuv[h:].reshape(2, h // 2, w // 2))
    return cv2.cvtColor(
        np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(sh * 3 // 2, sw), cv2.COLOR_YUV2BGR_I420
    )


@pytest.mark.parametrize(
    "w,h,factor",
    [
        (456, 256, 4),
        (640, 360, 5),
        (456, 250, 4),
        (458, 256, 4),
        (256, 144, 2),
        (340, 256, 4),
        (456, 256, 3),
        (114, 64, 1),
    ],
)
def test_small_matches_plane_by_plane_reduction(w, h, factor):
    yuv = np.random.default_rng(w * h + factor).integers(0, 256, (h * 3 // 2, w), dtype=np.uint8)
    frame = Frame(0, 0.0, yuv=yuv, size=(w, h))
    small = frame.small(factor)
    sw, sh = w // max(1, factor), h // max(1, factor)
    assert small.shape == (sh, sw, 3)
    if factor <= 1:
        assert np.array_equal(small, frame.image)
    elif sw % 2 or sh % 2:  # an odd small size cannot be I420: reduced from the BGR picture
        assert np.array_equal(small, cv2.resize(frame.image, (sw, sh), interpolation=cv2.INTER_AREA))
    else:
        assert np.array_equal(small, reference(yuv, w, h, factor))
