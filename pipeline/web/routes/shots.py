"""The shot page (`/shot/ID`): player at the shot's in-point, the clip's filmstrip, keyframes, info.

`/clip/ID` opens the clip's first shot; `/api/shot/ID` is the same data as JSON.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse

from pipeline.timecode import tc_to_frames
from pipeline.web.params import Id
from pipeline.web.playback import BROWSER_PROXY, browser_proxy, playability
from pipeline.web.render import render

router = APIRouter()


def shot_context(request: Request, shot_id: int) -> dict:
    cat = request.app.state.dailies.reader()
    shot = cat.shot_with_clip(shot_id)
    if shot is None:
        raise HTTPException(404, f"no shot {shot_id} in this library")
    clip = cat.clip(shot["clip_id"])
    probe = json.loads(clip["probe_json"]) if clip["probe_json"] else None
    shots = cat.shots(shot["clip_id"])
    kfs = cat.keyframes_of_shots([s["id"] for s in shots])
    fps = Fraction(clip["fps"]) if clip["fps"] else Fraction(25)
    start_tc = clip["start_tc"]
    proxy = browser_proxy(request.app.state.dailies, clip["id"])
    playable, why = (True, "") if proxy is not None else playability(probe)
    strip = []
    for s in shots:
        frames = kfs.get(s["id"], [])
        strip.append(
            {
                "id": s["id"],
                "index": s["idx"],
                "start_tc": s["start_tc"],
                "end_tc": s["end_tc"],
                "start_time": s["start_time"],
                "end_time": s["end_time"],
                "thumb": frames[len(frames) // 2]["id"] if frames else None,
            }
        )
    pos = next(i for i, s in enumerate(shots) if s["id"] == shot_id)
    player = {
        "src": f"/media/clip/{clip['id']}",
        "start": shot["start_time"],
        "end": shot["end_time"],
        "fps_num": fps.numerator,
        "fps_den": fps.denominator,
        "tc_base": tc_to_frames(start_tc, fps) if start_tc else 0,
        "drop": bool(start_tc and ";" in start_tc),
        "playable": playable,
        "media": f"proxy {BROWSER_PROXY}" if proxy is not None else "source",
    }
    take = cat.take(clip["id"])
    override = cat.override_of(clip["id"])
    tags = [
        {
            "tag": t["tag"],
            "kind": t["kind"],
            "scope": "take" if t["shot_id"] is None else "shot",
            "score": t["score"],
            "reason": t["reason"],
        }
        for t in cat.tags_of_shot(clip["id"], shot_id)
    ]
    return {
        "take": {k: take[k] if take else None for k in ("scene", "setup", "take", "camera", "roll", "notes")}
        | {"circled": bool(take and take["circled"])},
        "override": override["action"] if override else None,
        "tags": tags,
        "shot": shot,
        "clip": clip,
        "probe": probe,
        "clip_name": Path(clip["path"]).name,
        "keyframes": kfs.get(shot_id, []),
        "strip": strip,
        "player": player,
        "why_unplayable": why,
        "prev_id": shots[pos - 1]["id"] if pos > 0 else None,
        "next_id": shots[pos + 1]["id"] if pos + 1 < len(shots) else None,
    }


@router.get("/shot/{shot_id}")
def shot_page(request: Request, shot_id: Id):
    return render(request, "shot.html", {"tab": "search", **shot_context(request, shot_id)})


@router.get("/clip/{clip_id}")
def clip_page(request: Request, clip_id: Id):
    cat = request.app.state.dailies.reader()
    if cat.clip(clip_id) is None:
        raise HTTPException(404, f"no clip {clip_id} in this library")
    first = cat.first_shot_of_clip(clip_id)
    if first is None:
        raise HTTPException(404, f"clip {clip_id} has no shots (it failed or was skipped; see the library page)")
    return RedirectResponse(f"/shot/{first}", status_code=303)


@router.get("/api/shot/{shot_id}")
def shot_api(request: Request, shot_id: Id):
    ctx = shot_context(request, shot_id)
    s, c = ctx["shot"], ctx["clip"]
    return {
        "shot_id": s["shot_id"],
        "shot": s["shot"],
        "start_frame": s["start_frame"],
        "end_frame": s["end_frame"],
        "start_time": s["start_time"],
        "end_time": s["end_time"],
        "start_tc": s["start_tc"],
        "end_tc": s["end_tc"],
        "clip": {
            "id": c["id"],
            "path": c["path"],
            "name": ctx["clip_name"],
            "fps": c["fps"],
            "start_tc": c["start_tc"],
            "reel": c["reel"],
            "duration": c["duration"],
            "width": c["width"],
            "height": c["height"],
        },
        "media": ctx["player"]["src"],
        "media_kind": ctx["player"]["media"],
        "playable": ctx["player"]["playable"],
        "why_unplayable": ctx["why_unplayable"],
        "keyframes": [
            {"id": k["id"], "frame": k["frame"], "time": k["time"], "url": f"/media/keyframe/{k['id']}"}
            for k in ctx["keyframes"]
        ],
        "filmstrip": ctx["strip"],
        "prev": ctx["prev_id"],
        "next": ctx["next_id"],
        "take": ctx["take"],
        "override": ctx["override"],
        "tags": ctx["tags"],
    }
