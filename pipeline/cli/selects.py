"""`dailies selects [--scene S] [--query TEXT]` and `dailies selects pin|reject|clear CLIP`."""

from __future__ import annotations

import argparse

from pipeline.cli.common import emit, library_of, settings_of

EXAMPLES = """examples:
  dailies selects --scene 12A                     # ranked takes per setup, with the reasons
  dailies selects --query "woman at the window" --json
  dailies selects pin A001C004 --note "director's pick"
  dailies selects reject A001C002
  dailies selects clear A001C002                   # back to Dailies' proposal
"""


def query_clip_ids(catalog, settings, text: str, device: str | None) -> tuple[set[int], str | None]:
    """Clips with a search hit for `text`, and a warning when the model is not semantic."""
    from models.clip import OpenClipEmbedder
    from pipeline.search import NOT_SEMANTIC, library_model, search

    preset = library_model(catalog)
    hits = search(
        catalog,
        OpenClipEmbedder(preset, device=device or settings.embed.device),
        text,
        limit=settings.search.limit,
        oversample=settings.search.oversample,
        index_settings=settings.index,
    )
    return {h.clip_id for h in hits}, (None if preset.semantic else NOT_SEMANTIC.format(name=preset.name))


def run(args) -> int:
    from pipeline.catalog import open_catalog
    from pipeline.editorial.ingested import missing, warnings
    from pipeline.editorial.selects import propose, set_override
    from pipeline.errors import UsageError

    settings = settings_of(args)
    catalog = open_catalog(library_of(args), create=False)
    try:
        if args.action:
            if not args.clip:
                raise UsageError(f"dailies selects {args.action} CLIP")
            out = set_override(catalog, args.clip, None if args.action == "clear" else args.action, args.note)
            emit(args, out, f"{args.action}: {out['clip']}")
            return 0
        clip_ids, warning = query_clip_ids(catalog, settings, args.query, None) if args.query else (None, None)
        setups = propose(catalog, settings, args.scene, clip_ids)
        gaps = missing(catalog)  # clips ingested before takes and measure were stages of the ingest
    finally:
        catalog.close()
    data = {
        "scene": args.scene,
        "query": args.query,
        "setups": [{"setup": k, "takes": [p.to_json() for p in v]} for k, v in setups.items()],
    }
    lines = [f"warning: {warning}"] if warning else []
    if warning:
        data["warning"] = warning
    if gaps:
        data["missing_stages"] = gaps
        lines += [f"warning: {w}" for w in warnings(gaps)]
    for name, ps in setups.items():
        lines.append(f"setup {name}:")
        for p in ps:
            flag = {"pin": " [pinned]", "reject": " [rejected]"}.get(p.override or "", "")
            lines.append(f"  {p.rank}. {p.name}  tk {p.take or '-'}  {p.score:.2f}{flag}  {p.explanation}")
    emit(args, data, "\n".join(lines) or "no takes")
    return 0


def register(sub, common) -> None:
    p = sub.add_parser(
        "selects",
        parents=[common],
        help="proposed selects per setup, with reasons; editor overrides",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", nargs="?", choices=["pin", "reject", "clear"])
    p.add_argument("clip", nargs="?")
    p.add_argument("--scene")
    p.add_argument("--query", help="only setups with a search hit for this text (siblings included)")
    p.add_argument("--note", help="pin/reject: the editor's reason")
    p.set_defaults(func=run)
