"""FCP 7 XML (xmeml) for Premiere and Resolve, through otio-fcp-adapter 1.0, with what it gets wrong fixed.

- Rates SMPTE has no timecode for (10 fps, 26.777 phone video) made the whole export fail: see
  `pipeline.export.smpte`.
- Markers: a <marker> inside a <clipitem> counts frames from the first frame of its media; the adapter
  writes OTIO's marked range (source timecode frames), which puts every marker hours outside its clip.
- Paths: Premiere writes and expects `file://localhost/...`; the adapter writes `file:///...`.
Drop-frame display and the sequence's timecode come from the metadata `timeline.build_timeline` sets.
"""

from __future__ import annotations

import re
from fractions import Fraction

import opentimelineio as otio

from pipeline.export.smpte import smpte_fallback


def clip_relative_markers(tl: otio.schema.Timeline) -> otio.schema.Timeline:
    """A copy of `tl` whose clip markers count frames from the first frame of the clip's media."""
    tl = tl.deepcopy()
    for clip in tl.find_clips():
        ref = clip.media_reference
        first = ref.available_range.start_time if ref and ref.available_range else None
        for m in clip.markers:
            if first is not None:
                start = m.marked_range.start_time - first
                m.marked_range = otio.opentime.TimeRange(start, m.marked_range.duration)
    return tl


def write(tl: otio.schema.Timeline, rate: Fraction | None = None) -> str:
    with smpte_fallback("fcp_xml"):
        xml = otio.adapters.write_to_string(clip_relative_markers(tl), "fcp_xml")
    return re.sub(r"<pathurl>file:///", "<pathurl>file://localhost/", xml)
