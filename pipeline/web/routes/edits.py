"""What an editor changes from the UI: tags on a shot or take, circle-take and notes, pin/reject.

Every route is a POST (CSRF-checked app-wide) that calls the library functions of the takes, tags
and selects modules through the server's one writer connection, then redirects back to the page
(or answers JSON when asked for it).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse

from pipeline.editorial.selects import set_override
from pipeline.editorial.tags import add_tag, remove_tag
from pipeline.editorial.takes import set_take
from pipeline.errors import UsageError
from pipeline.web.params import Id

router = APIRouter()
TagText = Annotated[str, Form(min_length=1, max_length=64)]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _back(request: Request, default: str, payload: dict):
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(payload)
    target = request.query_params.get("next", "")
    # a path on this server only: no scheme or host, nothing a browser would strip or turn into "//"
    ok = (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target)
    )
    return RedirectResponse(target if ok else default, status_code=303)


def _shot(request: Request, shot_id: int):
    shot = request.app.state.dailies.reader().shot_with_clip(shot_id)
    if shot is None:
        raise HTTPException(404, f"no shot {shot_id} in this library")
    return shot


def _clean_tag(tag: str) -> str:
    tag = _CONTROL.sub("", tag).strip()
    if not tag:
        raise HTTPException(400, "a tag cannot be empty")
    return tag


@router.post("/shot/{shot_id}/tags")
def tag_add(request: Request, shot_id: Id, tag: TagText, scope: Annotated[str, Form(pattern="^(shot|take)$")] = "shot"):
    shot = _shot(request, shot_id)
    tag = _clean_tag(tag)
    with request.app.state.dailies.writer() as cat:
        add_tag(cat, str(shot["clip_id"]), tag, shot["shot"] if scope == "shot" else None)
    return _back(request, f"/shot/{shot_id}", {"tag": tag, "scope": scope, "shot_id": shot_id})


@router.post("/shot/{shot_id}/tags/remove")
def tag_remove(
    request: Request, shot_id: Id, tag: TagText, scope: Annotated[str, Form(pattern="^(shot|take)$")] = "shot"
):
    shot = _shot(request, shot_id)
    with request.app.state.dailies.writer() as cat:
        removed = remove_tag(cat, str(shot["clip_id"]), tag, shot["shot"] if scope == "shot" else None)
    if not removed:
        raise HTTPException(404, f"the {scope} has no manual tag {tag!r}")
    return _back(request, f"/shot/{shot_id}", {"removed": tag, "scope": scope, "shot_id": shot_id})


@router.post("/clip/{clip_id}/take")
def take_update(
    request: Request,
    clip_id: Id,
    circled: Annotated[str | None, Form(pattern="^[01]$")] = None,
    notes: Annotated[str | None, Form(max_length=2000)] = None,
):
    fields: dict[str, bool | str] = {}
    if circled is not None:
        fields["circled"] = circled == "1"
    if notes is not None:
        fields["notes"] = _CONTROL.sub(lambda m: m.group(0) if m.group(0) in "\n\t" else "", notes).strip()
    if not fields:
        raise HTTPException(400, "nothing to change: send circled=0|1 and/or notes")
    try:
        with request.app.state.dailies.writer() as cat:
            take = set_take(cat, str(clip_id), source="web", **fields)
    except UsageError as exc:
        raise HTTPException(404, str(exc)) from None
    first = request.app.state.dailies.reader().first_shot_of_clip(clip_id)
    return _back(
        request,
        f"/shot/{first}" if first else "/library",
        {"clip_id": clip_id, "circled": take.circled, "notes": take.notes},
    )


@router.post("/clip/{clip_id}/override")
def override(
    request: Request,
    clip_id: Id,
    action: Annotated[str, Form(pattern="^(pin|reject|clear)$")],
    note: Annotated[str | None, Form(max_length=500)] = None,
):
    try:
        with request.app.state.dailies.writer() as cat:
            set_override(cat, str(clip_id), None if action == "clear" else action, note or None)
    except UsageError as exc:
        raise HTTPException(404, str(exc)) from None
    return _back(request, "/selects", {"clip_id": clip_id, "override": None if action == "clear" else action})
