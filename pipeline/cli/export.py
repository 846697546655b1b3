"""`dailies export selects|search|tags --format otio|edl|ale|xml|fcpxml -o FILE`."""

from __future__ import annotations

import argparse

from pipeline.cli.common import emit, library_of, settings_of
from pipeline.config import choices_of

EXAMPLES = """examples:
  dailies export selects --scene 12A -o sc12A_selects.edl          # format from the suffix
  dailies export selects --format ale -o day01.ale --per-setup 2
  dailies export search "car headlights at night" --format otio -o hits.otio
  dailies export tags --tag CU --format xml -o closeups.xml       # FCP 7 XML: Premiere, Resolve
  dailies export tags --tag CU -o closeups.fcpxml                 # FCPXML: Final Cut Pro X
  dailies export selects -o day01.edl --path-map /Volumes/RAID=/mnt/show --tape reel
"""


def run(args) -> int:
    from pipeline.catalog import open_catalog
    from pipeline.editorial.ingested import missing, warnings
    from pipeline.editorial.items import items_from_hits, items_from_selects, items_from_tags
    from pipeline.editorial.selects import propose
    from pipeline.errors import UsageError
    from pipeline.export import export_file, format_for, renamed

    settings = settings_of(args)
    fmt = format_for(args.format, args.output)
    catalog = open_catalog(library_of(args), create=False)
    warning = None
    try:
        # scene/take (every format carries them) and, for selects, the measurements come from the ingest
        gaps = missing(catalog, ("takes", "measure") if args.what == "selects" else ("takes",))
        if args.what == "selects":
            items = items_from_selects(catalog, propose(catalog, settings, args.scene), args.per_setup)
        elif args.what == "search":
            if not args.query:
                raise UsageError('dailies export search "TEXT" -o FILE: give the search text')
            from models.clip import OpenClipEmbedder
            from pipeline.search import NOT_SEMANTIC, library_model, search

            preset = library_model(catalog)
            hits = search(
                catalog,
                OpenClipEmbedder(preset, device=settings.embed.device),
                args.query,
                limit=args.limit or settings.search.limit,
                oversample=settings.search.oversample,
                index_settings=settings.index,
            )
            warning = None if preset.semantic else NOT_SEMANTIC.format(name=preset.name)
            items = items_from_hits(catalog, hits)
        else:
            items = items_from_tags(catalog, args.tag)
    finally:
        catalog.close()
    if not items:
        what = {
            "selects": "no take to propose"
            + (f" in scene {args.scene}" if args.scene else "")
            + " (every take rejected, or none ingested; `dailies selects` shows them)",
            "search": "the search found nothing",
            "tags": (f"no take or shot carries the tag {args.tag!r}" if args.tag else "no take or shot has a tag")
            + "; `dailies tag list` shows the tags",
        }[args.what]
        raise UsageError(f"nothing to export to {args.output}: {what}")
    written = settings.replace(
        "export",
        path_map=tuple(settings.export.path_map) + tuple(args.path_map) if args.path_map else None,
        tape=args.tape,
        record_start=args.record_start,
        edl_format=args.edl_format,
    ).export
    export_file(items, args.output, fmt, name=f"Dailies {args.what}", settings=written)
    data = {"format": fmt, "output": str(args.output), "events": len(items), "clips": [i.name for i in items]}
    if warning:
        data["warning"] = warning
    if gaps:
        data["missing_stages"] = gaps
    note = renamed(args.format, args.output)
    notes = ([warning] if warning else []) + warnings(gaps) + ([note] if note else [])
    if note:
        data["note"] = note
    emit(args, data, "".join(f"warning: {w}\n" for w in notes) + f"{len(items)} event(s) -> {args.output} ({fmt})")
    return 0


def register(sub, common) -> None:
    p = sub.add_parser(
        "export",
        parents=[common],
        help="selects, search hits or tagged shots to OTIO/EDL/ALE/FCP XML",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("what", choices=["selects", "search", "tags"])
    p.add_argument("query", nargs="?", help="search: the text")
    p.add_argument(
        "--format", help="otio, edl, ale, xml (FCP 7 XML), fcpxml (Final Cut Pro X); default from the -o suffix"
    )
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--scene")
    p.add_argument("--tag", help="tags: only shots with this tag")
    p.add_argument("--per-setup", type=int, default=1, help="selects: takes per setup (default 1)")
    p.add_argument("--limit", type=int, help="search: number of hits")
    p.add_argument(
        "--path-map",
        action="append",
        metavar="FROM=TO",
        help="write source paths under FROM as under TO (the edit bay's mount); repeatable; adds to [export] path_map",
    )
    p.add_argument(
        "--tape",
        choices=choices_of("export.tape"),
        help="tape/reel written: name (the camera file's name, as Avid) or reel (the roll); default [export] tape",
    )
    p.add_argument("--record-start", metavar="TC", help="record TC of the first event (default [export] record_start)")
    p.add_argument(
        "--edl-format",
        choices=choices_of("export.edl_format"),
        help="EDL layout: cmx3600 (8-character reels) or Avid's file32/file128 (default [export] edl_format)",
    )
    p.set_defaults(func=run)
