"""Reading an editor's EDL event by event, through pycmx: what each event uses, and what is doubtful.

OTIO's cmx_3600 reader builds one timeline from the whole file, so one event it cannot place (a 1-frame
source/record mismatch, an audio event at another rate, an M2 line with drop-frame timecode, a dissolve
whose two lines carry different numbers) refuses every event. pycmx (Jamie Hardt's CMX 3600 parser)
reads statement by statement and keeps what OTIO drops: each event's own number, its channels, its
`* FROM CLIP NAME:` and `* SOURCE FILE:`, the 8-character CMX, File32 and File128 reel forms
(`tolerant=True` also reads 4-digit event numbers with long reels). Here each edit becomes an `EdlEvent`
in frames at the cut's rate, with:

- `FCM: DROP FRAME` honoured per event: the FCM line in force above an event says how its colon
  timecodes count (the CMX form writes drop-frame with colons);
- the record duration as the length the event uses of its source, at the speed of its M2 line when it
  has one (speed changes, freezes, reverses and 1-frame mismatches are noted, never refused);
- event lines pycmx cannot read, and timecodes that do not exist at the rate, listed by line number.

Pure: text in, events out; matching against the library is `pipeline.editorial.cut`.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from fractions import Fraction

from pipeline.timecode import is_drop_frame_rate, tc_to_frames

BLACK_REELS = {"BL", "BLK", "BLACK"}  # black slugs: no media behind them
_M2 = re.compile(r"^M2\s+(.+?)\s+(-?\d+(?:\.\d*)?)\s+(\d\d\D\d\d\D\d\d\D\d\d)\s*$")
_LOOKS_LIKE_EVENT = re.compile(r"^\s*\d{1,6}\s+\S")


@dataclass
class EdlEvent:
    """One edit of an EDL event (a dissolve has two), in absolute frames at the cut's rate."""

    number: str  # as written ("014", "000003")
    line: int  # 1-based line of the event in the file
    reel: str
    channels: str  # "V", "A", "A2/V", "AA"...
    video: bool
    transition: str  # C, D, W...
    src_in: int
    src_out: int  # exclusive, as written
    rec_in: int
    rec_out: int
    drop: bool  # the event's timecodes count drop-frame
    clip_name: str = ""
    source_file: str = ""
    speed: float | None = None  # an M2 line's speed in frames per second (0: freeze, < 0: reverse)
    notes: list[str] = field(default_factory=list)  # what is doubtful about it, though it is read

    @property
    def black(self) -> bool:
        return self.reel.upper() in BLACK_REELS

    @property
    def length(self) -> int:
        """Frames the event lasts in the cut: the record duration."""
        return max(self.rec_out - self.rec_in, 0)

    def source_range(self, rate: Fraction) -> tuple[int, int]:
        """(first source frame, frames) the event uses: the record duration at the M2 speed (1 frame for a
        freeze; a reverse runs back from the source in), at normal speed the record duration."""
        if self.speed is None:
            return self.src_in, self.length
        if self.speed == 0:
            return self.src_in, 1
        used = max(1, round(self.length * abs(self.speed) / round(float(rate))))
        return (self.src_in - used + 1, used) if self.speed < 0 else (self.src_in, used)


@dataclass
class EdlRead:
    title: str
    events: list[EdlEvent]
    unread: list[str]  # "line N: why" for event lines that could not be read


def _frames(tc: str, rate: Fraction, drop: bool) -> int:
    """Frames of an EDL timecode; FCM DROP FRAME makes a colon timecode count drop-frame at 29.97/59.94."""
    if drop and is_drop_frame_rate(rate) and tc[8:9] == ":":
        tc = tc[:8] + ";" + tc[9:]
    return tc_to_frames(tc, rate)


def _fcm_by_line(edl) -> dict[int, bool]:
    """Line number (0-based) of each event line -> the drop-frame flag of the FCM line in force above it."""
    from pycmx.statements import StmtEvent, StmtFCM

    drop, out = False, {}
    for stmt in edl.event_statements:
        if isinstance(stmt, StmtFCM):
            drop = stmt.drop
        elif isinstance(stmt, StmtEvent):
            out[stmt.line_number] = drop
    return out


