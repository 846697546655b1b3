"""Writers: OTIO timeline -> bytes, through OpenTimelineIO's adapters.

Timecodes past 23:59:59:FF: a clip that starts just before midnight (23:59:59:29) ends after it. The
cmx_3600 and ale adapters write the wrapped out point (00:00:00:xx), which they cannot read back (out <
in); we write such out points unwrapped (24:00:00:xx), which OTIO reads frame-exactly.
"""

from __future__ import annotations

import html
import re
from fractions import Fraction
from pathlib import PurePath
from urllib.parse import unquote, urlparse
from xml.etree import ElementTree

import opentimelineio as otio

from pipeline.export.smpte import smpte_fallback
from pipeline.export.timeline import ALE_COLUMNS, edl_reel, file_url, single_rate
from pipeline.timecode import exact_rate, frames_to_tc, is_drop_frame_rate, tc_to_frames

_TC = r"(\d\d:\d\d:\d\d[:;]\d\d)"
_EVENT_TCS = re.compile(rf"{_TC}\s+{_TC}\s+{_TC}\s+{_TC}\s*$")
_EDL_AV = {1: "B    ", 2: "AA/V "}  # CMX 3600 channels: B = A1 and V; AA/V = A1, A2 and V


def unwrap_tc(in_tc: str, out_tc: str, rate: float) -> str:
    """`out_tc` as hours >= 24 when it wrapped past midnight relative to `in_tc`, else unchanged."""
    a, b = tc_to_frames(in_tc, rate), tc_to_frames(out_tc, rate)
    if b >= a:
        return out_tc
    hh, rest = out_tc.split(":", 1)
    return f"{int(hh) + 24:02d}:{rest}"


def _items(tl):
    return [c for c in tl.find_clips()]


def write_otio(tl, items) -> bytes:
    return otio.adapters.write_to_string(tl, "otio_json").encode()


def write_edl(tl, items) -> bytes:
    """CMX 3600 (or Avid's File32/File128 layout: `[export] edl_format`) through OTIO's cmx_3600 adapter
    (style avid), with what the adapter leaves out: the FCM line,
    the record timecode from the timeline's start (the adapter starts at 00:00:00:00), each event's
    `* SOURCE FILE:` (the camera file's name, as Avid writes it; `tag import-edl` matches on it), and out
    points past midnight unwrapped. Reels are CMX 3600 reels (`timeline.edl_reel`)."""
    rate_q = single_rate(items, "EDL")
    rate = float(rate_q)
    drop = is_drop_frame_rate(rate_q)
    with smpte_fallback("cmx_3600"):
        text = otio.adapters.write_to_string(tl, "cmx_3600", rate=rate, style="avid")
    offset = int(round(tl.global_start_time.value)) if tl.global_start_time else 0
    flavour = dict(tl.metadata.get("dailies_export", {})).get("edl_format", "cmx3600")
    reel_len = {"cmx3600": 8, "file32": 32, "file128": 128}[flavour]
    out, event = [], -1
    for line in text.splitlines():
        m = _EVENT_TCS.search(line)
        if m and line[:3].isdigit():
            event += 1
            src_out = unwrap_tc(m.group(1), m.group(2), rate)
            rec = [frames_to_tc(tc_to_frames(m.group(g), rate) + offset, rate_q, drop) for g in (3, 4)]
            line = f"{line[: m.start(1)]}{m.group(1)} {src_out} {rec[0]} {rec[1]}"
            if 0 <= event < len(items) and items[event].audio_channels:  # picture and the clip's own sound
                channels = _EDL_AV[min(items[event].audio_channels, 2)]
                line = re.sub(r"^(\d+\s+\S+\s+)V    ", r"\g<1>" + channels, line)
            if reel_len > 8 and 0 <= event < len(items):  # Avid File32/File128: 6-digit events, long reels
                number, _reel, rest = line.split(None, 2)
                line = f"{int(number):06d}  {edl_reel(items[event].tape, reel_len):<{reel_len}} {rest}"
        out.append(line)
        if line.startswith("* FROM CLIP:") and 0 <= event < len(items):
            out.append(f"* SOURCE FILE: {PurePath(items[event].path).name}")
        if line.startswith("TITLE:"):
            out.append(f"FCM: {'DROP FRAME' if drop else 'NON-DROP FRAME'}")
    return ("\n".join(out) + "\n").encode()


