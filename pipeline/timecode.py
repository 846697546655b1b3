"""SMPTE timecode through OpenTimelineIO's RationalTime.

Frame numbers are 0-based in decoded order; a timecode is `start + frame` counted at the clip's
timecode rate. Rates SMPTE has no timecode for (10 fps surveillance, 26.777 phone video, VFR
averages) count frames at the nearest whole rate (non-drop) -- the way NLEs display them.
"""

from __future__ import annotations

import re
from fractions import Fraction

import opentimelineio as otio

_DROP_FRAME_RATES = (Fraction(30000, 1001), Fraction(60000, 1001))
_NTSC_RATES = (Fraction(24000, 1001), *_DROP_FRAME_RATES)


def _otio_rate(rate: Fraction | float) -> float:
    return float(rate)


def _near(rate: Fraction | float, exact: Fraction) -> bool:
    return abs(float(rate) - float(exact)) < 1e-3


def is_drop_frame_rate(rate: Fraction) -> bool:
    return any(_near(rate, r) for r in _DROP_FRAME_RATES)


def exact_rate(value: str | float | Fraction) -> Fraction:
    """The exact rate a written or float rate means: 23.976, 29.97, 59.94 (or 23.976023976...) are the
    NTSC rates 24000/1001, 30000/1001, 60000/1001; any other rate as given ("25", "30000/1001").
    ValueError when `value` is not a number."""
    rate = Fraction(value)
    return next((r for r in _NTSC_RATES if _near(rate, r)), rate.limit_denominator(1001))


def _nominal(rate: Fraction | float) -> int:
    return max(1, round(float(rate)))


def frames_to_tc(frames: int, rate: Fraction | float, drop_frame: bool = False) -> str:
    """Timecode string of an absolute frame count (start timecode already added)."""
    if frames < 0:
        raise ValueError(f"negative frame count {frames}")
    r = _otio_rate(rate)
    try:
        return otio.opentime.RationalTime(frames, r).to_timecode(
            r, bool(drop_frame) and is_drop_frame_rate(Fraction(rate))
        )
    except ValueError:
        n = _nominal(rate)
        ff = frames % n
        secs = frames // n
        return f"{secs // 3600 % 24:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}:{ff:02d}"


_TC = re.compile(r"^(\d{1,2})[:.](\d{1,2})[:.](\d{1,2})([:;,.])(\d{1,3})$")


def tc_to_frames(tc: str, rate: Fraction | float) -> int:
    """Absolute frame count of a timecode string (';' or ',' before frames means drop-frame).

    Strict: minutes and seconds under 60, frames under the rate, no sign, and no drop-frame label
    that drop-frame counting skips (00:01:00;00 at 29.97) -- a ValueError says which rule failed."""
    m = _TC.match(tc.strip()) if isinstance(tc, str) else None
    if not m:
        raise ValueError(f"not a timecode: {tc!r} (expected HH:MM:SS:FF)")
    h, mi, s, f = (int(m[i]) for i in (1, 2, 3, 5))
    n = _nominal(rate)
    if f >= n or mi > 59 or s > 59:
        raise ValueError(f"timecode {tc!r} is out of range at {float(rate):.3f} fps")
    drop = m[4] in ";,"
    if drop and is_drop_frame_rate(Fraction(rate)) and s == 0 and mi % 10 and f < 2 * n // 30:
        raise ValueError(
            f"timecode {tc!r} does not exist in drop-frame counting (frames 00-{2 * n // 30 - 1:02d} "
            f"are skipped at the start of each minute but every tenth)"
        )
    r = _otio_rate(rate)
    try:
        return int(
            round(otio.opentime.from_timecode(f"{h:02d}:{mi:02d}:{s:02d}{';' if drop else ':'}{f:02d}", r).value)
        )
    except ValueError:
        return ((h * 60 + mi) * 60 + s) * n + f


def frame_tc(frame: int, rate: Fraction, start_tc: str | None = None, drop_frame: bool | None = None) -> str:
    """Timecode of a 0-based clip frame, offset by the clip's start timecode when it has one."""
    if drop_frame is None:
        drop_frame = bool(start_tc and ";" in start_tc)
    start = tc_to_frames(start_tc, rate) if start_tc else 0
    return frames_to_tc(start + frame, rate, drop_frame)
