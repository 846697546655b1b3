"""The selects page (`/selects`): proposed takes ranked per setup with their per-factor explanation,
and the editor's pin/reject; `/api/selects` as JSON.

Proposals come from `pipeline.editorial.selects.propose`, which measures takes it has not measured yet (and
stores the measurements), so the first visit after an ingest can take a while.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request

from pipeline.web.params import Scene
from pipeline.web.render import render
from pipeline.web.selecting import proposals

router = APIRouter()


@router.get("/selects")
def selects_page(request: Request, scene: Scene = ""):
    state = request.app.state.dailies
    setups = proposals(state, scene)
    clip_ids = [p.clip_id for ps in setups.values() for p in ps]
    cat = state.reader()
    return render(
        request,
        "selects.html",
        {
            "tab": "selects",
            "setups": setups,
            "scene": scene,
            "scenes": cat.filter_choices()["scenes"],
            "thumbs": cat.clip_thumbs(clip_ids),
            "names": {p.clip_id: Path(p.clip).name for ps in setups.values() for p in ps},
            "next": str(request.url.path) + (f"?scene={scene}" if scene else ""),
        },
    )


@router.get("/api/selects")
def selects_api(request: Request, scene: Scene = ""):
    return {
        "scene": scene or None,
        "setups": {name: [p.to_json() for p in ps] for name, ps in proposals(request.app.state.dailies, scene).items()},
    }
