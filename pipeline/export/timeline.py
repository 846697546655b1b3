"""ExportItem -> OpenTimelineIO timeline: what every export format is written from.

A clip in the timeline carries its source file (ExternalReference with the clip's whole source range in
source timecode), its reel/tape (cmx_3600 reel, fcp_xml file timecode reel, ALE Tape, FCP X <md> reel with
scene, take, notes and tags as keywords), the source range
of the item in source timecode, take fields and tags as metadata ("dailies" namespace and ALE columns)
and tags as markers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from pipeline.timecode import tc_to_frames


@dataclass
class ExportItem:
    """One event: frames [in_frame, out_frame) of a source clip (0-based frames of the file)."""

    name: str
    path: str
    rate: Fraction
    in_frame: int
    out_frame: int
    start_tc: str | None = None
    reel: str | None = None
    frame_count: int | None = None
    scene: str | None = None
    take: str | None = None
    camera: str | None = None
    circled: bool = False
    notes: str | None = None
    tags: list[str] = field(default_factory=list)
    markers: list[tuple[int, str, str]] = field(default_factory=list)  # (clip frame, name, comment)
    extra: dict = field(default_factory=dict)  # more metadata (score, explanation...)
    width: int | None = None  # frame size of the source, for the FCP X <format> name
    height: int | None = None

    @property
    def start_frames(self) -> int:
        """Absolute frame count of the file's first frame (its start timecode)."""
        return tc_to_frames(self.start_tc, self.rate) if self.start_tc else 0

    @property
    def tape(self) -> str:
        """Reel/tape name written for relinking: the catalog's reel, else the clip name."""
        return self.reel or self.name


def ale_columns(item: ExportItem) -> dict:
    """ALE columns beyond Name/Start/End/Duration/Source File (Avid: Tape relinks with Start/End)."""
    return {
        "Tape": item.tape,
        "Scene": item.scene or "",
        "Take": item.take or "",
        "Camera": item.camera or "",
        "Circled": "Y" if item.circled else "",
        "Comments": item.notes or "",
        "Tags": ", ".join(item.tags),
        **{k.title(): str(v) for k, v in item.extra.items() if isinstance(v, (str, int, float))},
    }


# Final Cut Pro X's own metadata keys (Inspector > General: Reel, Scene, Take, Camera Angle)
FCPX_KEYS = {
    "reel": "com.apple.proapps.studio.reel",
    "scene": "com.apple.proapps.studio.scene",
    "take": "com.apple.proapps.studio.shot",
    "camera": "com.apple.proapps.studio.angle",
}


def fcpx_metadata(item: ExportItem) -> dict:
    """What otio-fcpx-xml-adapter writes on the browser clip: <md> keys (reel/tape, scene, take, camera),
    the notes as <note> and the tags as keywords."""
    values = {"reel": item.tape, "scene": item.scene, "take": item.take, "camera": item.camera}
    out: dict = {"metadata": [{FCPX_KEYS[k]: v} for k, v in values.items() if v]}
    if item.notes:
        out["note"] = item.notes
    if item.tags:
        out["keywords"] = [{"value": t} for t in item.tags]
    return out


def build_clip(item: ExportItem) -> otio.schema.Clip:
    rate = float(item.rate)
    start = item.start_frames
    available = None
    if item.frame_count:
        available = TimeRange(RationalTime(start, rate), RationalTime(item.frame_count, rate))
    ref = otio.schema.ExternalReference(target_url=Path(item.path).resolve().as_uri(), available_range=available)
    ref.name = item.name
    ref.metadata["fcp_xml"] = {"timecode": {"reel": {"name": item.tape}}}
    ref.metadata["fcpx"] = fcpx_metadata(item)
    clip = otio.schema.Clip(
        name=item.name,
        media_reference=ref,
        source_range=TimeRange(
            RationalTime(start + item.in_frame, rate), RationalTime(item.out_frame - item.in_frame, rate)
        ),
    )
    clip.metadata["cmx_3600"] = {"reel": item.tape}
    clip.metadata["ALE"] = ale_columns(item)
    clip.metadata["dailies"] = {
        "path": item.path,
        "reel": item.reel,
        "start_tc": item.start_tc,
        "scene": item.scene,
        "take": item.take,
        "camera": item.camera,
        "circled": item.circled,
        "notes": item.notes,
        "tags": list(item.tags),
        **({"width": item.width, "height": item.height} if item.width and item.height else {}),
        **item.extra,
    }
    for frame, name, comment in item.markers:
        m = otio.schema.Marker(
            name=name,
            marked_range=TimeRange(RationalTime(start + frame, rate), RationalTime(0, rate)),
            color=otio.schema.MarkerColor.GREEN,
        )
        m.metadata["dailies"] = {"comment": comment}
        clip.markers.append(m)
    return clip


def build_timeline(items: list[ExportItem], name: str = "Dailies selects") -> otio.schema.Timeline:
    """A one-video-track timeline with the items in order."""
    tl = otio.schema.Timeline(name=name)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    tl.tracks.append(track)
    for item in items:
        track.append(build_clip(item))
    if items:
        tl.global_start_time = RationalTime(tc_to_frames("01:00:00:00", items[0].rate), float(items[0].rate))
    return tl


def single_rate(items: list[ExportItem], fmt: str) -> Fraction:
    """The one rate of all items; formats with one rate per file refuse a mix, naming the clips."""
    from pipeline.errors import UsageError

    rates: dict[Fraction, list[str]] = {}
    for it in items:
        rates.setdefault(it.rate, []).append(it.name)
    if len(rates) > 1:
        listing = "; ".join(f"{float(r):.3f} fps: {', '.join(n[:3])}" for r, n in rates.items())
        raise UsageError(
            f"{fmt} holds one frame rate per file but the items mix {len(rates)} ({listing}); "
            f"export one scene at a time (--scene) or use --format otio / fcpxml"
        )
    return next(iter(rates)) if rates else Fraction(24)
