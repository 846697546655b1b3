"""Downloads for the NLE: the current search results or the proposed selects as OTIO, EDL, ALE,
FCP 7 XML or FCP X XML (`pipeline.export`: every format carries clip name, reel and source TC).

`/exports` is the page that offers both (the search page and the selects page link their own
results here and carry direct buttons too); `/export/...` are the downloads themselves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as P
from fastapi import Query as Q
from fastapi.responses import Response

from pipeline.editorial.items import items_from_hits, items_from_selects
from pipeline.errors import UsageError
from pipeline.export import ALIASES, EXPORTERS, export_bytes, format_for
from pipeline.web.params import Filters, ImageKey, Like, Page, PerSetup, Scene, Text, make_query
from pipeline.web.render import render
from pipeline.web.searching import run_query
from pipeline.web.selecting import proposals

router = APIRouter()
Format = Annotated[str, P(pattern="^(" + "|".join([*EXPORTERS, *ALIASES]) + ")$")]
FORMATS = [  # (format, button label, what the NLE does with it)
    ("edl", "EDL", "CMX 3600 edit decision list: Avid, Resolve, Premiere (one frame rate per file)"),
    ("ale", "ALE", "Avid Log Exchange: a bin of clips with their metadata (one frame rate per file)"),
    ("xml", "FCP 7 XML", "Final Cut Pro 7 XML: Premiere, Resolve"),
    ("fcpxml", "FCPXML", "Final Cut Pro X (one frame rate per file)"),
    ("otio", "OTIO", "OpenTimelineIO: Resolve, Hiero, scripts"),
]
MEDIA_TYPES = {
    "otio": "application/json",
    "edl": "text/plain",
    "ale": "text/plain",
    "xml": "application/xml",
    "fcpxml": "application/xml",
}


def _download(request: Request, items, fmt: str, name: str, title: str) -> Response:
    fmt = format_for(fmt)  # an earlier name (fcpx) -> its format
    try:
        data = export_bytes(items, fmt, title, request.app.state.dailies.settings.export)  # [export]: path map...
    except UsageError as exc:
        raise HTTPException(400, str(exc)) from None
    filename = f"{name}{EXPORTERS[fmt][1][0]}"
    return Response(
        data,
        media_type=MEDIA_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="{filename}"', "cache-control": "no-store"},
    )


@router.get("/export/search.{fmt}")
def export_search(
    request: Request,
    fmt: Format,
    f: Annotated[Filters, Q()],
    q: Text = "",
    image: ImageKey = "",
    like: Like = None,
    page: Page = 1,
):
    """The results of a search as shown (the same parameters as `/`): one event per shot, best first;
    a browse with filters (say every circled take of scene 12) gives its page of shots in clip order."""
    query = make_query(q, image, like, f, page)
    if query.kind == "browse" and not query.filters():
        raise HTTPException(
            400,
            "export the results of a search: give a text, image or more-like-this query, "
            "or a filter (scene, take, camera, day, tag, circled)",
        )
    results, error = run_query(request.app.state.dailies, query)
    if error:
        raise HTTPException(400, error)
    items = items_from_hits(request.app.state.dailies.reader(), results.hits)
    what = q or ("image query" if query.kind != "browse" else ", ".join(f"{k} {v}" for k, v in query.filters().items()))
    return _download(request, items, fmt, "dailies-search", f"Dailies search: {what}")


@router.get("/export/selects.{fmt}")
def export_selects(request: Request, fmt: Format, scene: Scene = "", per_setup: PerSetup = 1):
    """The best `per_setup` takes of every setup (rejected takes never), whole takes."""
    setups = proposals(request.app.state.dailies, scene)
    items = items_from_selects(request.app.state.dailies.reader(), setups, per_setup)
    return _download(request, items, fmt, "dailies-selects" + (f"-sc{scene}" if scene else ""), "Dailies selects")


@router.get("/exports")
def exports_page(
    request: Request,
    f: Annotated[Filters, Q()],
    q: Text = "",
    image: ImageKey = "",
    like: Like = None,
    page: Page = 1,
    selects_scene: Scene = "",
    per_setup: PerSetup = 1,
):
    """Downloads of the current search (the search parameters of `/`) and of the selects (`selects_scene`:
    its own name, so that a search's scene filter and the selects' scene can differ)."""
    scene = selects_scene
    state = request.app.state.dailies
    query = make_query(q, image, like, f, page)
    results, error = run_query(state, query) if query.kind != "browse" or query.filters() else (None, None)
    setups = proposals(request.app.state.dailies, scene)
    return render(
        request,
        "exports.html",
        {
            "tab": "exports",
            "query": query,
            "r": results,
            "error": error,
            "formats": FORMATS,
            "scene": scene,
            "per_setup": per_setup,
            "selects_params": {
                k: v for k, v in (("scene", scene), ("per_setup", per_setup)) if v and (k, v) != ("per_setup", 1)
            },
            "scenes": state.reader().filter_choices()["scenes"],
            "n_setups": len(setups),
            "n_takes": len(items_from_selects(state.reader(), setups, per_setup)),
        },
    )
