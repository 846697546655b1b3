"""Server-side pages: the Jinja2 environment (autoescaped) and `render`, which every route uses."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).resolve().parent


def _tc_filter(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return ""
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}" if s < 3600 else f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = _tc_filter
    env.filters["basename"] = lambda p: Path(p).name if p else ""
    env.filters["json"] = lambda v: json.dumps(v, separators=(",", ":"))
    return Jinja2Templates(env=env)


def render(request: Request, template: str, context: dict, status: int = 200) -> HTMLResponse:
    """Render a page with what every page needs (CSRF token, library path, active tab)."""
    app = request.app
    base = {
        "request": request,
        "csrf": app.state.guard.csrf,
        "library": str(app.state.dailies.root),
        "page": template.removesuffix(".html"),
    }
    return app.state.templates.TemplateResponse(request, template, {**base, **context}, status_code=status)
