"""Property-based tests (hypothesis) for pipeline/timecode.py at the rates productions shoot."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from pipeline.timecode import frame_tc, frames_to_tc, tc_to_frames

# (rate, drop_frame, nominal frames per second)
RATES = [
    (Fraction(24000, 1001), False, 24),
    (Fraction(24), False, 24),
    (Fraction(25), False, 25),
    (Fraction(30000, 1001), True, 30),
    (Fraction(50), False, 50),
    (Fraction(60000, 1001), True, 60),
]
IDS = ["23.976", "24", "25", "29.97DF", "50", "59.94DF"]
TC = re.compile(r"^(\d\d):([0-5]\d):([0-5]\d)([:;])(\d\d)$")
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def day(nominal: int, drop: bool) -> int:
    """Frames in 24 hours of timecode at this rate."""
    if drop:
        dropped = 2 * nominal // 30  # 2 labels per minute at 29.97, 4 at 59.94, except every tenth minute
        return 24 * (60 * 60 * nominal - dropped * 54)
    return 24 * 60 * 60 * nominal


@pytest.mark.parametrize("rate,drop,nominal", RATES, ids=IDS)
@FAST
@given(data=st.data())
def test_frames_round_trip_through_timecode(rate, drop, nominal, data):
    n = data.draw(
        st.one_of(
            st.integers(0, day(nominal, drop) - 1),
            st.sampled_from([0, 1, nominal - 1, nominal, 60 * nominal - 1, 60 * nominal, day(nominal, drop) - 1]),
        )
    )
    tc = frames_to_tc(n, rate, drop)
    m = TC.match(tc)
    assert m, tc
    hh, mm, ss, sep, ff = int(m[1]), int(m[2]), int(m[3]), m[4], int(m[5])
    assert hh < 24 and ff < nominal
    assert (sep == ";") == drop
    if drop and ss == 0 and mm % 10:  # drop-frame skips the first labels of each minute but every tenth
        assert ff >= 2 * nominal // 30, tc
    assert tc_to_frames(tc, rate) == n


@pytest.mark.parametrize("rate,drop,nominal", RATES, ids=IDS)
@FAST
@given(h=st.integers(0, 23), m=st.integers(0, 59), s=st.integers(0, 59), f=st.integers(0, 59))
def test_timecode_labels_round_trip(rate, drop, nominal, h, m, s, f):
    assume(f < nominal)
    assume(not (drop and s == 0 and m % 10 and f < 2 * nominal // 30))  # labels drop-frame never uses
    tc = f"{h:02d}:{m:02d}:{s:02d}{';' if drop else ':'}{f:02d}"
    assert frames_to_tc(tc_to_frames(tc, rate), rate, drop) == tc


@pytest.mark.parametrize("rate,drop,nominal", RATES, ids=IDS)
@FAST
@given(n=st.integers(0, 10**6), start=st.integers(0, 10**6))
def test_clip_frames_count_on_from_the_start_timecode(rate, drop, nominal, n, start):
    assume(n + start < day(nominal, drop))
    start_tc = frames_to_tc(start, rate, drop)
    assert tc_to_frames(frame_tc(n, rate, start_tc), rate) == start + n
    if n:
        assert tc_to_frames(frame_tc(n, rate, start_tc), rate) > tc_to_frames(frame_tc(n - 1, rate, start_tc), rate)


@pytest.mark.parametrize("rate,drop,nominal", RATES, ids=IDS)
@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="0123456789:;.,- ab", max_size=14))
@example(text="")
@example(text="99:99:99:99")
@example(text="01:00:00:24")
@example(text="-1:00:00:00")
def test_parsing_garbage_is_a_value_error_or_a_frame(rate, drop, nominal, text):
    """Timecode strings come from camera metadata and edit lists: anything malformed is a ValueError."""
    try:
        n = tc_to_frames(text, rate)
    except ValueError:
        return
    assert isinstance(n, int) and n >= 0, (text, n)
