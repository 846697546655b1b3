"""`dailies report [--day DATE|all] --out DIR`: the morning report (HTML + JSON + contact sheets)."""

from __future__ import annotations

import re


def register(sub, common) -> None:
    p = sub.add_parser(
        "report",
        parents=[common],
        help="morning report: HTML page + JSON + contact sheets",
        epilog="example: dailies report --day 2026-11-26 --out /mnt/show/reports/day12",
    )
    p.add_argument(
        "--day",
        metavar="YYYY-MM-DD|all",
        help="clips first catalogued on this dailies day (local time, from [report] day_start_hour, "
        "default noon, to the same hour the next day); default the latest day; 'all' for every clip",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder for report.html, report.json, images")
    p.set_defaults(func=run)


def _is_date(text: str) -> bool:
    """YYYY-MM-DD naming a real day (2026-13-45 is not one)."""
    from datetime import date

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def run(args) -> int:
    from pathlib import Path

    from pipeline.catalog import open_catalog
    from pipeline.cli.common import emit, library_of, settings_of
    from pipeline.errors import UsageError
    from pipeline.report.build import build_report

    if args.day and args.day != "all" and not _is_date(args.day):
        raise UsageError(f"--day {args.day}: give a date as YYYY-MM-DD (e.g. 2026-11-26), or 'all'")
    settings = settings_of(args)
    catalog = open_catalog(library_of(args), create=False)
    try:
        data = build_report(catalog, Path(args.out), args.day, settings.proxies.font, settings.report.day_start_hour)
    finally:
        catalog.close()
    t = data["totals"]
    human = [
        f"report for {data['day']}: {t['clips']} clip(s), {t['failed']} failed, {len(data['warnings'])} warning(s)"
        f" -> {Path(args.out).resolve() / 'report.html'}"
    ]
    # build_report keeps the path out of each message (the report shows it in a column of its own)
    human += [f"failure: {f.get('clip') or f.get('card')}: {f['message']}" for f in data["failures"]]
    emit(
        args,
        {"out": str(Path(args.out).resolve()), "html": "report.html", "json": "report.json", **data},
        "\n".join(human),
    )
    return 1 if data["failures"] else 0
