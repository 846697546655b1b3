"""ExportItem -> OpenTimelineIO timeline: what every export format is written from.

A clip in the timeline carries its source file (ExternalReference with the clip's whole source range in
source timecode), its reel/tape (cmx_3600 reel, fcp_xml file timecode reel, ALE Tape, FCP X <md> reel with
scene, take, notes and tags as keywords), the source range
of the item in source timecode, take fields and tags as metadata ("dailies" namespace and ALE columns)
and tags as markers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path, PurePosixPath, PureWindowsPath

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from pipeline.config import ExportSettings
from pipeline.timecode import is_drop_frame_rate, tc_to_frames


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
    tape_name: str | None = None  # the tape/source name to write ([export] tape); None: the reel, else the name
    audio_channels: int = 0  # the source's audio channels (all its audio streams together)
    reel_source: str | None = None  # "metadata": the reel is the camera's own reel name, which Avid takes as tape

    @property
    def start_frames(self) -> int:
        """Absolute frame count of the file's first frame (its start timecode)."""
        return tc_to_frames(self.start_tc, self.rate) if self.start_tc else 0

    @property
    def tape(self) -> str:
        """Reel/tape name written for relinking: `tape_name` (`as_written` sets it), else the reel, else the name."""
        return self.tape_name or self.reel or self.name

    @property
    def drop_frame(self) -> bool:
        """The source's timecode counts drop-frame (its start TC says so, or, without one, its rate)."""
        return ";" in self.start_tc if self.start_tc else is_drop_frame_rate(self.rate)


def map_path(path: str, path_map: tuple | list) -> str:
    """`path` with the first FROM=TO prefix of `path_map` that matches replaced (whole folder names only)."""
    for pair in path_map:
        src, _, dst = pair.partition("=")
        src = src.rstrip("/\\")
        if path == src or path.startswith((src + "/", src + "\\")):
            return dst.rstrip("/\\") + path[len(src) :]
    return path


def as_written(items: list[ExportItem], settings: ExportSettings) -> list[ExportItem]:
    """The items as an export writes them: the path map applied to every source path, and the tape name
    the settings choose: the source name Avid would use (the camera's reel name from the file's metadata
    when it carries one, else the file's name), or the roll."""
    return [
        replace(
            i,
            path=map_path(i.path, settings.path_map),
            tape_name=(i.reel if i.reel and i.reel_source == "metadata" else i.name)
            if settings.tape == "name"
            else (i.reel or i.name),
        )
        for i in items
    ]


def file_url(path: str) -> str:
    """file:// URL of a source path as written (a path mapped to another machine need not exist here)."""
    if re.match(r"^[A-Za-z]:[/\\]", path):
        return PureWindowsPath(path).as_uri()
    return Path(path).resolve().as_uri() if not path.startswith("/") else PurePosixPath(path).as_uri()


def edl_reel(tape: str, length: int = 8) -> str:
    """A reel an EDL can carry: ASCII letters, digits and underscore (accents dropped; `.` and `-` too in
    Avid's File32/File128 lists), at most `length` characters (8 in CMX 3600: what Avid keeps of a source
    name); AX (an auxiliary source) when nothing is left."""
    ascii_only = unicodedata.normalize("NFKD", tape).encode("ascii", "ignore").decode()
    allowed = r"[^A-Za-z0-9_]" if length <= 8 else r"[^A-Za-z0-9_.\-]"
    return re.sub(allowed, "", ascii_only)[:length] or "AX"


def ale_cell(value) -> str:
    """A value an ALE row can hold: tabs and line breaks (field and row separators) become spaces."""
    return re.sub(r"[\t\r\n]+", " ", str(value)).strip()


def tracks(item: ExportItem) -> str:
    """Avid's Tracks value: V, then A1..An for the source's audio channels (VA1A2)."""
    return "V" + "".join(f"A{n}" for n in range(1, item.audio_channels + 1))


# ALE columns beyond Name/Start/End/Duration/Source File, in the order written: (column, value of an item).
# Other columns (sound roll and TC, ASC CDL...) are added here, one line each.
ALE_COLUMNS = [
    ("Tape", lambda i: i.tape),  # Avid relinks by Tape with Start/End
    ("Camroll", lambda i: i.reel or ""),  # the camera roll, kept as its own field
    ("Tracks", tracks),
    ("Image Size", lambda i: f"{i.width} x {i.height}" if i.width and i.height else ""),  # -> VIDEO_FORMAT
    ("Scene", lambda i: i.scene or ""),
    ("Take", lambda i: i.take or ""),
    ("Camera", lambda i: i.camera or ""),
    ("Circled", lambda i: "Y" if i.circled else ""),
    ("Comments", lambda i: i.notes or ""),
    ("Tags", lambda i: ", ".join(i.tags)),
]


def ale_columns(item: ExportItem) -> dict:
    """The ALE columns of an item (ALE_COLUMNS, then its extra values), each a valid ALE cell."""
    values = {name: value(item) for name, value in ALE_COLUMNS}
    values.update({k.title(): v for k, v in item.extra.items() if isinstance(v, (str, int, float))})
    return {k: ale_cell(v) for k, v in values.items()}


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
    ref = otio.schema.ExternalReference(target_url=file_url(item.path), available_range=available)
    ref.name = item.name
    ref.metadata["fcp_xml"] = {"timecode": {"reel": {"name": item.tape}, "displayformat": _display(item.drop_frame)}}
    ref.metadata["fcpx"] = fcpx_metadata(item)
    clip = otio.schema.Clip(
        name=item.name,
        media_reference=ref,
        source_range=TimeRange(
            RationalTime(start + item.in_frame, rate), RationalTime(item.out_frame - item.in_frame, rate)
        ),
    )
    clip.metadata["cmx_3600"] = {"reel": edl_reel(item.tape)}
    clip.metadata["ALE"] = ale_columns(item)
    clip.metadata["dailies"] = {
        "path": item.path,
        "reel": item.reel,
        "tape": item.tape,
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


def _display(drop: bool) -> str:
    return "DF" if drop else "NDF"


def record_start_frames(record_start: str, rate: Fraction) -> int:
    """Frames of the record start timecode at `rate` (drop-frame at 29.97/59.94, as their timecode counts)."""
    drop = is_drop_frame_rate(rate)
    return tc_to_frames(record_start[:8] + (";" if drop else ":") + record_start[9:], rate)


def build_timeline(
    items: list[ExportItem], name: str = "Dailies selects", record_start: str = "01:00:00:00"
) -> otio.schema.Timeline:
    """A one-video-track timeline with the items in order, starting at `record_start`."""
    tl = otio.schema.Timeline(name=name)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    tl.tracks.append(track)
    for item in items:
        track.append(build_clip(item))
    if items:
        rate = items[0].rate
        tl.global_start_time = RationalTime(record_start_frames(record_start, rate), float(rate))
        tl.metadata["fcp_xml"] = {"timecode": {"displayformat": _display(is_drop_frame_rate(rate))}}
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
            f"export one scene at a time (--scene) or use --format otio / xml"
        )
    return next(iter(rates)) if rates else Fraction(24)
