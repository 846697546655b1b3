"""`dailies take list|set|import-ale`: scene/take/camera/roll/circled/notes of each clip."""

from __future__ import annotations

from pipeline.cli.common import emit, library_of

EXAMPLES = """examples:
  dailies take list --scene 12A
  dailies take set A001C003 --scene 12A --take 3 --circled --notes "best performance"
  dailies take set A001C004 --no-circled
  dailies take import-ale day01_script.ale --json
"""


def _line(t) -> str:
    mark = "(O)" if t.circled else "   "
    return (
        f"{mark} sc {t.scene or '-':5s} tk {t.take or '-':3s} cam {t.camera or '-':2s} roll {t.roll or '-':6s} "
        f"{t.name}" + (f"  -- {t.notes}" if t.notes else "")
    )


def run(args) -> int:
    from pipeline.catalog import open_catalog
    from pipeline.editorial.ale import import_ale
    from pipeline.editorial.ingested import missing, warnings
    from pipeline.editorial.takes import list_takes, set_take

    catalog = open_catalog(library_of(args), create=False)
    try:
        if args.action == "set":
            t = set_take(
                catalog,
                args.clip,
                scene=args.scene,
                take=args.take,
                setup=args.setup,
                camera=args.camera,
                roll=args.roll,
                circled=args.circled,
                notes=args.notes,
            )
            emit(args, t.to_json(), _line(t))
            return 0
        if args.action == "import-ale":
            result = import_ale(catalog, args.clip)
            name = result["file"]
            problems = [
                (n, f"{name} line {n}: no clip named {clip!r} in the library (skipped)")
                for n, clip in result["unmatched"]
            ]
            problems += [(n, f"{name} line {n}: {msg}; fix it and import again") for n, msg in result["bad"]]
            lines = [f"{len(result['applied'])} of {result['rows']} row(s) applied from {name}"]
            lines += [m for _n, m in sorted(problems)]
            emit(args, result, "\n".join(lines))
            return 1 if result["bad"] or result["unmatched"] or not result["applied"] else 0
        takes = list_takes(catalog, args.scene)
        gaps = missing(catalog, ("takes",))  # clips ingested before the takes stage: no scene/take from names
        data = {"takes": [t.to_json() for t in takes], **({"missing_stages": gaps} if gaps else {})}
        lines = [f"warning: {w}" for w in warnings(gaps)] + [_line(t) for t in takes]
        emit(args, data, "\n".join(lines) or "no takes")
        return 0
    finally:
        catalog.close()


def register(sub, common) -> None:
    import argparse

    p = sub.add_parser(
        "take",
        parents=[common],
        help="takes: scene, take, camera, roll, circled, notes",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", choices=["list", "set", "import-ale"])
    p.add_argument("clip", nargs="?", help="set: clip id, path or file name; import-ale: the ALE file")
    p.add_argument("--scene")
    p.add_argument("--take")
    p.add_argument("--setup")
    p.add_argument("--camera")
    p.add_argument("--roll")
    p.add_argument("--circled", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--notes")
    p.set_defaults(func=_checked)


def _checked(args) -> int:
    from pipeline.errors import UsageError

    if args.action in ("set", "import-ale") and not args.clip:
        raise UsageError(f"dailies take {args.action}: give a {'clip' if args.action == 'set' else 'ALE file'}")
    return run(args)
