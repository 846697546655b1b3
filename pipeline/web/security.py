"""The server's guard: Host check, access token, request-size limit, CSRF, security headers.

- Bound to a loopback address, only `localhost`/`127.0.0.1`/`[::1]` Host headers are served (a web
  page elsewhere cannot reach the UI through DNS rebinding).
- With a token (required for any other address), every request carries it: a cookie set after the
  first visit of `/?token=...`, or `Authorization: Bearer TOKEN` for scripts.
- Every state-changing request (POST, PUT, PATCH, DELETE) carries the per-process CSRF token (form
  field `csrf` or header `X-CSRF-Token`) and, when the browser sends one, an Origin of this server.
- Request bodies over the upload limit are refused with 413 before they are read.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import HTTPException, Request

TOKEN_COOKIE = "dailies_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self'; script-src 'self'; style-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class Guard:
    host: str
    token: str | None
    max_body: int
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def host_allowed(self, host_header: str) -> bool:
        if not self.loopback:
            return True  # a LAN server is reached under names we cannot know; the token protects it
        name = urlsplit(f"//{host_header}").hostname or ""
        return name in LOOPBACK_NAMES

    def token_ok(self, given: str | None) -> bool:
        return self.token is None or (given is not None and hmac.compare_digest(given.encode(), self.token.encode()))


class _TooLarge(HTTPException):
    """Raised while the body is read; an HTTPException so that FastAPI's body parsing passes it on as 413."""

    def __init__(self, limit: int):
        super().__init__(413, f"request too large: uploads are limited to {limit // 2**20} MiB")


def _header(scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", []):
        if k == name:
            return v.decode("latin-1")
    return None


async def _plain(send, status: int, text: str, extra: list | None = None) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *HEADERS,
                *(extra or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    """Pure ASGI middleware applying `Guard` to every HTTP request."""

    def __init__(self, app, guard: Guard):
        self.app = app
        self.guard = guard

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        g = self.guard
        if not g.host_allowed(_header(scope, b"host") or ""):
            return await _plain(send, 400, "unexpected Host header: open the UI as http://127.0.0.1:PORT/")
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if g.token is not None:
            cookie = SimpleCookie(_header(scope, b"cookie") or "")
            auth = _header(scope, b"authorization") or ""
            given = (cookie[TOKEN_COOKIE].value if TOKEN_COOKIE in cookie else None) or (
                auth[7:] if auth.lower().startswith("bearer ") else None
            )
            if not g.token_ok(given):
                if scope["method"] == "GET" and g.token_ok(query.get("token")):
                    rest = urlencode(
                        [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode()) if k != "token"]
                    )
                    location = scope["path"] + (f"?{rest}" if rest else "")
                    cookie_value = f"{TOKEN_COOKIE}={g.token}; HttpOnly; SameSite=Strict; Path=/"
                    return await _plain(
                        send,
                        303,
                        "token accepted",
                        [(b"location", location.encode()), (b"set-cookie", cookie_value.encode())],
                    )
                return await _plain(
                    send,
                    401,
                    "this Dailies server needs its access token: open the URL that "
                    "`dailies serve` printed (it ends in ?token=...)",
                )
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > g.max_body:
            return await _plain(send, 413, f"request too large: uploads are limited to {g.max_body // 2**20} MiB")
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > g.max_body:
                    raise _TooLarge(g.max_body)
            return message

        async def secured_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                have = {k.lower() for k, _ in message.get("headers", [])}
                message = {
                    **message,
                    "headers": [*message.get("headers", []), *(h for h in HEADERS if h[0] not in have)],
                }
            await send(message)

        try:
            await self.app(scope, limited_receive, secured_send)
        except _TooLarge:
            if not started:
                await _plain(send, 413, f"request too large: uploads are limited to {g.max_body // 2**20} MiB")


async def check_csrf(request: Request) -> None:
    """App-wide dependency: state-changing requests must carry the CSRF token and a same-origin Origin."""
    if request.method in SAFE_METHODS:
        return
    guard: Guard = request.app.state.guard
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise HTTPException(403, "cross-origin request refused")
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("multipart/form-data", "application/x-www-form-urlencoded")
    ):
        form = await request.form()
        value = form.get("csrf")
        given = value if isinstance(value, str) else None
    if given is None or not hmac.compare_digest(given.encode(), guard.csrf.encode()):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
