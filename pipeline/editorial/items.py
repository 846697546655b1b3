"""Catalog -> ExportItems: the proposed selects, search hits, or tagged shots, with everything that
relinks (source file, reel, start TC, frame range) and what the editor wants to see (take fields, tags)."""

from __future__ import annotations

from fractions import Fraction

from pipeline.editorial.takes import Take, list_takes
from pipeline.errors import CatalogError
from pipeline.export.timeline import ExportItem


def take_rate(take: Take) -> Fraction:
    """The take's frame rate; CatalogError when the catalog has none (the clip was never probed)."""
    if not take.fps:
        raise CatalogError(f"{take.path}: no frame rate in the catalog; run `dailies ingest` on its card again")
    return Fraction(take.fps)


def take_frames(take: Take) -> int:
    """The take's frame count; CatalogError when the catalog has none (the clip was never probed)."""
    if take.frame_count is None:
        raise CatalogError(f"{take.path}: no frame count in the catalog; run `dailies ingest` on its card again")
    return take.frame_count


def _tags_by_clip(catalog) -> dict[int, list]:
    out: dict[int, list] = {}
    for r in catalog.tags_of():
        out.setdefault(r["clip_id"], []).append(r)
    return out


def item_for(
    take: Take, in_frame: int, out_frame: int, tags: list | None = None, extra: dict | None = None
) -> ExportItem:
    """One event for frames [in_frame, out_frame) of a take; its tags become names and markers."""
    tags = tags or []
    markers, names = [], []
    for r in tags:
        if r["tag"] not in names:
            names.append(r["tag"])
        comment = r["reason"] or r["kind"]
        markers.append((in_frame, r["tag"], f"{r['kind']}: {comment}"))
    return ExportItem(
        take.name,
        take.path,
        take_rate(take),
        in_frame,
        out_frame,
        take.start_tc,
        take.reel,
        take.frame_count,
        take.scene,
        take.take,
        take.camera,
        take.circled,
        take.notes,
        names,
        markers,
        dict(extra or {}),
        width=take.width,
        height=take.height,
        audio_channels=take.audio_channels,
        reel_source=take.reel_source,
    )


def items_from_selects(catalog, setups: dict, per_setup: int = 1) -> list[ExportItem]:
    """The best `per_setup` takes of each setup (rejected takes never), whole clips, in setup order."""
    takes = {t.clip_id: t for t in list_takes(catalog)}
    tags = _tags_by_clip(catalog)
    items = []
    for name, proposals in setups.items():
        for p in [p for p in proposals if p.override != "reject"][:per_setup]:
            t = takes[p.clip_id]
            items.append(
                item_for(
                    t,
                    0,
                    take_frames(t),
                    tags.get(t.clip_id),
                    {
                        "setup": name,
                        "rank": p.rank,
                        "score": round(p.score, 4),
                        "override": p.override or "",
                        "why": p.explanation,
                    },
                )
            )
    return items


def items_from_hits(catalog, hits) -> list[ExportItem]:
    """One event per search hit (its shot's frames). A hit of a browse (filters only, no query) has
    no rank or score, and its event carries none."""
    takes = {t.clip_id: t for t in list_takes(catalog)}
    tags = _tags_by_clip(catalog)
    return [
        item_for(
            takes[h.clip_id],
            h.start_frame,
            h.end_frame + 1,
            [r for r in tags.get(h.clip_id, []) if r["shot_id"] in (None, h.shot_id)],
            {} if h.score is None else {"rank": h.rank, "score": round(h.score, 4)},
        )
        for h in hits
        if h.clip_id in takes
    ]


def items_from_tags(catalog, tag: str | None = None) -> list[ExportItem]:
    """Shots carrying `tag` (a take-level tag gives the whole take); without a tag, every tagged take."""
    takes = {t.clip_id: t for t in list_takes(catalog)}
    items = []
    for clip_id, rows in _tags_by_clip(catalog).items():
        t = takes.get(clip_id)
        if t is None:
            continue
        if tag is None:
            items.append(item_for(t, 0, take_frames(t), rows))
            continue
        chosen = [r for r in rows if r["tag"] == tag]
        if any(r["shot_id"] is None for r in chosen):
            items.append(item_for(t, 0, take_frames(t), rows))
            continue
        shots = {s["id"]: s for s in catalog.shots(clip_id)}
        for r in sorted(chosen, key=lambda r: shots[r["shot_id"]]["start_frame"]):
            s = shots[r["shot_id"]]
            items.append(
                item_for(t, s["start_frame"], s["end_frame"] + 1, [x for x in rows if x["shot_id"] in (None, s["id"])])
            )
    return items