def write_ale(tl, items) -> bytes:
    """Avid Log Exchange through otio-ale-adapter: the columns of `timeline.ALE_COLUMNS`, AUDIO_FORMAT and
    a VIDEO_FORMAT from the frame size (the adapter's own mapping, from the Image Size column), FPS as Avid
    writes it, Source File as a path (the adapter writes the URL), out points past midnight unwrapped."""
    rate = float(single_rate(items, "ALE"))
    columns = ["Name", "Start", "End", "Duration", "Source File", *(name for name, _ in ALE_COLUMNS)]
    for c in _items(tl):
        for k in c.metadata["ALE"]:
            if k not in columns:
                columns.append(k)
    tl = tl.deepcopy()
    tl.metadata["ALE"] = {"header": {"AUDIO_FORMAT": "48khz"}}
    with smpte_fallback("ale"):
        text = otio.adapters.write_to_string(tl, "ale", columns=columns, fps=rate)
    # Avid writes FPS as 23.976 / 29.97 / 25, not the float's full digits
    lines = [f"FPS\t{rate:.3f}".rstrip("0").rstrip(".") if ln.startswith("FPS\t") else ln for ln in text.splitlines()]
    start_i, end_i, file_i = columns.index("Start"), columns.index("End"), columns.index("Source File")
    data = lines.index("Data") if "Data" in lines else len(lines)
    for i in range(data + 1, len(lines)):
        row = lines[i].split("\t")
        if len(row) > end_i and row[start_i] and row[end_i]:
            row[end_i] = unwrap_tc(row[start_i], row[end_i], rate)
        if len(row) > file_i and row[file_i].startswith("file:"):
            row[file_i] = url_path(row[file_i])
        lines[i] = "\t".join(row)
    return ("\n".join(lines) + "\n").encode()


def url_path(url: str) -> str:
    """The path of a file:// URL as the system writes it (/Volumes/A/x.mov, Z:/show/x.mov)."""
    path = unquote(urlparse(url).path)
    return path[1:] if re.match(r"^/[A-Za-z]:/", path) else path


def write_fcp_xml(tl, items) -> bytes:
    from pipeline.export import fcp7

    return fcp7.write(tl, [i.audio_channels for i in items]).encode()


def write_fcpx_xml(tl, items) -> bytes:
    rate = single_rate(items, "FCPXML (Final Cut Pro X)")
    xml = _fill_frame_duration(_fcpx_string(tl), rate)
    # the adapter sets no timecode format; the other adapters write 29.97/59.94 as drop-frame, so do we
    tc_format = "DF" if is_drop_frame_rate(rate) else "NDF"
    xml = re.sub(r"<(sequence|asset-clip)\b", lambda m: f'<{m.group(1)} tcFormat="{tc_format}"', xml)
    xml = _asset_audio(xml, {file_url(i.path): i.audio_channels for i in items})
    start = Fraction(int(round(tl.global_start_time.value)), 1) / rate if tl.global_start_time else Fraction(0)
    return _sequence_start(xml, start).encode()


def _fcpx_time(t: Fraction) -> str:
    return "0s" if t == 0 else f"{t.numerator}/{t.denominator}s"


