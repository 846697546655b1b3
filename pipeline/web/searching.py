"""The web glue of search (`pipeline.search` does the work): the server's cached model and index give
the query's vectors, an error is shown on the page instead of raised, result cards become JSON with
their URLs, and uploaded query images are decoded and checked."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from pipeline.errors import DailiesError, UsageError
from pipeline.search import Hit, Query, Results, find
from pipeline.web.state import WebState

IMAGE_FORMATS = {"JPEG", "PNG", "WEBP"}


def run_query(state: WebState, q: Query) -> tuple[Results, str | None]:
    """A page of results, and the error to show instead of (or beside) them."""
    try:
        return find(state.reader(), q, state, state.settings.web.results, state.settings.search.oversample), None
    except DailiesError as exc:
        return Results(q, []), str(exc)


def hit_json(h: Hit) -> dict:
    return {
        **h.to_json(),
        "clip_name": h.clip_name,
        "thumbnail": f"/media/keyframe/{h.keyframe_id}" if h.keyframe_id else None,  # a URL, not the server's path
        "url": f"/shot/{h.shot_id}",
    }


def results_json(r: Results, error: str | None) -> dict:
    return {
        "query": r.query.params(),
        "kind": r.query.kind,
        "model": r.model,
        "semantic": r.semantic,
        "warning": r.warning,
        "error": error,
        "has_more": r.has_more,
        "hits": [hit_json(h) for h in r.hits],
    }


def read_query_image(data: bytes, max_pixels: int) -> Image.Image:
    """Decode an uploaded query image; UsageError (shown to the user) for anything else."""
    if not data:
        raise UsageError("the uploaded file is empty; choose a JPEG, PNG or WebP still")
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format not in IMAGE_FORMATS:
                raise UsageError(f"{im.format or 'this'} images are not accepted; upload a JPEG, PNG or WebP still")
            if im.width * im.height > max_pixels:
                raise UsageError(f"the image is {im.width}x{im.height}; images over {max_pixels:,} pixels are refused")
            return im.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise UsageError(
            f"the uploaded file is not an image Dailies can read ({type(exc).__name__}); "
            f"upload a JPEG, PNG or WebP still"
        ) from None
