"""What the report and `dailies clips --json` say about a clip: editorial fields read from the catalog."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

from pipeline.catalog import Catalog
from pipeline.ingest.stages import clip_stages
from pipeline.timecode import frame_tc


def source_tc(row) -> dict | None:
    """Source TC in (first frame) and out (last frame, inclusive) of a clip row, or None without a start TC."""
    if not row["start_tc"] or not row["fps"]:
        return None
    fps = Fraction(row["fps"])
    frames = row["frame_count"] or 0
    drop = bool(row["drop_frame"]) if row["drop_frame"] is not None else None
    return {
        "start": row["start_tc"],
        "end": frame_tc(max(frames - 1, 0), fps, row["start_tc"], drop),
        "drop_frame": bool(drop) if drop is not None else ";" in row["start_tc"],
        "rate": row["fps"],
    }


def editorial(catalog: Catalog, row) -> dict:
    """proxies, source_tc, reel, checksum, mhl of one clip row."""
    card = catalog.card(row["card"]) if row["card"] else None
    return {
        "proxies": [
            {
                "preset": p["preset"],
                "path": str(catalog.root / p["path"]),
                "frame_count": p["frame_count"],
                "start_tc": p["start_tc"],
                "reel": p["reel"],
                "bytes": p["bytes"],
            }
            for p in catalog.proxies(row["id"])
        ],
        "source_tc": source_tc(row),
        "reel": row["reel"],
        "reel_source": row["reel_source"],
        "checksum": row["checksum"],
        "mhl": {
            "status": row["mhl_status"],
            "detail": row["mhl_detail"],
            "card": row["card"],
            "card_status": card["mhl_status"] if card else None,
            "generation": card["generation"] if card else None,
        },
    }


def warnings(runs: dict) -> list[str]:
    """Ingested, but something is wrong with the source (damaged frames, a damaged header): kept as the
    analyze stage's detail. `runs`: the clip's stage runs ({stage: row})."""
    run = runs.get("analyze")
    return run["detail"].split("\n") if run and run["status"] == "done" and run["detail"] else []


def clip_record(catalog: Catalog, row) -> dict:
    runs = catalog.stage_runs(row["id"])
    fps = row["fps"]
    duration = row["duration"]
    if row["frame_count"] and fps:
        duration = row["frame_count"] / float(Fraction(fps))
    return {
        "id": row["id"],
        "path": row["path"],
        "name": Path(row["path"]).name,
        "status": row["status"],
        "error": row["error"],
        "content_hash": row["content_hash"],
        "fps": fps,
        "frame_count": row["frame_count"],
        "duration": round(duration, 3) if duration else None,
        "width": row["width"],
        "height": row["height"],
        "shots": catalog.count_shots(row["id"]),
        "added_at": row["added_at"],
        "warnings": warnings(runs),
        "stages": clip_stages(row["status"], runs),  # in the order of STAGES
        "keyframes": [
            {
                "frame": k["frame"],
                "shot": k["shot"],
                "thumb": str(catalog.root / k["thumb"]),
                "tc": frame_tc(k["frame"], Fraction(fps), row["start_tc"]) if fps else None,
            }
            for k in catalog.report_keyframes(row["id"])
        ],
        **editorial(catalog, row),
    }


def report_day(catalog: Catalog, day: str | None, day_start_hour: int) -> str | None:
    """The day a report is for: `day` itself, or for None the latest dailies day (None when the library has no clip)."""
    if day is not None:
        return day
    days = catalog.clip_days(day_start_hour)
    return days[0] if days else None


def day_records(catalog: Catalog, day: str | None, day_start_hour: int) -> tuple[str | None, list[dict]]:
    """(day, records): `day` 'YYYY-MM-DD' (the dailies day, local time, starting at `day_start_hour`, on which
    the clips were first catalogued), None = the latest day, 'all' = every clip."""
    day = report_day(catalog, day, day_start_hour)
    rows = catalog.clips_of_day(None if day == "all" else day, day_start_hour)
    return day, [clip_record(catalog, r) for r in rows]


def card_records(catalog: Catalog, cards: set[str]) -> list[dict]:
    return [
        {
            "path": c["path"],
            "mhl_status": c["mhl_status"],
            "algorithm": c["algorithm"],
            "generation": c["generation"],
            "detail": c["detail"],
            "missing": json.loads(c["missing_json"] or "[]"),
            "checked_at": c["checked_at"],
        }
        for c in catalog.cards()
        if c["path"] in cards
    ]
