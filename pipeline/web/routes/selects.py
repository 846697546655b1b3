"""The selects page (`/selects`): proposed takes ranked per setup with their per-factor explanation,
and the editor's pin/reject; `/api/selects` as JSON.

Proposals come from `pipeline.editorial.selects.propose`, which reads the take measurements the ingest stored
(a library ingested before measure was a stage of the ingest gets a 409 that says to run `dailies ingest`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request

from pipeline.editorial.ingested import missing, warnings
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
            "missing": warnings(missing(cat)),  # clips ingested before takes and measure were stages
            "thumbs": cat.clip_thumbs(clip_ids),
            "names": {p.clip_id: Path(p.clip).name for ps in setups.values() for p in ps},
            "next": str(request.url.path) + (f"?scene={scene}" if scene else ""),
        },
    )


@router.get("/api/selects")
def selects_api(request: Request, scene: Scene = ""):
    state = request.app.state.dailies
    setups = proposals(state, scene)
    gaps = missing(state.reader())
    return {
        "scene": scene or None,
        "setups": {name: [p.to_json() for p in ps] for name, ps in setups.items()},
        **({"missing_stages": gaps} if gaps else {}),
    }
