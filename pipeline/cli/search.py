"""`dailies search`: shots by text or by an example image."""

from __future__ import annotations

from pathlib import Path

from pipeline.cli.common import emit, library_of, settings_of
from pipeline.config import choices_of
from pipeline.errors import UsageError


def run(args) -> int:
    from models.clip import OpenClipEmbedder
    from pipeline.catalog import open_catalog
    from pipeline.embed import resolve_model
    from pipeline.search import NOT_SEMANTIC, library_model, search

    if (args.query is None) == (args.image is None):
        raise UsageError("give a text query or --image FILE (one of the two)")
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit {args.limit}: give the number of shots to list (1 or more)")
    settings = settings_of(args)
    catalog = open_catalog(library_of(args), create=False)
    try:
        preset = resolve_model(args.model) if args.model else library_model(catalog)
        embedder = OpenClipEmbedder(preset, device=args.device or settings.embed.device)
        hits = search(
            catalog,
            embedder,
            args.query,
            args.image,
            args.limit or settings.search.limit,
            settings.search.oversample,
            settings.index,
        )
    finally:
        catalog.close()
    data = {
        "query": args.query if args.query is not None else {"image": str(args.image)},
        "model": preset.identity,
        "semantic": preset.semantic,
        "hits": [h.to_json() for h in hits],
    }
    lines = []
    if not preset.semantic:
        data["warning"] = NOT_SEMANTIC.format(name=preset.name)
        lines.append(f"warning: {data['warning']}")
    for h in hits:
        lines.append(
            f"{h.rank:3d}. {h.score:+.3f}  {Path(h.clip).name}  shot {h.shot}  {h.start_tc}-{h.end_tc}"
            f"  frames {h.start_frame}-{h.end_frame}  {h.thumbnail}"
        )
    if not hits:
        lines.append("no results: the library has no embedded keyframes for this model")
    emit(args, data, "\n".join(lines))
    return 0


def register(sub, common) -> None:
    p = sub.add_parser(
        "search",
        parents=[common],
        help="find shots by text or by an example image",
        epilog='examples: dailies search "night exterior, car headlights"; dailies search --image frame.jpg',
    )
    p.add_argument("query", nargs="?")
    p.add_argument("--image", metavar="FILE")
    p.add_argument("--limit", type=int)
    p.add_argument("--model", help="override the library's model (must have been ingested with it)")
    p.add_argument("--device", choices=choices_of("embed.device"))
    p.set_defaults(func=run)
