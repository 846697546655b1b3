"""The library page (`/library`): clips, stage status, ingest progress and failures; `/api/library` as JSON."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request

from pipeline.errors import CatalogError
from pipeline.web.render import render

router = APIRouter()
STAGES = ("probe", "analyze", "embed")


def library_data(request: Request) -> dict:
    state = request.app.state.dailies
    cat = state.reader()
    try:
        model_id, name, semantic, _dim = state.model_info()
        model = {"id": model_id, "name": name, "semantic": semantic}
    except CatalogError as exc:
        model = {"id": None, "name": None, "semantic": None, "error": str(exc)}
    runs = cat.all_stage_runs()
    clips, progress = [], {s: {"done": 0, "pending": 0, "failed": 0} for s in STAGES}
    status_counts = {"ok": 0, "failed": 0, "skipped": 0, "new": 0}
    for c in cat.clips_overview():
        stages = {
            k: {"status": r["status"], "detail": r["detail"], "seconds": r["seconds"], "finished_at": r["finished_at"]}
            for k, r in runs.get(c["id"], {}).items()
        }
        status_counts[c["status"]] = status_counts.get(c["status"], 0) + 1
        if c["status"] == "skipped":
            continue
        for s in STAGES:
            st = stages.get(s, {}).get("status", "pending")
            if st != "done" and c["status"] == "failed":  # the clip failed: this stage will not run, it is not pending
                st = "failed"
                stages[s] = {
                    **stages.get(s, {"detail": c["error"], "seconds": None, "finished_at": None}),
                    "status": st,
                }
            progress[s][st if st in progress[s] else "pending"] += 1
        clips.append(
            {
                "id": c["id"],
                "path": c["path"],
                "name": Path(c["path"]).name,
                "status": c["status"],
                "error": c["error"],
                "shots": c["shot_count"],
                "first_shot": c["first_shot_id"],
                "duration": c["duration"],
                "fps": c["fps"],
                "start_tc": c["start_tc"],
                "reel": c["reel"],
                "width": c["width"],
                "height": c["height"],
                "added_at": c["added_at"],
                "stages": stages,
            }
        )
    clips.sort(key=lambda c: (c["status"] != "failed", c["path"]))
    events = [
        {"at": e["at"], "level": e["level"], "path": e["path"], "stage": e["stage"], "message": e["message"]}
        for e in cat.recent_events()
    ]
    return {
        "library": str(state.root),
        "model": model,
        "counts": cat.library_counts(model["id"]),
        "status": status_counts,
        "progress": progress,
        "clips": clips,
        "events": events,
    }


@router.get("/library")
def library_page(request: Request):
    return render(request, "library.html", {"tab": "library", "d": library_data(request), "stages": STAGES})


@router.get("/api/library")
def library_api(request: Request):
    return library_data(request)
