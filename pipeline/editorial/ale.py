"""Avid Log Exchange files from the script supervisor, the DIT or a lab -> take fields of the clips they name.

Read as labs and NLEs write them: UTF-8 with or without a BOM, else Windows-1252 (Avid on Windows, Silverstack
exports); a Heading/Column/Data layout with tab-separated fields. Each row is applied field by field: a
field that does not parse (a take `one`, a circled `maybe`, a Start past the rate) is refused with its
reason and the rest of the row applied; only a row that cannot be placed at all (more fields than
columns, no Name or Source File) is refused whole. Takes are written many ways (`1`, `1xa`, `2PK`, `3*`
-- the star circles take 3). ARRI's `Roll` column is the camera's roll angle (a number); the camera roll
is `Camroll` (or `Camera Roll`), which wins. Rows are matched to clips by Source File (a path, a file
URL or a file name), by Name, by Tape against the clip's file name (whole, or its first 8 characters)
or its roll, with Start inside the clip's timecode when more than one clip could be meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import unquote, urlparse

from pipeline.catalog import Catalog
from pipeline.editorial.takes import Take, list_takes, normalize_scene, normalize_take, parse_circled, setup_of
from pipeline.errors import UsageError
from pipeline.timecode import tc_to_frames

ALE_COLUMNS = {  # ALE column (lower case) -> take field
    "scene": "scene",
    "take": "take",
    "camera": "camera",
    "cam": "camera",
    "roll": "roll",  # only when it is not a number (ARRI: the roll angle) and no Camroll column is given
    "camroll": "roll",
    "camera roll": "roll",
    "setup": "setup",
    "circled": "circled",
    "circle": "circled",
    "circled take": "circled",
    "print": "circled",
    "notes": "notes",
    "comments": "notes",
    "comment": "notes",
    "script notes": "notes",
}
_TAKE = re.compile(r"0*(\d+)(.*)")  # 1, 01, 1xa, 2PK, 3*


@dataclass
class AleRow:
    line: int
    name: str
    tape: str | None
    start: str | None
    end: str | None
    source_file: str | None
    fields: dict
    refused: list[str] = field(default_factory=list)  # fields of this row that did not parse, with why


@dataclass
class AleResult:
    fps: float | None
    rows: list[AleRow]
    bad: list[tuple[int, str]]  # (line number, what is wrong): a refused row or a refused field


def decode_ale(data: bytes) -> str:
    """ALE bytes as text: UTF-8 (a BOM dropped), else Windows-1252, the other encoding labs write."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_ale(text: str) -> AleResult:
    """Parse an Avid Log Exchange file. Refused rows and fields are collected with their 1-based line
    numbers; a file without Column/Data sections raises UsageError."""
    lines = text.lstrip("\ufeff").splitlines()
    section, header, columns = None, {}, None
    rows: list[AleRow] = []
    bad: list[tuple[int, str]] = []
    for no, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        word = line.strip().lower()
        if word in ("heading", "column", "data"):
            section = word
            continue
        if not line.strip():
            continue
        if section == "heading":
            key, _, value = line.partition("\t")
            header[key.strip()] = value.strip()
            if key.strip() == "FPS":
                try:
                    if float(value) <= 0:
                        raise ValueError
                except ValueError:
                    raise UsageError(
                        f"ALE line {no}: heading FPS {value.strip()!r} is not a frame rate (23.976, 24, "
                        f"25, 29.97...); fix the heading and import again"
                    ) from None
        elif section == "column":
            if columns is None:
                columns = [c.strip() for c in line.split("\t")]
        elif section == "data":
            if columns is None:
                raise UsageError(f"ALE line {no}: data before a Column section; this is not an Avid ALE")
            values = line.split("\t")
            if len(values) > len(columns):
                bad.append((no, f"{len(values)} fields but {len(columns)} columns: row refused"))
                continue
            cells = dict(zip(columns, [v.strip() for v in values] + [""] * (len(columns) - len(values)), strict=True))
            row, problem = _ale_row(no, cells, header)
            if row is None:
                bad.append((no, f"{problem}: row refused"))
            else:
                rows.append(row)
                bad += [(no, why) for why in row.refused]
    if columns is None:
        raise UsageError("no Column section: this is not an Avid ALE (expected Heading / Column / Data)")
    return AleResult(float(header["FPS"]) if header.get("FPS") else None, rows, bad)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _ale_row(no: int, cells: dict, header: dict) -> tuple[AleRow | None, str | None]:
    lower = {k.lower(): v for k, v in cells.items()}
    name = lower.get("name", "")
    if not name and not lower.get("source file"):
        return None, "no Name (and no Source File)"
    refused: list[str] = []
    fps = float(header.get("FPS") or 60)  # without FPS only the form is checked (frames up to 59)
    times: dict[str, str | None] = {}
    for col in ("start", "end"):
        value = lower.get(col) or None
        times[col] = value
        if value:
            try:
                tc_to_frames(value, fps)
            except ValueError as exc:
                refused.append(f"{col.title()}: {exc}: field refused")
                times[col] = None
    fields: dict[str, Any] = {}
    has_camroll = any(ALE_COLUMNS.get(c) == "roll" and c != "roll" for c in lower)
    for col, value in lower.items():
        key = ALE_COLUMNS.get(col)
        if key is None or value == "" or (col == "roll" and (has_camroll or _is_number(value))):
            continue
        if key == "circled":
            try:
                fields[key] = parse_circled(value)
            except ValueError as exc:
                refused.append(f"{col.title()}: {exc}: field refused")
        elif key == "scene":
            fields[key] = normalize_scene(value)
        elif key == "take":
            m = _TAKE.fullmatch(value)
            if not m:
                refused.append(f"Take {value!r} is not a take number (1, 1xa, 2PK, 3*): field refused")
                continue
            fields[key] = normalize_take(m.group(1) + m.group(2).rstrip("*").strip())
            if m.group(2).endswith("*"):
                fields.setdefault("circled", True)
        else:
            fields[key] = value
    if "scene" in fields and "setup" not in fields and setup_of(fields["scene"]):
        fields["setup"] = setup_of(fields["scene"])
    row = AleRow(
        no, name, lower.get("tape") or None, times["start"], times["end"], lower.get("source file") or None, fields
    )
    row.refused = refused
    return row, None


