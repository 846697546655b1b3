"""An editor's cut (a CMX 3600 EDL from Avid, Resolve or Premiere) -> the takes and shots it uses.

`dailies tag import-edl CUT.edl` puts a manual tag (default `in-cut`) on every shot a cut event covers,
its reason naming the EDL and the event, so the assistant editor sees which takes made the cut and
which alternates did not (`dailies selects`, the web UI's tag filter, any export by tag).

The EDL is read through OTIO's cmx_3600 adapter (`pipeline.export.read_back`). An event is matched to a
take by its clip name (`* FROM CLIP NAME:`), else by its reel/tape (the catalog's reel, or the clip
name, as Dailies' exports write it; an EDL reel may be cut to 8 characters); its source timecode must lie
inside that take's timecode range. An EDL carries no frame rate: it is read at the library's one rate,
or at `--fps`. Events that match no take are reported with their number and why, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

from pipeline.editorial.items import take_frames, take_rate
from pipeline.editorial.takes import Take, list_takes
from pipeline.errors import UsageError
from pipeline.timecode import exact_rate, frames_to_tc, is_drop_frame_rate, tc_to_frames

BLACK_REELS = {"BL", "BLK", "BLACK"}  # black slugs: no media behind them


@dataclass
class CutEvent:
    """One video event of the EDL (black left out), as matched against the library."""

    event: str  # the EDL's own event number ("004"); "?" when the line could not be told
    record_in: str  # where the editor finds it in the cut
    name: str  # `* FROM CLIP NAME:`, or "" when the EDL gives none
    reel: str
    src_in: str
    src_out: str  # exclusive, as an EDL writes it
    clip: str | None = None  # the take's path when matched
    shots: list[int] = field(default_factory=list)  # shot indexes the event covers
    problem: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


def _rate_of(takes: list[Take], fps: str | None) -> Fraction:
    if fps:
        try:
            rate = exact_rate(fps)
        except (ValueError, ZeroDivisionError):
            raise UsageError(f"--fps {fps}: give a frame rate such as 23.976, 24, 25 or 30000/1001") from None
        if rate <= 0:
            raise UsageError(f"--fps {fps}: give a frame rate above 0")
        return rate
    rates = sorted({Fraction(t.fps) for t in takes if t.fps})
    if not rates:
        raise UsageError("the library has no clips with a frame rate: ingest the footage first")
    if len(rates) > 1:
        listed = ", ".join(f"{float(r):.3f}".rstrip("0").rstrip(".") for r in rates)
        raise UsageError(
            f"the library holds clips at {listed} fps and an EDL does not say its rate: give the cut's rate with --fps"
        )
    return rates[0]


def _candidates(takes: list[Take], name: str, reel: str) -> list[Take]:
    """Takes an event may come from: by clip name, else by tape (exact, then as an 8-character EDL reel)."""
    by_name = [t for t in takes if name and name in (t.name, Path(t.path).name)]
    if by_name:
        return by_name
    tape = lambda t: t.reel or t.name  # noqa: E731 -- what Dailies' exports write as the reel
    exact = [t for t in takes if tape(t).casefold() == reel.casefold()]
    return exact or [t for t in takes if len(reel) == 8 and tape(t)[:8].casefold() == reel.casefold()]


_TC = r"(\d\d[:;.,]\d\d[:;.,]\d\d[:;.,]\d\d)"
_EVENT = re.compile(r"^\s*(\d{1,6})\s+(\S+)\s+(\S+)\s.*?" + r"\s+".join([_TC] * 4))


def _event_lines(path: Path, rate: Fraction) -> tuple[int, dict[tuple[str, int], str]]:
    """What OTIO's reader drops: the record-in frame of the first event (its track starts at zero, the
    editor's cut usually at 01:00:00:00) and each video event's own number, by (reel, source-in frame)."""
    first, numbers = None, {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _EVENT.match(line)
        if not m:
            continue
        try:
            src_in, rec_in = tc_to_frames(m.group(4), rate), tc_to_frames(m.group(6), rate)
        except ValueError:
            continue
        first = rec_in if first is None else first
        if "V" in m.group(3).upper():
            numbers[(m.group(2), src_in)] = m.group(1)
    return first or 0, numbers


def match_cut(catalog, path: str | Path, fps: str | None = None) -> tuple[Fraction, list[CutEvent]]:
    """(rate, every video event of the EDL at `path` matched to a take and its shots, or with a problem)."""
    from pipeline.export import read_back

    if not Path(path).is_file():
        raise UsageError(f"{path}: no such file; give the path of the EDL the NLE exported")
    takes = [t for t in list_takes(catalog) if t.frame_count and t.fps]
    rate = _rate_of(takes, fps)
    drop = is_drop_frame_rate(rate)
    timeline = read_back(path, "edl", rate=float(rate))
    record_start, numbers = _event_lines(Path(path), rate)
    events = []
    video = [c for track in timeline.video_tracks() for c in track.find_clips(shallow_search=True)]
    for clip in sorted(video, key=lambda c: c.range_in_parent().start_time.value):
        reel = str(clip.metadata.get("cmx_3600", {}).get("reel") or "")
        start = int(round(clip.source_range.start_time.value))
        length = int(round(clip.source_range.duration.value))
        if reel.upper() in BLACK_REELS or length <= 0:
            continue
        name = "" if clip.name.isdigit() else clip.name  # OTIO names an event without a clip name by its number
        record = int(round(record_start + clip.range_in_parent().start_time.value))
        n = numbers.get((reel, start), "?")
        ev = CutEvent(
            n,
            frames_to_tc(record, rate, drop),
            name,
            reel,
            frames_to_tc(max(start, 0), rate, drop),
            frames_to_tc(max(start + length, 0), rate, drop),
        )
        events.append(ev)
        where = (
            f"event {n} (record {ev.record_in}, {name or 'no clip name'}, reel {reel}, source {ev.src_in}-{ev.src_out})"
        )
        found = _candidates(takes, name, reel)
        if not found:
            ev.problem = (
                f"{where}: no take of that name or reel in the library; `dailies clips` lists the "
                f"library (was this footage ingested?)"
            )
            continue
        same_rate = [t for t in found if take_rate(t) == rate]
        if not same_rate:
            ev.problem = (
                f"{where}: {found[0].name} is {float(take_rate(found[0])):.3f} fps, the EDL was read "
                f"at {float(rate):.3f}: give the cut's rate with --fps"
            )
            continue
        spans = [(t, tc_to_frames(t.start_tc, rate) if t.start_tc else 0) for t in same_rate]  # (take, first frame)
        inside = [
            (t, start - first) for t, first in spans if first <= start and start + length <= first + take_frames(t)
        ]
        if not inside:
            t, first = spans[0]
            ev.problem = (
                f"{where}: the source timecode is outside {t.name} "
                f"({frames_to_tc(first, rate, drop)}-{frames_to_tc(first + take_frames(t), rate, drop)}); "
                f"check the event's reel and source timecode"
            )
            continue
        if len(inside) > 1:
            ev.problem = (
                f"{where}: {len(inside)} takes match ({', '.join(t.path for t, _ in inside)}); "
                f"rename the event's clip or reel in the NLE so it names one"
            )
            continue
        take, offset = inside[0]
        ev.clip = take.path
        ev.shots = [
            s["idx"]
            for s in catalog.shots(take.clip_id)
            if s["start_frame"] < offset + length and s["end_frame"] >= offset
        ]
    return rate, events


def tag_cut(catalog, path: str | Path, tag: str = "in-cut", fps: str | None = None) -> dict:
    """Tag every shot the cut's events cover; return what was matched and what was not."""
    tag = tag.strip()
    if not tag:
        raise UsageError("a tag cannot be empty")
    rate, events = match_cut(catalog, path, fps)
    by_path = {r["path"]: r["id"] for r in catalog.clips()}
    tagged = set()
    with catalog.transaction():
        for ev in events:
            if ev.clip is None:
                continue
            shot_ids = {s["idx"]: s["id"] for s in catalog.shots(by_path[ev.clip])}
            for idx in ev.shots:
                catalog.add_tag(
                    by_path[ev.clip],
                    shot_ids[idx],
                    tag,
                    "manual",
                    reason=f"{Path(path).name}: event {ev.event} at record {ev.record_in}",
                    method="edl",
                )
                tagged.add((ev.clip, idx))
    return {
        "edl": str(path),
        "fps": str(rate),
        "tag": tag,
        "events": [e.to_json() for e in events],
        "matched": sum(e.clip is not None for e in events),
        "unmatched": sum(e.clip is None for e in events),
        "shots_tagged": len(tagged),
    }