def _channels(cm) -> str:
    """pycmx's channel map as the EDL writes it: V, A, A2, V+A1A2..."""
    audio = "".join(f"A{c}" for c in cm.channels)
    return "+".join(x for x in ("V" if cm.video else "", audio) if x) or "NONE"


def _fed(lines: list[str]) -> tuple[list[str], list[int]]:
    """The lines given to pycmx 1.5, and the file's 1-based line number of each: a TITLE line first (pycmx
    takes the first line as the title), and an empty line after each event line not followed by its AUD
    line (pycmx 1.5 drops an event line that ends its event's statements: the first event after an FCM
    line, the second line of a dissolve with no comment after it)."""
    fed, origin = [], []
    if not (lines and lines[0].startswith("TITLE:")):
        fed.append("TITLE:")
        origin.append(0)
    for i, line in enumerate(lines):
        fed.append(line)
        origin.append(i + 1)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _LOOKS_LIKE_EVENT.match(line) and not nxt.startswith("AUD"):
            fed.append("")
            origin.append(i + 1)
    return fed, origin


def read_edl(text: str, rate: Fraction) -> EdlRead:
    """Every edit of the EDL `text` read at `rate`; lines that cannot be read are listed in `unread`."""
    import pycmx
    from pycmx.statements import StmtUnrecognized

    lines, origin = _fed(text.lstrip("\ufeff").splitlines())
    edl = pycmx.parse_cmx3600(io.StringIO("\n".join(lines) + "\n"), tolerant=True)
    drop_at = _fcm_by_line(edl)
    events, unread = [], []
    for stmt in edl.event_statements:
        if isinstance(stmt, StmtUnrecognized) and _LOOKS_LIKE_EVENT.match(stmt.content):
            why = f"not an event line a CMX 3600 reader can read: {stmt.content!r}"
            unread.append(f"line {origin[stmt.line_number]}: {why}")
    for ev in edl.events:
        try:
            edits = ev.edits
        except (IndexError, ValueError, TypeError):  # pycmx cannot pair the statements of this event
            unread.append(f"event {ev.number}: its lines do not form an edit pycmx can read")
            continue
        speeds = {}
        for s in ev.unrecognized_statements:
            m = _M2.match(getattr(s, "content", "").strip())
            if m:
                speeds[m.group(1).strip()] = float(m.group(2))
        for e in edits:
            line = e.line_number
            number = lines[line].split()[0] if line < len(lines) and lines[line].split() else str(ev.number)
            drop = drop_at.get(line, False) or ";" in e.source_in + e.record_in
            try:
                src_in, src_out, rec_in, rec_out = (
                    _frames(tc, rate, drop) for tc in (e.source_in, e.source_out, e.record_in, e.record_out)
                )
            except ValueError as exc:
                unread.append(f"line {origin[line]}: event {number}: {exc}")
                continue
            event = EdlEvent(
                number,
                origin[line],
                e.source,
                _channels(e.channels),
                bool(e.channels.video),
                e.transition.kind or "cut",
                src_in,
                src_out,
                rec_in,
                rec_out,
                drop,
                (e.clip_name or "").strip(),
                (e.source_file or "").strip(),
                speeds.get(e.source),
            )
            if drop and not is_drop_frame_rate(rate):
                event.notes.append(f"FCM DROP FRAME at {float(rate):.3f} fps, where only 29.97/59.94 drop frames")
            src_len = src_out - src_in
            if event.speed is not None:
                event.notes.append(
                    f"speed {event.speed:g} fps (M2){': a freeze' if event.speed == 0 else ''}"
                    f"{': reversed' if event.speed < 0 else ''}; the source range follows from the record duration"
                )
            elif src_len != event.length:
                event.notes.append(
                    f"source {src_len} frame(s), record {event.length}: the record duration is used as the source range"
                )
            events.append(event)
    return EdlRead(edl.title, events, unread)