def _source_name(source_file: str) -> tuple[str, str]:
    """(path, file name) of a Source File cell: a path, a file:// URL, or a bare file name."""
    if source_file.startswith("file:"):
        source_file = unquote(urlparse(source_file).path)
    return source_file, PurePath(source_file.replace("\\", "/")).name


def _tape_names(t: Take) -> set[str]:
    return {n.casefold() for n in (t.name, Path(t.path).name, t.reel or "", t.roll or "") if n}


def _match_ale_row(row: AleRow, takes: list[Take], fps: float | None) -> Take | None:
    if row.source_file:
        path, file_name = _source_name(row.source_file)
        exact = [t for t in takes if t.path == path]
        by_name = exact or [
            t for t in takes if file_name.casefold() in (Path(t.path).name.casefold(), t.name.casefold())
        ]
        if len(by_name) == 1:
            return by_name[0]
    names = [t for t in takes if row.name and (t.name == Path(row.name).stem or Path(t.path).name == row.name)]
    if len(names) == 1:
        return names[0]
    if row.tape:
        tape = row.tape.casefold()
        same = [t for t in takes if tape in _tape_names(t)]
        same = same or [t for t in takes if len(tape) == 8 and any(n[:8] == tape for n in _tape_names(t))]
        if len(same) > 1 and row.start:  # a roll holds many clips: the start timecode tells them apart
            same = [t for t in same if t.start_tc and t.fps and _starts_at(t, row.start, fps)]
        if len(same) == 1:
            return same[0]
    return None


def _starts_at(t: Take, start: str, fps: float | None) -> bool:
    rate = float(Fraction(t.fps or 0))
    try:
        return tc_to_frames(t.start_tc or "", rate) == tc_to_frames(start, fps or rate)
    except ValueError:
        return False


def import_ale(catalog: Catalog, path: str | Path) -> dict:
    """Read an ALE and apply its take fields to the clips it names (by Source File, Name, or Tape + Start).
    Returns {"applied": [...], "unmatched": [(line, name)], "bad": [(line, message)]}."""
    p = Path(path)
    try:
        text = decode_ale(p.read_bytes())
    except FileNotFoundError:
        raise UsageError(f"{p}: file not found") from None
    try:
        result = parse_ale(text)
    except UsageError as exc:
        raise UsageError(f"{p}: {exc}") from None
    takes = list_takes(catalog)
    applied, unmatched = [], []
    with catalog.transaction():
        for row in result.rows:
            t = _match_ale_row(row, takes, result.fps)
            if t is None:
                unmatched.append((row.line, row.name or row.source_file))
                continue
            if row.fields:
                catalog.set_take_fields(t.clip_id, row.fields, f"ale:{p.name}")
            applied.append({"line": row.line, "clip": t.path, **row.fields})
    return {"file": str(p), "rows": len(result.rows), "applied": applied, "unmatched": unmatched, "bad": result.bad}
