"""`dailies report`: gather the day's records, copy images beside the page, write report.html + report.json."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from pipeline.catalog import Catalog
from pipeline.report.contact import contact_sheet
from pipeline.report.data import card_records, day_records
from pipeline.report.html import render

STRIP = 8  # thumbnails per clip in the page's strip


def _pick(kfs: list, n: int) -> list:
    if len(kfs) <= n:
        return kfs
    return [kfs[round(i * (len(kfs) - 1) / (n - 1))] for i in range(n)]


def _seconds(c: dict) -> float:
    """A clip's length unrounded (frames / rate), so the total is not a sum of rounded durations."""
    if c["frame_count"] and c["fps"]:
        return c["frame_count"] / float(Fraction(c["fps"]))
    return c["duration"] or 0.0


def build_report(catalog: Catalog, out: Path, day: str | None, font: str, day_start_hour: int) -> dict:
    """Write the report into `out`; return its data (what report.json holds)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    day, clips = day_records(catalog, day, day_start_hour)
    cards = card_records(catalog, {c["mhl"]["card"] for c in clips if c["mhl"]["card"]})
    failures, warnings = [], []
    for c in clips:
        if c["status"] == "failed":
            # the error names the file already; the report shows the path beside it
            failures.append({"clip": c["path"], "message": (c["error"] or "").removeprefix(f"{c['path']}: ")})
        warnings += [{"clip": c["path"], "message": w} for w in c["warnings"]]  # damaged frames, headers
        if c["mhl"]["status"] == "mismatch":
            warnings.append({"clip": c["path"], "message": f"MHL MISMATCH: {c['mhl']['detail']}"})
    for card in cards:
        if card["mhl_status"] in ("mismatch", "missing"):
            failures.append({"card": card["path"], "message": f"MHL {card['mhl_status']}: {card['detail']}"})
        elif card["mhl_status"] == "failed":
            warnings.append({"card": card["path"], "message": card["detail"]})
    ok = [c for c in clips if c["status"] == "ok"]
    for c in ok:
        c["strip"] = []
        for kf in _pick(c["keyframes"], STRIP):
            rel = Path("img") / str(c["id"]) / Path(kf["thumb"]).name
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(kf["thumb"], out / rel)
            c["strip"].append({"src": rel.as_posix(), "tc": kf["tc"], "shot": kf["shot"]})
        sheet = contact_sheet(c, out / "contact" / f"{c['id']}_{Path(c['name']).stem}.jpg", font)
        c["contact_sheet"] = sheet.relative_to(out).as_posix() if sheet else None
    totals = {
        "clips": len(clips),
        "ok": len(ok),
        "failed": sum(c["status"] == "failed" for c in clips),
        "skipped": sum(c["status"] == "skipped" for c in clips),
        "duration_seconds": round(sum(_seconds(c) for c in ok), 3),
        "shots": sum(c["shots"] for c in ok),
        "proxies": sum(len(c["proxies"]) for c in ok),
        "bytes_proxies": sum(p["bytes"] for c in ok for p in c["proxies"]),
        "mhl": dict(sorted(Counter(c["mhl"]["status"] or "none" for c in clips).items())),
    }
    shown = [c for c in clips if c["status"] != "skipped"]
    for c in shown:
        c.pop("keyframes", None)  # the strip and the contact sheet hold what the page shows of them
    data: dict[str, Any] = {
        "day": day,
        "library": str(catalog.root),
        "generated_at": datetime.now(UTC).isoformat(),
        "totals": totals,
        "failures": failures,
        "warnings": warnings,
        "cards": cards,
        "clips": shown,
        "skipped": [{"path": c["path"], "message": c["error"]} for c in clips if c["status"] == "skipped"],
    }
    _write(out / "report.json", json.dumps(data, indent=2, default=str))
    _write(out / "report.html", render(data))
    return data


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
