"""`dailies tag add|remove|list|auto`: manual tags on takes and shots; automatic tags with score and reason."""

from __future__ import annotations

import argparse

from pipeline.cli.common import emit, library_of, settings_of

EXAMPLES = """examples:
  dailies tag add A001C003 "great light"            # on the take
  dailies tag add A001C003 CU --shot 2               # on shot 2 of the take
  dailies tag remove A001C003 "great light"
  dailies tag list A001C003 --json
  dailies tag auto                                    # automatic tags from the ingest's measurements
  dailies tag import-edl cut_v3.edl --tag "in cut v3" # tag every shot the editor's cut uses
"""


def library_embedder(catalog, device: str):
    """The library's model preset and, when it is semantic, an embedder for CLIP prompts."""
    from models.clip import OpenClipEmbedder
    from pipeline.search import library_model

    if not catalog.meta_get("model"):
        return None, None
    preset = library_model(catalog)
    return preset, (OpenClipEmbedder(preset, device=device) if preset.semantic else None)


def run(args) -> int:
    from pipeline.catalog import open_catalog, open_reader
    from pipeline.editorial.ingested import warnings
    from pipeline.editorial.tags import add_tag, auto_tag, list_tags, remove_tag
    from pipeline.errors import UsageError

    settings = settings_of(args)
    if args.action == "list":  # a reader: never migrates, never writes
        catalog = open_reader(library_of(args))
    else:
        catalog = open_catalog(library_of(args), create=False)
    try:
        if args.action in ("add", "remove"):
            if not (args.clip and args.tag):
                raise UsageError(f"dailies tag {args.action} CLIP TAG [--shot N]")
            if args.action == "add":
                out = add_tag(catalog, args.clip, args.tag, args.shot)
                emit(args, out, f"tagged {out['clip']}{'' if args.shot is None else f' shot {args.shot}'}: {args.tag}")
                return 0
            removed = remove_tag(catalog, args.clip, args.tag, args.shot)
            emit(args, {"removed": removed}, "removed" if removed else f"{args.clip} had no manual tag {args.tag!r}")
            return 0 if removed else 1
        if args.action == "import-edl":
            return _import_edl(args, catalog)
        if args.action == "auto":
            preset, embedder = library_embedder(catalog, settings.embed.device)
            report = auto_tag(catalog, settings.tags, embedder, preset)
            lines = [
                f"{report['clips']} clip(s) measured; tags: "
                + ", ".join(f"{k} x{v}" for k, v in sorted(report["tags"].items()))
            ]
            lines += [f"not produced: {n['group']}: {n['why']}" for n in report["not_produced"]]
            lines += [f"warning: {w}" for w in warnings(report["missing_stages"])]
            emit(args, report, "\n".join(lines))
            return 0
        rows = list_tags(catalog, args.clip)
        human = "\n".join(
            f"{r['clip'].rsplit('/', 1)[-1]}{_shot(r)}"
            f"  {r['kind']:6s} {r['tag']}" + (f" {r['score']:.2f} -- {r['reason']}" if r["kind"] == "auto" else "")
            for r in rows
        )
        emit(args, {"tags": rows}, human or "no tags")
        return 0
    finally:
        catalog.close()


def register(sub, common) -> None:
    p = sub.add_parser(
        "tag",
        parents=[common],
        help="manual and automatic tags on takes and shots",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", choices=["add", "remove", "list", "auto", "import-edl"])
    p.add_argument("clip", nargs="?", help="clip id, path or file name (import-edl: the EDL file)")
    p.add_argument("tag", nargs="?", help="the tag (import-edl: default 'in-cut')")
    p.add_argument("--shot", type=int, help="shot index within the clip (default: the whole take)")
    p.add_argument("--fps", help="import-edl: the cut's frame rate (default: the library's, when it has one)")
    p.set_defaults(func=run)


def _shot(r) -> str:
    return "" if r["shot"] is None else f" shot {r['shot']}"


def _import_edl(args, catalog) -> int:
    """Tag the shots an editor's EDL uses; exit 1 when some events match no take or some lines could not be
    read (each one listed); the other events are applied."""
    from pipeline.editorial.cut import tag_cut
    from pipeline.errors import UsageError

    if not args.clip:
        raise UsageError("dailies tag import-edl CUT.edl [TAG] [--fps RATE]")
    out = tag_cut(catalog, args.clip, args.tag or "in-cut", args.fps)
    lines = [
        f"{out['edl']}: {out['matched']} of {len(out['events'])} video event(s) matched, "
        f"{out['shots_tagged']} shot(s) tagged {out['tag']!r} (read at {out['fps']} fps)"
    ]
    lines += [f"not read: {u}" for u in out["unread"]]
    lines += [f"not matched: {e['problem']}" for e in out["events"] if e["problem"]]
    lines += [f"note: event {e['event']}: {n}" for e in out["events"] if e["clip"] for n in e["notes"]]
    emit(args, out, "\n".join(lines))
    return 1 if out["unmatched"] or out["unread"] else 0
