"""`create_app(library, settings, host, token)`: the FastAPI application behind `dailies serve`.

Pages are rendered on the server (Jinja2, autoescaped); static/ holds one stylesheet and a few plain
scripts (no build step). Nothing is loaded at import; the model loads on the first query that needs it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.catalog import open_catalog
from pipeline.config import Settings
from pipeline.errors import UsageError
from pipeline.web.render import HERE, make_templates, render
from pipeline.web.security import Guard, GuardMiddleware, check_csrf
from pipeline.web.state import WebState

API_PREFIXES = ("/api/", "/media/")


def create_app(
    library: str | Path,
    settings: Settings,
    host: str = "127.0.0.1",
    token: str | None = None,
    embedder_factory: Callable | None = None,
) -> FastAPI:
    """The web app over one library. A non-loopback `host` needs a `token` (UsageError otherwise)."""
    guard = Guard(host=host, token=token or None, max_body=settings.web.max_upload_mb * 2**20 + 64 * 1024)
    if not guard.loopback and not guard.token:
        raise UsageError(
            f"--host {host} makes the UI reachable from other machines: it needs a token (--token or DAILIES_WEB_TOKEN)"
        )
    open_catalog(library, create=False).close()  # migrates once; requests then read query-only
    state = WebState(Path(library), settings, embedder_factory)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        state.close()

    app = FastAPI(
        title="Dailies",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        dependencies=[Depends(check_csrf)],
    )
    app.state.dailies = state
    app.state.guard = guard
    app.state.templates = make_templates()
    app.add_middleware(GuardMiddleware, guard=guard)
    app.mount("/static", StaticFiles(directory=HERE / "static", html=False), name="static")

    from pipeline.web.routes import edits, export, media, report, search, selects, shots
    from pipeline.web.routes import library as library_routes

    for module in (search, shots, edits, selects, export, library_routes, report, media):
        app.include_router(module.router)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():  # pages that are not ours (the morning report) make the browser ask for it
        return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        where = ", ".join(
            ".".join(str(p) for p in e.get("loc", ())[1:]) + ": " + e.get("msg", "") for e in exc.errors()
        )
        return await http_error(
            request,
            StarletteHTTPException(404 if request.url.path.startswith("/media/") else 400, f"bad request ({where})"),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": detail}, status_code=exc.status_code, headers=exc.headers)
        if request.url.path.startswith(("/media/", "/static/")):
            return PlainTextResponse(detail, status_code=exc.status_code, headers=exc.headers)
        return render(request, "error.html", {"status": exc.status_code, "message": detail}, exc.status_code)

    return app
