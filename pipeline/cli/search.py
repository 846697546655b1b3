"""`dailies search`: shots by text, by an example image or like a keyframe, narrowed by filters, a page at a time.

The same search as the web UI's (`pipeline.search`): the same filters, the same ranking and paging.
"""

from __future__ import annotations

import argparse
import re

from pipeline.cli.common import emit, library_of, settings_of
from pipeline.config import choices_of
from pipeline.errors import UsageError

EXAMPLES = """examples:
  dailies search "night exterior, car headlights"
  dailies search --image frame.jpg --limit 5 --json
  dailies search "woman laughing" --scene 12A --circled      # best matches among circled takes of 12A
  dailies search --scene 12A --reel A001 --day 2026-11-26    # no query: browse the matching shots in clip order
  dailies search --tag night --page 2                        # the next page (--limit shots per page)
  dailies search --like 4711                                 # shots like keyframe 4711 (an id from --json)

Filters narrow the shots before ranking, so a filtered search lists its best matches; every filter
given must match. They are the web UI's filters, with the same meaning.
"""


def _day(text: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise argparse.ArgumentTypeError(f"{text!r}: give the day as YYYY-MM-DD (e.g. 2026-11-26)")
    return text


def _scene(text: str) -> str:
    from pipeline.editorial.takes import normalize_scene

    return normalize_scene(text)


def _take(text: str) -> str:
    from pipeline.editorial.takes import normalize_take

    return normalize_take(text)


def query_of(args):
    """The `pipeline.search.Query` of the command line (UsageError when it asks for nothing or for two things)."""
    from pipeline.search import Query

    q = Query(
        text=args.query or "",
        image=args.image or "",
        like=args.like,
        day=args.day or "",
        reel=args.reel or "",
        clip=(args.clip or "").strip(),
        scene=args.scene or "",
        take=args.take or "",
        camera=args.camera or "",
        tag=args.tag or "",
        circled=args.circled,
        page=args.page,
    )
    asked = sum(bool(x) for x in (args.query, args.image)) + (args.like is not None)
    if asked > 1 or (asked == 0 and not q.filters()):
        raise UsageError(
            "give a text query or --image FILE (one of the two), or --like KEYFRAME; "
            "or only filters (--scene, --reel, --day, --tag, ...) to browse their shots"
        )
    return q


def _line(n: int, h) -> str:
    score = "      " if h.score is None else f"{h.score:+.3f}"
    take = " ".join(
        part
        for part in (
            f"sc {h.scene}" if h.scene else "",
            f"tk {h.take}" if h.take else "",
            f"cam {h.camera}" if h.camera else "",
            "(O)" if h.circled else "",
        )
        if part
    )
    return (
        f"{n:3d}. {score}  {h.clip_name}  shot {h.shot}  {h.start_tc}-{h.end_tc}"
        f"  frames {h.start_frame}-{h.end_frame}" + (f"  {take}" if take else "") + f"  {h.thumbnail or '-'}"
    )


def run(args) -> int:
    from pipeline.catalog import open_reader
    from pipeline.search import LibraryVectors, find

    q = query_of(args)
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit {args.limit}: give the number of shots to list (1 or more)")
    if args.page < 1:
        raise UsageError(f"--page {args.page}: pages start at 1")
    settings = settings_of(args)
    per_page = args.limit or settings.search.limit

    def make_embedder(preset):
        from models.clip import OpenClipEmbedder

        return OpenClipEmbedder(preset, device=args.device or settings.embed.device)

    catalog = open_reader(library_of(args))  # a reader: never migrates, never writes
    try:
        preset = None
        if args.model:
            from pipeline.embed import resolve_model

            preset = resolve_model(args.model)
        res = find(
            catalog,
            q,
            LibraryVectors(catalog, make_embedder, preset, settings.index),
            per_page,
            settings.search.oversample,
        )
    finally:
        catalog.close()
    data = {
        "query": {"text": q.text, "image": {"image": q.image}, "like": {"like": q.like}, "browse": None}[q.kind],
        "filters": q.filters(),
        "page": q.page,
        "has_more": res.has_more,
        "model": res.model,
        "semantic": res.semantic,
        "hits": [h.to_json() for h in res.hits],
    }
    lines = []
    if res.warning:
        data["warning"] = res.warning
        lines.append(f"warning: {res.warning}")
    first = (q.page - 1) * per_page + 1
    lines += [_line(n, h) for n, h in enumerate(res.hits, first)]
    if not res.hits:
        where = "" if q.page == 1 else f" on page {q.page}"
        if q.filters():
            shown = ", ".join(f"{k} {v}" if k != "circled" else "circled" for k, v in q.filters().items())
            lines.append(f"no results{where}: no shot matches {shown}")
        else:
            lines.append(f"no results{where}: the library has no embedded keyframes for this model")
    elif res.has_more:
        lines.append(f"more on page {q.page + 1} (--page {q.page + 1})")
    emit(args, data, "\n".join(lines))
    return 0


def register(sub, common) -> None:
    p = sub.add_parser(
        "search",
        parents=[common],
        help="find shots by text, an example image or filters",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("query", nargs="?", help="what the shot shows, in words")
    p.add_argument("--image", metavar="FILE", help="an example still (JPEG, PNG): shots that look like it")
    p.add_argument("--like", type=int, metavar="KEYFRAME", help="shots like this keyframe (its id, from --json)")
    f = p.add_argument_group("filters (every one given must match; without a query they browse in clip order)")
    f.add_argument(
        "--day",
        type=_day,
        metavar="YYYY-MM-DD",
        help="clips catalogued that day (the UTC date, as the web UI's day filter)",
    )
    f.add_argument("--reel", help="the clip's reel, e.g. A001")
    f.add_argument("--clip", metavar="TEXT", help="clips whose path contains TEXT (any case)")
    f.add_argument("--scene", type=_scene, help="the take's scene, e.g. 12A (012a is the same scene)")
    f.add_argument("--take", type=_take, help="the take number (3 and 03 are the same take)")
    f.add_argument("--camera", help="the take's camera letter, e.g. B")
    f.add_argument("--tag", help="shots with this tag (on the shot or its take)")
    f.add_argument("--circled", action="store_true", help="circled takes only")
    p.add_argument("--limit", type=int, metavar="N", help="shots per page (default [search] limit)")
    p.add_argument("--page", type=int, default=1, metavar="N", help="page N of the results (default 1)")
    p.add_argument("--model", help="override the library's model (must have been ingested with it)")
    p.add_argument("--device", choices=choices_of("embed.device"))
    p.set_defaults(func=run)
