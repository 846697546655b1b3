"""The search page (`/`), its JSON twin (`/api/search`), image uploads and the query image."""

from __future__ import annotations

import hashlib
import io
from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Request, UploadFile
from fastapi import Path as P
from fastapi import Query as Q
from fastapi.responses import JSONResponse, RedirectResponse, Response

from pipeline.errors import UsageError
from pipeline.web.params import Filters, ImageKey, Like, Page, Text, make_query
from pipeline.web.render import render
from pipeline.web.searching import read_query_image, results_json, run_query

router = APIRouter()


@router.get("/")
def search_page(
    request: Request, f: Annotated[Filters, Q()], q: Text = "", image: ImageKey = "", like: Like = None, page: Page = 1
):
    state = request.app.state.dailies
    query = make_query(q, image, like, f, page)
    results, error = run_query(state, query)
    choices = state.reader().filter_choices()
    return render(
        request,
        "search.html",
        {"tab": "search", "r": results, "error": error, "query": query, "choices": choices},
        400 if error and query.kind != "browse" else 200,
    )


@router.get("/api/search")
def search_api(
    request: Request, f: Annotated[Filters, Q()], q: Text = "", image: ImageKey = "", like: Like = None, page: Page = 1
):
    results, error = run_query(request.app.state.dailies, make_query(q, image, like, f, page))
    return JSONResponse(results_json(results, error), status_code=400 if error else 200)


@router.post("/search/image")
def upload_image(request: Request, file: Annotated[UploadFile, File()]):
    """Embed an uploaded still and redirect to its results; the image itself is kept only as a re-encoded thumbnail."""
    state = request.app.state.dailies
    data = file.file.read(state.settings.web.max_upload_mb * 2**20 + 1)
    if len(data) > state.settings.web.max_upload_mb * 2**20:
        raise HTTPException(413, f"image too large: the limit is {state.settings.web.max_upload_mb} MiB")
    try:
        image = read_query_image(data, state.settings.web.max_image_pixels)
    except UsageError as exc:
        raise HTTPException(415, str(exc)) from None
    key = hashlib.sha256(data).hexdigest()[:24]
    if state.image_queries.get(key) is None:
        vector = state.embedder().embed_images([image])[0]
        thumb = image.copy()
        thumb.thumbnail((480, 480))
        buf = io.BytesIO()
        thumb.save(buf, "JPEG", quality=85)
        state.image_queries.put(key, (vector, buf.getvalue()))
    target = f"/api/search?image={key}" if "application/json" in request.headers.get("accept", "") else f"/?image={key}"
    return RedirectResponse(target, status_code=303)


@router.get("/media/query/{key}")
def query_image(request: Request, key: Annotated[str, P(pattern=r"^[0-9a-f]{24}$")]):
    held = request.app.state.dailies.image_queries.get(key)
    if held is None:
        raise HTTPException(404, "query image no longer held; upload it again")
    return Response(held[1], media_type="image/jpeg", headers={"cache-control": "private, max-age=3600"})
