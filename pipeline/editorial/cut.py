"""An editor's cut (a CMX 3600 EDL from Avid, Resolve or Premiere) -> the takes and shots it uses.

`dailies tag import-edl CUT.edl` puts a manual tag (default `in-cut`) on every shot a cut event covers,
its reason naming the EDL and the event, so the assistant editor sees which takes made the cut and
which alternates did not (`dailies selects`, the web UI's tag filter, any export by tag).

The EDL is read event by event (`pipeline.editorial.edl_read`, through pycmx): an event that cannot be
read is listed, the others are applied. A video event is matched to a take by Avid's `* SOURCE FILE:`
(the camera file), else its `* FROM CLIP NAME:`, else its reel/tape (the take's file name, or its
roll; cut to 8 characters in a CMX 3600 EDL); its source timecode must lie inside that take's timecode
range (a take that runs past midnight included). An EDL carries no frame rate: it is read at the
library's one rate, or at `--fps`. Events that match no take are reported with their number and why,
never guessed; doubtful events that are applied (a speed change, a source/record length mismatch)
carry notes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from pipeline.editorial.edl_read import EdlEvent, read_edl
from pipeline.editorial.items import take_frames, take_rate
from pipeline.editorial.takes import Take, list_takes
from pipeline.errors import UsageError
from pipeline.timecode import exact_rate, frames_to_tc, is_drop_frame_rate, tc_to_frames


@dataclass
class CutEvent:
    """One video event of the EDL (black left out), as matched against the library."""

    event: str  # the EDL's own event number, as written ("004")
    record_in: str  # where the editor finds it in the cut
    name: str  # `* FROM CLIP NAME:`, or "" when the EDL gives none
    reel: str
    src_in: str
    src_out: str  # exclusive, as an EDL writes it
    source_file: str = ""  # `* SOURCE FILE:` (Avid: the camera file's name)
    notes: list[str] = field(default_factory=list)  # doubtful but read: speed, duration mismatch, FCM
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


def _names(t: Take) -> frozenset[str]:
    """What an NLE may call a take: its file name and stem, and its reel/roll (casefolded)."""
    return _name_set(t.path, t.reel or "")


@lru_cache(maxsize=65536)
def _name_set(path: str, reel: str) -> frozenset[str]:
    return frozenset(n.casefold() for n in (Path(path).stem, Path(path).name, reel) if n)


def _candidates(takes: list[Take], ev: EdlEvent) -> list[tuple[str, list[Take]]]:
    """(how, takes) an event may come from, most exact first: Avid's `* SOURCE FILE:` (the camera file, with
    or without its extension), `* FROM CLIP NAME:`, then the reel/tape (whole: File32/File128 EDLs and
    rolls; cut to 8 characters: CMX 3600, or to 32: File32)."""
    out = []
    if ev.source_file:
        wanted = ev.source_file.casefold()
        found = [t for t in takes if wanted in {t.path.casefold(), *_names(t)} - {(t.reel or "").casefold()}]
        out.append(("source file", found))
    if ev.clip_name:
        out.append(("clip name", [t for t in takes if ev.clip_name.casefold() in _names(t)]))
    reel = ev.reel.casefold()
    exact = [t for t in takes if reel in _names(t)]
    # a reel cut to the list's width (8 in CMX 3600, 32 in File32: Avid keeps the start of the source name,
    # its spaces as underscores)
    cut = [
        t for t in takes if len(reel) in (8, 32) and any(n[: len(reel)].replace(" ", "_") == reel for n in _names(t))
    ]
    out.append(("reel", exact or cut))
    return out


def _inside(takes: list[Take], ev: EdlEvent, rate: Fraction) -> list[tuple[Take, int]]:
    """(take, frame of the take where the event starts) for takes whose timecode holds the event; a take
    that runs past midnight holds the events whose source timecode restarted at 00:00:00:00."""
    out = []
    for t in takes:
        first = tc_to_frames(t.start_tc, rate) if t.start_tc else 0
        day = _day(rate, bool(t.start_tc and ";" in t.start_tc))
        src, used = ev.source_range(rate)
        offset = src - first
        if offset < 0 and first + take_frames(t) > day:
            offset += day
        if 0 <= offset and offset + used <= take_frames(t):
            out.append((t, offset))
    return out


def _day(rate: Fraction, drop: bool) -> int:
    """Frames in 24 hours of timecode, counted drop-frame or not."""
    return tc_to_frames(f"23:59:59{';' if drop else ':'}00", rate) + max(1, round(float(rate)))


def place(ev: EdlEvent, takes: list[Take], rate: Fraction) -> tuple[Take, int] | str:
    """(the take a video event uses, the take's frame where it starts), or why it cannot be placed. Pure."""
    drop = ev.drop and is_drop_frame_rate(rate)
    tried = [(how, found) for how, found in _candidates(takes, ev) if found]
    if not tried:
        return (
            "no take of that source file, clip name or reel in the library; `dailies clips` lists "
            "the library (was this footage ingested?)"
        )
    same_rate = [(how, [t for t in found if take_rate(t) == rate]) for how, found in tried]
    same_rate = [(how, found) for how, found in same_rate if found]
    if not same_rate:
        t = tried[0][1][0]
        return (
            f"{t.name} is {float(take_rate(t)):.3f} fps, the EDL was read "
            f"at {float(rate):.3f}: give the cut's rate with --fps"
        )
    inside = next((found for _how, found in ((h, _inside(f, ev, rate)) for h, f in same_rate) if found), [])
    if not inside:
        t = same_rate[0][1][0]
        first = tc_to_frames(t.start_tc, rate) if t.start_tc else 0
        end = (first + take_frames(t)) % _day(rate, bool(t.start_tc and ";" in t.start_tc))
        return (
            f"the source timecode is outside {t.name} "
            f"({frames_to_tc(first, rate, drop)}-{frames_to_tc(end, rate, drop)}); "
            f"check the event's reel and source timecode"
        )
    if len(inside) > 1:
        return (
            f"{len(inside)} takes match ({', '.join(t.path for t, _ in inside)}); "
            f"rename the event's clip or reel in the NLE so it names one"
        )
    return inside[0]


def match_cut(catalog, path: str | Path, fps: str | None = None) -> tuple[Fraction, list[CutEvent], list[str]]:
    """(rate, every video event of the EDL at `path` matched to a take and its shots or with a problem,
    lines of the EDL that could not be read). Events are read one by one (`edl_read.read_edl`)."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{path}: no such file; give the path of the EDL the NLE exported")
    takes = [t for t in list_takes(catalog) if t.frame_count and t.fps]
    rate = _rate_of(takes, fps)
    text = p.read_bytes().decode("utf-8", errors="replace")
    try:
        read = read_edl(text, rate)
    except Exception as exc:  # noqa: BLE001 -- pycmx's own errors on text that is not an EDL at all
        raise UsageError(f"{path}: not an EDL file pycmx can read ({exc}); check that it is a CMX 3600 EDL") from None
    if not read.events and not read.unread:
        raise UsageError(f"{path}: not an EDL file: no event lines in it; give the EDL the NLE exported")
    events = []
    for ev in read.events:
        if not ev.video or ev.black or ev.length <= 0:
            continue
        drop = ev.drop and is_drop_frame_rate(rate)
        cut = CutEvent(
            ev.number,
            frames_to_tc(max(ev.rec_in, 0), rate, drop),
            ev.clip_name,
            ev.reel,
            frames_to_tc(max(ev.src_in, 0), rate, drop),
            frames_to_tc(max(ev.src_out, 0), rate, drop),
            source_file=ev.source_file,
            notes=list(ev.notes),
        )
        events.append(cut)
        placed = place(ev, takes, rate)
        if isinstance(placed, str):
            cut.problem = (
                f"event {ev.number} (record {cut.record_in}, {ev.clip_name or ev.source_file or 'no clip name'}, "
                f"reel {ev.reel}, source {cut.src_in}-{cut.src_out}): {placed}"
            )
            continue
        take, offset = placed
        used = ev.source_range(rate)[1]
        cut.clip = take.path
        cut.shots = [
            s["idx"]
            for s in catalog.shots(take.clip_id)
            if s["start_frame"] < offset + used and s["end_frame"] >= offset
        ]
    return rate, events, read.unread


def tag_cut(catalog, path: str | Path, tag: str = "in-cut", fps: str | None = None) -> dict:
    """Tag every shot the cut's events cover; return what was matched and what was not."""
    tag = tag.strip()
    if not tag:
        raise UsageError("a tag cannot be empty")
    rate, events, unread = match_cut(catalog, path, fps)
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
        "unread": unread,
        "matched": sum(e.clip is not None for e in events),
        "unmatched": sum(e.clip is None for e in events),
        "shots_tagged": len(tagged),
    }
