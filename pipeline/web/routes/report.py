"""The morning report (`/report/`): the report kept in the library (`LIBRARY/reports/DAY/`, see
`pipeline.report.store`), served as it is (a self-contained page with its own inline stylesheet, no script).

A GET only reads: it serves the report that exists, or says that none was built and offers the
button. Building is an explicit action: `POST /report/` (the button, CSRF-checked like every edit)
or `dailies report` on the command line.

Only the files the report lists (its report.json) are served, looked up by their name: no other
path from the request is ever opened.
"""

from __future__ import annotations

import json
import re
import threading
from html import escape
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi import Query as Q
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from pipeline.errors import UsageError
from pipeline.report.data import report_day
from pipeline.report.store import build_stored, built_days, stored_report
from pipeline.web.render import render

router = APIRouter()
Day = Annotated[str, Q(pattern=r"^(\d{4}-\d{2}-\d{2}|all)?$")]
# the report carries its stylesheet inline, loads only its own images, and posts only its Rebuild form here
REPORT_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
_building = threading.Lock()  # one build at a time per server


def _query(day: str) -> str:
    return f"?day={quote(day)}" if day else ""


def _folder(request: Request, day: str) -> tuple[str | None, Path | None]:
    """(the day the page is for, its report folder when one was built)."""
    state = request.app.state.dailies
    key = report_day(state.reader(), day or None, state.settings.report.day_start_hour)
    if key is None:
        return None, None
    folder = stored_report(state.root, key)
    return key, folder if (folder / "report.html").is_file() else None


def _listed(request: Request, folder: Path) -> set[str]:
    """The names of the files a built report lists (cached by its report.json's modification time)."""
    path = folder / "report.json"
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        return set()
    cache = request.app.state.dailies.report_names
    names = cache.get(key)
    if names is None:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = {"report.json"}
        for c in data["clips"]:
            names.update(item["src"] for item in c.get("strip", []))
            if c.get("contact_sheet"):
                names.add(c["contact_sheet"])
        cache.put(key, names)
    return names


def _rebuild_bar(request: Request, day: str, generated_at: str) -> str:
    """A line above the report: when it was built, and a Rebuild button (the served copy only)."""
    return (
        '<form method="post" action="/report/' + escape(_query(day)) + '" style="margin:0 0 12px;font-size:13px">'
        f'<input type="hidden" name="csrf" value="{escape(request.app.state.guard.csrf)}">'
        f"Built {escape(generated_at[:19].replace('T', ' '))} UTC &middot; <button>Rebuild</button> "
        'from the catalog as it is now &middot; <a href="/library">Library</a></form>'
    )


@router.get("/report")
def report_redirect(day: Day = ""):
    return RedirectResponse("/report/" + _query(day), status_code=303)


@router.get("/report/")
def report_page(request: Request, day: Day = ""):
    key, folder = _folder(request, day)
    if folder is None:
        state = request.app.state.dailies
        return render(
            request,
            "report.html",
            {"tab": "library", "day": day, "for_day": key, "built": built_days(state.root)},
        )
    html = (folder / "report.html").read_text(encoding="utf-8")
    generated = json.loads((folder / "report.json").read_text(encoding="utf-8")).get("generated_at", "")
    if day:  # keep the day on the page's relative links
        html = re.sub(r'(src|href)="((?:img|contact)/[^"?]+|report\.json)"', rf'\1="\2?day={day}"', html)
    html = html.replace("<body>", "<body>" + _rebuild_bar(request, day, generated), 1)
    return HTMLResponse(html, headers={"content-security-policy": REPORT_CSP, "cache-control": "no-store"})


@router.post("/report/")
def report_build(request: Request, day: Day = ""):
    """Build the report of `day` (the latest day when empty) into the library, then show it."""
    state = request.app.state.dailies
    with _building:
        try:
            build_stored(state.reader(), day or None, state.settings.proxies.font, state.settings.report.day_start_hour)
        except UsageError as exc:
            raise HTTPException(400, str(exc)) from None
    return RedirectResponse("/report/" + _query(day), status_code=303)


@router.get("/report/{name:path}")
def report_file(request: Request, name: str, day: Day = ""):
    _key, folder = _folder(request, day)
    if folder is None or name not in _listed(request, folder):
        raise HTTPException(404, "not a file of the current report; open /report/ again")
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        raise HTTPException(404, "not a file of the current report; open /report/ again")
    return FileResponse(path, headers={"content-security-policy": REPORT_CSP})
