"""`dailies models`: model presets and whether their weights are on this machine."""

from __future__ import annotations

from pipeline.cli.common import emit, settings_of
from pipeline.config import env_allow_download
from pipeline.errors import UsageError


def run(args) -> int:
    from models.clip import availability
    from pipeline.embed import list_presets, resolve_model

    settings = settings_of(args)
    allow = settings.embed.allow_download or env_allow_download()
    if args.action == "fetch":
        if not args.name:
            raise UsageError("dailies models fetch NAME: give a preset name")
        from models.clip import OpenClipEmbedder

        preset = resolve_model(args.name)
        OpenClipEmbedder(preset, device="cpu", allow_download=True).load()
        emit(args, {"fetched": preset.name, "identity": preset.identity}, f"{preset.name}: weights are in the cache")
        return 0
    rows = []
    for p in list_presets():
        usable, why = availability(p, allow)
        rows.append({**p.to_json(), "usable": usable, "reason": why, "default": p.name == settings.embed.model})
    human = "\n".join(
        f"{'*' if r['default'] else ' '} {r['name']:18s} {'usable' if r['usable'] else 'missing':8s} "
        f"{r['reason']}  -- {r['description']}"
        for r in rows
    )
    emit(args, {"presets": rows}, human)
    return 0


def register(sub, common) -> None:
    p = sub.add_parser(
        "models",
        parents=[common],
        help="model presets and whether their weights are here",
        epilog="examples: dailies models --json; dailies models fetch vit-b-32 (on a connected machine)",
    )
    p.add_argument("action", nargs="?", choices=["list", "fetch"], default="list")
    p.add_argument("name", nargs="?")
    p.set_defaults(func=run)
