"""Takes: scene, setup, take, camera, roll, circled flag and notes of each clip.

Sources, in the order a later one overrides an earlier one: file-name patterns (configurable, `[takes]`),
the clip's own metadata (container tags scene/take/camera/roll/circled/notes, see
`pipeline.media.probe.TAKE_TAG_KEYS`; the catalog's reel -> roll when nothing else gives one), an ALE from the script
supervisor or the DIT, and the editor (`dailies take set`). Pure cores: `parse_name`,
`parse_metadata`; catalog runners: `takes_from_names` (the ingest's takes stage, one clip at a time),
`set_take`; reader: `list_takes`. ALEs: `pipeline.editorial.ale` (`parse_ale`, `import_ale`).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.catalog import Catalog
from pipeline.errors import CatalogError, UsageError

FIELDS = ("scene", "setup", "take", "camera", "roll", "circled", "notes")
_TRUE = {"y", "yes", "1", "true", "*", "x", "circled", "circle", "c", "print", "p", "ok"}
_FALSE = {"", "n", "no", "0", "false", "-"}


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
    audio_channels: int = 0  # the source's audio channels (probe), for exports (ALE Tracks, EDL A/V); not a take field
    reel_source: str | None = None  # where the reel came from: "metadata" (the camera's reel name) or "filename"

    @property
    def name(self) -> str:
        return Path(self.path).stem

    def to_json(self) -> dict:
        d = asdict(self)
        del d["width"], d["height"], d["audio_channels"], d["reel_source"]
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
        _audio_channels(r["probe_json"]),
        r["reel_source"],
    )


def _audio_channels(probe_json: str | None) -> int:
    import json

    audio = (json.loads(probe_json) if probe_json else {}).get("audio") or []
    return sum(int(a.get("channels") or 0) for a in audio)


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
