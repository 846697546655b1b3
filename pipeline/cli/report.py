"""`dailies report [--day DATE|all] [--out DIR]`: the morning report (HTML + JSON + contact sheets)."""

from __future__ import annotations

import argparse

EXAMPLES = """examples:
  dailies report                                   # the latest day, into the library (the web UI's /report/)
  dailies report --day all                         # every clip
  dailies report --day 2026-11-26 --out /mnt/show/reports/day12
"""


def register(sub, common) -> None:
    p = sub.add_parser(
        "report",
        parents=[common],
        help="morning report: HTML page + JSON + contact sheets",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--day",
        metavar="YYYY-MM-DD|all",
        help="clips first catalogued on this dailies day (local time, from [report] day_start_hour, "
        "default noon, to the same hour the next day); default the latest day; 'all' for every clip",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="folder for report.html, report.json, images (default LIBRARY/reports/DAY, which the web UI serves)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from pipeline.catalog import open_reader
    from pipeline.cli.common import emit, library_of, settings_of
    from pipeline.report.build import build_report
    from pipeline.report.store import build_stored, check_day

    check_day(args.day)
    settings = settings_of(args)
    font, hour = settings.proxies.font, settings.report.day_start_hour
    catalog = open_reader(library_of(args))  # the report reads the catalog, never writes it
    try:
        if args.out:
            out = Path(args.out).resolve()
            data = build_report(catalog, out, args.day, font, hour)
        else:
            out, data = build_stored(catalog, args.day, font, hour)
    finally:
        catalog.close()
    t = data["totals"]
    human = [
        f"report for {data['day']}: {t['clips']} clip(s), {t['failed']} failed, {len(data['warnings'])} warning(s)"
        f" -> {out / 'report.html'}"
    ]
    # build_report keeps the path out of each message (the report shows it in a column of its own)
    human += [f"failure: {f.get('clip') or f.get('card')}: {f['message']}" for f in data["failures"]]
    emit(args, {"out": str(out), "html": "report.html", "json": "report.json", **data}, "\n".join(human))
    return 1 if data["failures"] else 0
