"""Media by catalog id only: keyframe JPEGs and clip video (HTTP range requests, so seeking works);
the video is the clip's H.264 proxy when there is one, else the camera source.

No path ever comes from the request: ids are integers looked up in the catalog, and the file the
catalog names must lie inside the library (thumbnails) or be a catalogued clip (video).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from pipeline.web.params import Id
from pipeline.web.playback import browser_proxy

router = APIRouter()
VIDEO_TYPES = {
    ".mov": "video/quicktime",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".mxf": "application/mxf",
}


@router.get("/media/keyframe/{keyframe_id}")
def keyframe(request: Request, keyframe_id: Id):
    state = request.app.state.dailies
    row = state.reader().keyframe(keyframe_id)
    if row is None:
        raise HTTPException(404, f"no keyframe {keyframe_id}")
    path = (state.root / row["thumb"]).resolve()
    if not path.is_relative_to(state.root) or not path.is_file():
        raise HTTPException(404, f"keyframe {keyframe_id}: its thumbnail is missing; re-run `dailies ingest`")
    return FileResponse(path, media_type="image/jpeg", headers={"cache-control": "private, max-age=86400"})


@router.get("/media/clip/{clip_id}")
def clip_video(request: Request, clip_id: Id):
    state = request.app.state.dailies
    clip = state.reader().clip(clip_id)
    if clip is None or clip["status"] != "ok":
        raise HTTPException(404, f"no playable clip {clip_id}")
    proxy = browser_proxy(state, clip_id)
    if proxy is not None:
        return FileResponse(proxy, media_type="video/mp4", headers={"cache-control": "private, max-age=3600"})
    path = Path(clip["path"])
    if not path.is_file():
        raise HTTPException(
            404, f"clip {clip_id}: the source {path.name} is not reachable from this machine (card unmounted or moved)"
        )
    media_type = (
        VIDEO_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    return FileResponse(path, media_type=media_type, headers={"cache-control": "private, max-age=3600"})
