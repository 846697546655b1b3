"""`dailies serve`: the web UI over a library (search, shots with a player, library status)."""

from __future__ import annotations

import json
import secrets
import socket
import sys

from pipeline.config import env
from pipeline.errors import UsageError


def run(args) -> int:
    import uvicorn

    from pipeline.cli.common import library_of, settings_of
    from pipeline.web.app import create_app
    from pipeline.web.security import is_loopback

    settings = settings_of(args)
    host = args.host or settings.web.host
    port = args.port if args.port is not None else settings.web.port
    if not 0 < port < 65536:
        raise UsageError(f"--port {port}: give a port between 1 and 65535")
    token = args.token or env("DAILIES_WEB_TOKEN") or None
    if not is_loopback(host) and not token:
        token = secrets.token_urlsafe(24)
    app = create_app(library_of(args), settings, host=host, token=token)
    shown = "localhost" if is_loopback(host) else socket.getfqdn() if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    if args.json:
        print(json.dumps({"url": url, "library": str(library_of(args)), "host": host, "port": port}), flush=True)
    else:
        print(f"Dailies is serving {library_of(args)} at {url}", file=sys.stderr)
        if not is_loopback(host):
            print("  reachable from other machines: share the URL with its token only with your team", file=sys.stderr)
        print("  Ctrl-C stops the server", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="info" if args.verbose else "warning", access_log=args.verbose)
    return 0


def register(sub, common) -> None:
    p = sub.add_parser(
        "serve",
        parents=[common],
        help="web UI: search, browse, play at timecode",
        epilog="examples:\n  dailies serve                      # http://localhost:8765/ on this machine only\n"
        "  dailies serve --library /mnt/show/dailies-library --port 9000\n"
        "  dailies serve --host 0.0.0.0       # on the LAN: prints a URL with an access token",
        formatter_class=__import__("argparse").RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", help="address to bind (default 127.0.0.1; any other address requires a token)")
    p.add_argument("--port", type=int, help="port (default 8765)")
    p.add_argument("--token", help="access token (env DAILIES_WEB_TOKEN); generated when --host is not loopback")
    p.set_defaults(func=run)