def _sequence_start(xml: str, start: Fraction) -> str:
    """The sequence starts at the record start (`tcStart`, as Final Cut writes a project that starts at
    01:00:00:00), and the spine's clips sit from there (their offsets count in the sequence's time)."""
    if not start:
        return xml
    root = ElementTree.fromstring(xml)
    for seq in root.iter("sequence"):
        seq.set("tcStart", _fcpx_time(start))
        for item in seq.findall("./spine/*"):
            offset = item.get("offset")
            item.set("offset", _fcpx_time(Fraction(offset.removesuffix("s") if offset else 0) + start))
    ElementTree.indent(root, "    ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n' + ElementTree.tostring(root, "unicode") + "\n"


def _asset_audio(xml: str, channels: dict[str, int]) -> str:
    """The adapter writes every asset `hasAudio="0"`: an asset whose source has sound says so, with its
    channels (48 kHz, as cameras record), so Final Cut links the clip's own audio."""

    def fix(m: re.Match) -> str:
        tag = m.group(0)
        src = re.search(r'\bsrc="([^"]*)"', tag)
        n = channels.get(html.unescape(src.group(1))) if src else None
        if not n:
            return tag
        return tag.replace('hasAudio="0"', f'hasAudio="1" audioSources="1" audioChannels="{n}" audioRate="48000"')

    return re.sub(r"<asset\b[^>]*>", fix, xml)


def fcpx_format_name(width: int, height: int, rate: Fraction) -> str:
    """Final Cut Pro's name of a video format: FFVideoFormat1080p2398, FFVideoFormat3840x2160p25,
    FFVideoFormat720p5994; FFVideoFormatRateUndefined at a rate FCP has no preset for (10, 26.777)."""
    presets = {24000 / 1001: "2398", 24: "24", 25: "25", 30000 / 1001: "2997", 30: "30", 50: "50"}
    presets |= {60000 / 1001: "5994", 60: "60"}
    code = next((c for r, c in presets.items() if abs(float(rate) - r) < 1e-3), None)
    if code is None:
        return "FFVideoFormatRateUndefined"
    size = {(1920, 1080): "1080", (1280, 720): "720"}.get((width, height), f"{width}x{height}")
    return f"FFVideoFormat{size}p{code}"


def _fcpx_string(tl) -> str:
    """otio-fcpx-xml-adapter's writer, except for its <format> elements: named from the clip's frame size as
    the item gives it (`ExportItem.width/height`), where the adapter runs ffprobe on the source file (writing
    an export starts no process and reads no media) and writes a float rate into the name, and carrying
    width and height, which the adapter leaves out. No name without a frame size (as the adapter does for a
    file it cannot reach)."""
    from otio_fcpx_xml_adapter.fcpx_xml import FcpxOtio

    def size(clip):
        d = clip.metadata.get("dailies", {})
        return (d["width"], d["height"]) if d.get("width") and d.get("height") else None

    class Writer(FcpxOtio):
        def _clip_format_name(self, clip):
            if clip.schema_name() in ("Stack", "Track") or not clip.media_reference:
                return ""
            if clip.media_reference.is_missing_reference or not size(clip):
                return ""
            w, h = size(clip)
            return fcpx_format_name(w, h, exact_rate(clip.duration().rate))

        def _find_or_create_format_from(self, clip):
            element = super()._find_or_create_format_from(clip)
            if clip.schema_name() == "Clip" and size(clip) and not element.get("width"):
                element.set("width", str(size(clip)[0]))
                element.set("height", str(size(clip)[1]))
            return element

    return Writer(tl).to_xml()


def _fill_frame_duration(xml: str, rate: Fraction) -> str:
    """otio-fcpx-xml-adapter 1.0 looks frame durations up in a table keyed by 23.98 and 29.97, so at the
    exact NTSC rates (24000/1001, 30000/1001) it writes `frameDuration=""`, which Final Cut Pro rejects.
    Clip times it writes as exact fractions either way; only the <format> elements need the duration,
    which is 1/rate exactly (1001/24000s at 23.976)."""
    duration = f"{rate.denominator}/{rate.numerator}s"
    return re.sub(r'(<format\b[^>]*?\bframeDuration=)""', lambda m: f'{m.group(1)}"{duration}"', xml)
