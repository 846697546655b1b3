"""The morning report (`/report/`): issue 4's `build_report` written into a folder the server owns,
served as it is (a self-contained page with its own inline stylesheet, no script).

Only the files that build wrote are served, looked up by their name in the report: no other path
from the request is ever opened.
"""

from __future__ import annotations

import re
import tempfile
import threading
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi import Query as Q
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from pipeline.report.build import build_report

router = APIRouter()
Day = Annotated[str, Q(pattern=r"^(\d{4}-\d{2}-\d{2}|all)?$")]
# the report carries its stylesheet inline and loads only its own images
REPORT_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"
_lock = threading.Lock()


def _report_dir(state) -> Path:
    if state.report_dir is None:
        state.report_dir = tempfile.TemporaryDirectory(prefix="dailies-report-")
    return Path(state.report_dir.name)


@router.get("/report")
def report_redirect(day: Day = ""):
    return RedirectResponse("/report/" + (f"?day={day}" if day else ""), status_code=303)


@router.get("/report/")
def report_page(request: Request, day: Day = ""):
    state = request.app.state.dailies
    out = _report_dir(state) / (day or "latest")
    with _lock:
        data = build_report(
            state.reader(), out, day or None, state.settings.proxies.font, state.settings.report.day_start_hour
        )
        files = {"report.json": out / "report.json"}
        for c in data["clips"]:
            for item in c.get("strip", []):
                files[item["src"]] = out / item["src"]
            if c.get("contact_sheet"):
                files[c["contact_sheet"]] = out / c["contact_sheet"]
        state.report_files.update({(day or "latest", k): v for k, v in files.items()})
        html = (out / "report.html").read_text(encoding="utf-8")
    if day:  # keep the day on the page's relative links
        html = re.sub(r'(src|href)="((?:img|contact)/[^"?]+|report\.json)"', rf'\1="\2?day={day}"', html)
    return HTMLResponse(html, headers={"content-security-policy": REPORT_CSP, "cache-control": "no-store"})


@router.get("/report/{name:path}")
def report_file(request: Request, name: str, day: Day = ""):
    path = request.app.state.dailies.report_files.get((day or "latest", name))
    if path is None or not path.is_file():
        raise HTTPException(404, "not a file of the current report; open /report/ again")
    return FileResponse(path, headers={"content-security-policy": REPORT_CSP})
