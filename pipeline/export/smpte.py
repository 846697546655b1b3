"""Timecode at rates SMPTE has none for (10 fps, 26.777 phone video), inside OTIO's adapters.

The cmx_3600, fcp_xml and ale adapters call OTIO's `to_timecode`, which raises "SMPTE timecode does not
support this rate", so one such clip made a whole EDL, ALE or FCP 7 XML export fail with a traceback. For the
duration of one write, `smpte_fallback(adapter)` gives the adapter module an `opentime` whose
`to_timecode` falls back to `pipeline.timecode.frames_to_tc` (frames counted at the nearest whole rate,
the way NLEs display them); every other rate gets OTIO's own answer. A lock keeps two writes apart.
"""

from __future__ import annotations

import threading
import types
from contextlib import contextmanager

import opentimelineio as otio

from pipeline.timecode import exact_rate, frames_to_tc

_ONE_WRITE = threading.Lock()


def _to_timecode(rt, rate=None, drop_frame=None):
    rate = rt.rate if rate is None else rate
    try:
        return otio.opentime.to_timecode(rt, rate, drop_frame)
    except ValueError:  # not a SMPTE rate
        return frames_to_tc(round(rt.value_rescaled_to(rate)), exact_rate(rate), bool(drop_frame))


@contextmanager
def smpte_fallback(adapter: str):
    module = otio.adapters.from_name(adapter).module()
    opentime = types.SimpleNamespace(**{**vars(otio.opentime), "to_timecode": _to_timecode})
    # cmx_3600 and fcp_xml import `opentime`; ale imports the package as `otio`
    name, value = ("opentime", opentime) if hasattr(module, "opentime") else ("otio", _package(opentime))
    with _ONE_WRITE:
        saved = getattr(module, name)
        setattr(module, name, value)
        try:
            yield
        finally:
            setattr(module, name, saved)


def _package(opentime) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{**vars(otio), "opentime": opentime})
