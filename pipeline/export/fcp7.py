"""FCP 7 XML (xmeml) for Premiere and Resolve, through otio-fcp-adapter 1.0, with what it gets wrong fixed.

- Rates SMPTE has no timecode for (10 fps, 26.777 phone video) made the whole export fail: see
  `pipeline.export.smpte`.
- Markers: a <marker> inside a <clipitem> counts frames from the first frame of its media; the adapter
  writes OTIO's marked range (source timecode frames), which puts every marker hours outside its clip.
- Paths: Premiere writes and expects `file://localhost/...`; the adapter writes `file:///...`.
- Audio: `with_audio` adds the clips' own sound as tracks A1/A2; `linked_audio` writes their clipitems as
  Premiere reads them.
Drop-frame display and the sequence's timecode come from the metadata `timeline.build_timeline` sets.
"""

from __future__ import annotations

import copy
import re
from xml.etree import ElementTree

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


def with_audio(tl: otio.schema.Timeline, channels: list[int]) -> otio.schema.Timeline:
    """`tl` with audio tracks A1..An (n: the most channels of a clip, at most 2) carrying each clip's own sound
    under its picture (a gap where a clip has fewer channels). Synced production sound is another source and
    goes on tracks of its own."""
    tl = tl.deepcopy()
    video = tl.video_tracks()[0]
    for n in range(1, min(max(channels, default=0), 2) + 1):
        track = otio.schema.Track(name=f"A{n}", kind=otio.schema.TrackKind.Audio)
        for clip, count in zip(video, channels, strict=True):
            track.append(clip.deepcopy() if count >= n else otio.schema.Gap(source_range=clip.source_range))
        tl.tracks.append(track)
    return tl


def linked_audio(xml: str, channels: list[int]) -> str:
    """The adapter writes an audio clip of a clip already on the video track as a bare back-reference
    (`<clipitem id="clipitem-1"/>`), which Premiere does not take for sound: each becomes a clipitem of its
    own on the same file, with the `<sourcetrack>` (audio, channel n) Premiere and Resolve read, and each
    file with sound declares its channel count."""
    root = ElementTree.fromstring(xml)
    for seq in root.iter("sequence"):
        video = seq.findall("./media/video/track/clipitem")
        for clipitem, count in zip(video, channels, strict=False):
            audio = clipitem.find("./file/media/audio")
            if count and audio is not None:
                ElementTree.SubElement(audio, "channelcount").text = str(count)
        by_id = {c.get("id"): c for c in video}
        for n, track in enumerate(seq.findall("./media/audio/track"), 1):
            for i, ref in enumerate(list(track)):
                if ref.tag != "clipitem" or len(ref) or ref.get("id") not in by_id:
                    continue
                item = copy.deepcopy(by_id[ref.get("id")])
                item.set("id", f"{ref.get('id')}-a{n}")
                for child in item.findall("marker") + item.findall("file"):
                    item.remove(child)
                source_file = by_id[ref.get("id")].find("file")
                item.insert(
                    0,
                    ElementTree.Element("file", {"id": source_file.get("id") or ""} if source_file is not None else {}),
                )
                source = ElementTree.SubElement(item, "sourcetrack")
                ElementTree.SubElement(source, "mediatype").text = "audio"
                ElementTree.SubElement(source, "trackindex").text = str(n)
                track.remove(ref)
                track.insert(i, item)
    ElementTree.indent(root, "    ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n' + ElementTree.tostring(root, "unicode") + "\n"


def write(tl: otio.schema.Timeline, audio_channels: list[int] | None = None) -> str:
    tl = with_audio(tl, audio_channels or [])
    with smpte_fallback("fcp_xml"):
        xml = otio.adapters.write_to_string(clip_relative_markers(tl), "fcp_xml")
    xml = linked_audio(xml, audio_channels or [])
    return re.sub(r"<pathurl>file:///", "<pathurl>file://localhost/", xml)
