"""`create_app(library, settings, host, token)`: the FastAPI application behind `dailies serve`.

Pages are rendered on the server (Jinja2, autoescaped); static/ holds one stylesheet and a few plain
scripts (no build step). Nothing is loaded at import; the model loads on the first query that needs it.
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
from typing import Callable

import jinja2
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..catalog import open_catalog
from ..config import Settings
from ..errors import UsageError
from ..takes import takes_from_names
from .security import Guard, GuardMiddleware, check_csrf
from .state import WebState

HERE = Path(__file__).resolve().parent
API_PREFIXES = ("/api/", "/media/")


def _tc_filter(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return ""
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}" if s < 3600 else f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["duration"] = _tc_filter
    env.filters["basename"] = lambda p: Path(p).name if p else ""
    env.filters["json"] = lambda v: json.dumps(v, separators=(",", ":"))
    return Jinja2Templates(env=env)


def create_app(library: str | Path, settings: Settings, host: str = "127.0.0.1", token: str | None = None,
               embedder_factory: Callable | None = None) -> FastAPI:
    """The web app over one library. A non-loopback `host` needs a `token` (UsageError otherwise)."""
    guard = Guard(host=host, token=token or None, max_body=settings.web.max_upload_mb * 2**20 + 64 * 1024)
    if not guard.loopback and not guard.token:
        raise UsageError(f"--host {host} makes the UI reachable from other machines: it needs a token "
                         f"(--token or DAILIES_WEB_TOKEN)")
    catalog = open_catalog(library, create=False)  # migrates once; requests then read query-only
    try:
        takes_from_names(catalog, settings.takes.patterns)  # scene/take/camera from file names, as the CLI does
    finally:
        catalog.close()
    state = WebState(Path(library), settings, embedder_factory)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        state.close()

    app = FastAPI(title="Dailies", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan,
                  dependencies=[Depends(check_csrf)])
    app.state.dailies = state
    app.state.guard = guard
    app.state.templates = make_templates()
    app.add_middleware(GuardMiddleware, guard=guard)
    app.mount("/static", StaticFiles(directory=HERE / "static", html=False), name="static")

    from .routes import edits, export, media, report, search, selects, shots
    from .routes import library as library_routes

    for module in (search, shots, edits, selects, export, library_routes, report, media):
        app.include_router(module.router)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():  # pages that are not ours (the morning report) make the browser ask for it
        return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        where = ", ".join(".".join(str(p) for p in e.get("loc", ())[1:]) + ": " + e.get("msg", "") for e in exc.errors())
        return await http_error(request, StarletteHTTPException(404 if request.url.path.startswith("/media/") else 400,
                                                                f"bad request ({where})"))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": detail}, status_code=exc.status_code, headers=exc.headers)
        if request.url.path.startswith(("/media/", "/static/")):
            return PlainTextResponse(detail, status_code=exc.status_code, headers=exc.headers)
        return render(request, "error.html", {"status": exc.status_code, "message": detail}, exc.status_code)

    return app


def render(request: Request, template: str, context: dict, status: int = 200) -> HTMLResponse:
    """Render a page with what every page needs (CSRF token, library path, active tab)."""
    app = request.app
    base = {"request": request, "csrf": app.state.guard.csrf, "library": str(app.state.dailies.root),
            "page": template.removesuffix(".html")}
    return app.state.templates.TemplateResponse(request, template, {**base, **context}, status_code=status)
