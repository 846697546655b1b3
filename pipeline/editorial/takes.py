"""Takes: scene, setup, take, camera, roll, circled flag and notes of each clip.

Sources, in the order a later one overrides an earlier one: file-name patterns (configurable, `[takes]`),
the clip's own metadata (container tags scene/take/camera/roll/circled/notes, see
`pipeline.media.probe.TAKE_TAG_KEYS`; the catalog's reel -> roll when nothing else gives one), an ALE from the script
supervisor or the DIT, and the editor (`dailies take set`). Pure cores: `parse_name`, `parse_ale`,
`parse_metadata`; catalog runners: `takes_from_names` (the ingest's takes stage, one clip at a time),
`import_ale`, `set_take`; reader: `list_takes`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.catalog import Catalog
from pipeline.errors import CatalogError, UsageError
from pipeline.timecode import tc_to_frames

FIELDS = ("scene", "setup", "take", "camera", "roll", "circled", "notes")
_TRUE = {"y", "yes", "1", "true", "*", "x", "circled", "circle", "c", "print", "p", "ok"}
_FALSE = {"", "n", "no", "0", "false", "-"}
ALE_COLUMNS = {  # ALE column (lower case) -> take field
    "scene": "scene",
    "take": "take",
    "camera": "camera",
    "cam": "camera",
    "roll": "roll",
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


@dataclass
class Take:
    """What is known of one clip as a take. None: unknown."""

    clip_id: int
    path: str
    scene: str | None = None
    setup: str | None = None
    take: str | None = None
    camera: str | None = None
    roll: str | None = None
    circled: bool = False
    notes: str | None = None
    reel: str | None = None
    start_tc: str | None = None
    fps: str | None = None
    frame_count: int | None = None
    sources: dict = field(default_factory=dict)
    width: int | None = None  # the source's frame size (probe), for exports that name a format; not a take field
    height: int | None = None

    @property
    def name(self) -> str:
        return Path(self.path).stem

    def to_json(self) -> dict:
        d = asdict(self)
        del d["width"], d["height"]
        d["name"] = self.name
        return d


def normalize_scene(scene: str) -> str:
    """'012A' -> '12A', 'sc 7b' -> '7B'."""
    m = re.fullmatch(r"0*(\d+)([A-Za-z]*)", scene.strip())
    return f"{m.group(1)}{m.group(2).upper()}" if m else scene.strip().upper()


def normalize_take(take: str) -> str:
    t = take.strip()
    return str(int(t)) if t.isdigit() else t


def setup_of(scene: str | None) -> str | None:
    """The setup letter(s) of a scene number: '12A' -> 'A'; None when the scene has none."""
    m = re.fullmatch(r"\d+([A-Z]+)", scene or "")
    return m.group(1) if m else None


def compile_patterns(patterns) -> list[re.Pattern]:
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p))
        except re.error as exc:
            raise UsageError(
                f"[takes] patterns: {p!r} is not a valid regular expression ({exc}); fix it in your "
                f"dailies.toml or --config file"
            ) from None
    return out


def parse_name(name: str, patterns) -> dict:
    """Take fields found in a file name (extension ignored) by the first pattern that sets each field."""
    stem = Path(name).stem
    found: dict = {}
    for rx in patterns:
        m = rx.search(stem)
        if not m:
            continue
        for key, value in m.groupdict().items():
            if key in FIELDS and value and key not in found:
                found[key] = value
    if "scene" in found:
        found["scene"] = normalize_scene(found["scene"])
        found.setdefault("setup", setup_of(found["scene"]))
    if "take" in found:
        found["take"] = normalize_take(found["take"])
    return {k: v for k, v in found.items() if v is not None}


def parse_circled(value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(f"circled value {value!r} is neither yes (Y, 1, *, circled) nor no (N, 0, empty)")


@dataclass
class AleRow:
    line: int
    name: str
    tape: str | None
    start: str | None
    end: str | None
    source_file: str | None
    fields: dict


@dataclass
class AleResult:
    fps: float | None
    rows: list[AleRow]
    bad: list[tuple[int, str]]  # (line number, what is wrong)


def parse_ale(text: str) -> AleResult:
    """Parse an Avid Log Exchange file. Bad data lines are collected with their 1-based line numbers;
    a file without Column/Data sections raises UsageError."""
    lines = text.splitlines()
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
                bad.append((no, f"{len(values)} fields but {len(columns)} columns"))
                continue
            cells = dict(zip(columns, [v.strip() for v in values] + [""] * (len(columns) - len(values)), strict=True))
            row, problem = _ale_row(no, cells, header)
            if problem:
                bad.append((no, problem))
            else:
                assert row is not None  # _ale_row returns a row or a problem
                rows.append(row)
    if columns is None:
        raise UsageError("no Column section: this is not an Avid ALE (expected Heading / Column / Data)")
    return AleResult(float(header["FPS"]) if header.get("FPS") else None, rows, bad)


def _ale_row(no: int, cells: dict, header: dict) -> tuple[AleRow | None, str | None]:
    lower = {k.lower(): v for k, v in cells.items()}
    name = lower.get("name", "")
    if not name and not lower.get("source file"):
        return None, "no Name (and no Source File)"
    fps = float(header.get("FPS") or 60)  # without FPS only the form is checked (frames up to 59)
    for col in ("start", "end"):
        if lower.get(col):
            try:
                tc_to_frames(lower[col], fps)
            except ValueError as exc:
                return None, f"{col.title()}: {exc}"
    fields: dict[str, Any] = {}
    for col, value in lower.items():
        key = ALE_COLUMNS.get(col)
        if key is None or value == "":
            continue
        if key == "circled":
            try:
                fields[key] = parse_circled(value)
            except ValueError as exc:
                return None, str(exc)
        elif key == "scene":
            fields[key] = normalize_scene(value)
        elif key == "take":
            if not re.fullmatch(r"\d+[A-Za-z]?", value):
                return None, f"Take {value!r} is not a take number"
            fields[key] = normalize_take(value)
        else:
            fields[key] = value
    if "scene" in fields and "setup" not in fields and setup_of(fields["scene"]):
        fields["setup"] = setup_of(fields["scene"])
    return AleRow(
        no,
        name,
        lower.get("tape") or None,
        lower.get("start") or None,
        lower.get("end") or None,
        lower.get("source file") or None,
        fields,
    ), None


# -- catalog runners -----------------------------------------------------------------------


def _row_to_take(r) -> Take:
    import json

    return Take(
        r["clip_id"],
        r["path"],
        r["scene"],
        r["setup"],
        r["take"],
        r["camera"],
        r["roll"] or r["reel"],
        bool(r["circled"]),
        r["notes"],
        r["reel"],
        r["start_tc"],
        r["fps"],
        r["frame_count"],
        json.loads(r["sources"]) if r["sources"] else {},
        r["width"],
        r["height"],
    )


def list_takes(catalog: Catalog, scene: str | None = None) -> list[Take]:
    """Every ok clip as a Take (roll falls back to the catalog's reel), optionally of one scene."""
    takes = [_row_to_take(r) for r in catalog.takes()]
    if scene is not None:
        takes = [t for t in takes if t.scene == normalize_scene(scene)]
    return takes


def find_clip(catalog: Catalog, ref: str):
    """A clip by id, full path, file name or name without extension; UsageError when none or ambiguous."""
    rows = catalog.clips()
    if ref.isdigit():
        hit = [r for r in rows if r["id"] == int(ref)]
    else:
        full = str(Path(ref).expanduser().resolve()) if "/" in ref else None
        hit = [r for r in rows if r["path"] == ref or r["path"] == full]
        hit = (
            hit or [r for r in rows if Path(r["path"]).name == ref] or [r for r in rows if Path(r["path"]).stem == ref]
        )
    if not hit:
        raise UsageError(f"no clip {ref!r} in the library; `dailies clips` lists them (use an id, path or file name)")
    if len(hit) > 1:
        raise UsageError(
            f"{ref!r} names {len(hit)} clips ({', '.join(r['path'] for r in hit)}); use the full path or id"
        )
    return hit[0]


def parse_metadata(tags: dict) -> dict:
    """Take fields from the container tags the probe found (`MediaInfo.take_tags`); a circled value that
    is neither yes nor no is left out."""
    found: dict[str, Any] = {k: str(v).strip() for k, v in tags.items() if k in FIELDS and str(v).strip()}
    if "scene" in found:
        found["scene"] = normalize_scene(found["scene"])
        if setup_of(found["scene"]):
            found["setup"] = setup_of(found["scene"])
    if "take" in found:
        found["take"] = normalize_take(found["take"])
    if "circled" in found:
        try:
            found["circled"] = parse_circled(found["circled"])
        except ValueError:
            del found["circled"]
    return found


def takes_from_names(catalog: Catalog, clip_id: int, patterns: list[re.Pattern]) -> bool:
    """The takes stage of the ingest, on one clip: fill take fields from its file name, then from its own
    metadata tags (which win over the name), never over a field set by an ALE or the editor. `patterns`:
    `compile_patterns([takes] patterns)`. Call inside a transaction; True when a field changed."""
    import json

    clip = catalog.clip(clip_id)
    if clip is None:
        raise CatalogError(
            f"no clip {clip_id} in the library at {catalog.root}; the takes stage runs on ingested clips"
        )
    row = catalog.take(clip_id)
    sources = json.loads(row["sources"]) if row and row["sources"] else {}
    tags = (json.loads(clip["probe_json"]) if clip["probe_json"] else {}).get("take_tags") or {}
    from_meta = parse_metadata(tags)
    meta_wins = set(from_meta) | ({"setup"} if "scene" in from_meta else set())
    changed = False
    for found, source, over in (
        (parse_name(clip["path"], patterns), "name", (None, "name")),
        (from_meta, "metadata", (None, "name", "metadata")),
    ):
        keep = {k: v for k, v in found.items() if sources.get(k) in over and not (source == "name" and k in meta_wins)}
        if keep:
            catalog.set_take_fields(clip_id, keep, source)
            sources.update({k: source for k in keep})
            changed = True
    return changed


def set_take(catalog: Catalog, clip_ref: str, source: str = "cli", **fields) -> Take:
    """Set take fields of one clip (None leaves a field as it is). Returns the updated Take."""
    clip = find_clip(catalog, clip_ref)
    if fields.get("scene") is not None:
        fields["scene"] = normalize_scene(fields["scene"])
        if fields.get("setup") is None and setup_of(fields["scene"]):
            fields["setup"] = setup_of(fields["scene"])
    if fields.get("take") is not None:
        fields["take"] = normalize_take(str(fields["take"]))
    with catalog.transaction():
        catalog.set_take_fields(clip["id"], fields, source)
    return next(t for t in list_takes(catalog) if t.clip_id == clip["id"])


def _match_ale_row(row: AleRow, takes: list[Take], fps: float | None) -> Take | None:
    for t in takes:
        if row.source_file and (t.path == row.source_file or t.path == row.source_file.removeprefix("file://")):
            return t
    names = [t for t in takes if row.name and (t.name == Path(row.name).stem or Path(t.path).name == row.name)]
    if len(names) == 1:
        return names[0]
    if row.tape and row.start:  # tape + start TC identify a clip on the camera roll
        same = [
            t
            for t in takes
            if t.reel == row.tape
            and t.start_tc
            and t.fps
            and tc_to_frames(t.start_tc, float(_fraction(t.fps)))
            == tc_to_frames(row.start, fps or float(_fraction(t.fps)))
        ]
        if len(same) == 1:
            return same[0]
    return None


def _fraction(text: str):
    from fractions import Fraction

    return Fraction(text)


def import_ale(catalog: Catalog, path: str | Path) -> dict:
    """Read an ALE and apply its take fields to the clips it names (by Source File, Name, or Tape + Start).
    Returns {"applied": [...], "unmatched": [(line, name)], "bad": [(line, message)]}."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
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
            catalog.set_take_fields(t.clip_id, row.fields, f"ale:{p.name}")
            applied.append({"line": row.line, "clip": t.path, **row.fields})
    return {"file": str(p), "applied": applied, "unmatched": unmatched, "bad": result.bad}
