"""Reading FCPXML back through otio-fcpx-xml-adapter 1.0 at exact NTSC rates.

The adapter's reader turns a format's frameDuration into a rate with `int(...)` (1001/24000s -> 23 fps,
1001/30000s -> 29 fps) and every time into frames with `int(seconds * fps)`, so at 23.976 and 29.97
every source range it reads is wrong. Its writer is exact (times are whole frames as fractions of a
second; `formats._fill_frame_duration` fills the one field it leaves empty). `exact_rates()` swaps, for
the duration of one read, the reader's three time helpers for exact ones (the rate from frameDuration
as a fraction; frames rounded from exact fractions); nothing else of the adapter changes, and at
integer rates the result is the same as the adapter's own. Used by `pipeline.export.read_back` only
(a relink check); a lock keeps two reads from swapping the helpers under each other.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from fractions import Fraction

import opentimelineio as otio

from pipeline.timecode import exact_rate


def _seconds(value: str | None) -> Fraction:
    if value in (None, "0s"):
        return Fraction(0)
    return Fraction(value.removesuffix("s"))


def _to_rational_time(rational_number, fps):
    rate = exact_rate(fps)  # the exact rate behind the adapter's float (23.976023976... -> 24000/1001)
    return otio.opentime.RationalTime(round(_seconds(rational_number) * rate), float(rate))


def _frame_duration(self, format_id) -> Fraction:
    """The format's frame duration; a format without one (stills, audio-only media: FCP writes none, and the
    adapter divided by zero) counts frames at the first format of the file that has one."""
    duration = _seconds(self._format_by_id(format_id).get("frameDuration"))
    if duration:
        return duration
    durations = [_seconds(f.get("frameDuration")) for f in self.fcpx_xml.findall("./resources/format")]
    duration = next((d for d in durations if d), Fraction(0))
    if not duration:
        raise ValueError(f"no <format> of the file has a frameDuration (format {format_id!r} has none)")
    return duration


def _format_frame_rate(self, format_id):
    return float(1 / _frame_duration(self, format_id))


def _number_of_frames(self, time_value, format_id):
    return round(_seconds(time_value) / _frame_duration(self, format_id))


_ONE_READ = threading.Lock()


@contextmanager
def exact_rates():
    module = otio.adapters.from_name("fcpx_xml").module()
    reader = module.FcpxXml
    with _ONE_READ:
        saved = (module.to_rational_time, reader._format_frame_rate, reader._number_of_frames)
        module.to_rational_time = _to_rational_time
        reader._format_frame_rate = _format_frame_rate
        reader._number_of_frames = _number_of_frames
        try:
            yield
        finally:
            module.to_rational_time, reader._format_frame_rate, reader._number_of_frames = saved
