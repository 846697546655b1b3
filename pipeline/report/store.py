"""Morning reports kept in the library (`LIBRARY/reports/DAY/`), where the web UI's `/report/` finds them.

`dailies report` without `--out`, and the Build button of `/report/`, write one here; reading a report
never builds one. A rebuild is written beside the old report and swapped in, so a reader sees the old
report or the new one, never half of one.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from datetime import date
from pathlib import Path

from pipeline.catalog import Catalog
from pipeline.errors import UsageError
from pipeline.report.build import build_report
from pipeline.report.data import report_day

REPORTS_DIR = "reports"


def check_day(day: str | None) -> None:
    """UsageError unless `day` is None (the latest day), 'all', or YYYY-MM-DD naming a real day."""
    if day is None or day == "all":
        return
    ok = re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) is not None
    if ok:
        try:
            date.fromisoformat(day)
        except ValueError:
            ok = False
    if not ok:
        raise UsageError(f"--day {day}: give a date as YYYY-MM-DD (e.g. 2026-11-26), or 'all'")


def stored_report(root: Path, day: str) -> Path:
    """The folder of the library's report of `day` (YYYY-MM-DD or 'all'); it may not exist."""
    check_day(day)
    return Path(root) / REPORTS_DIR / day


def built_days(root: Path) -> list[str]:
    """The days the library has a report of, newest first ('all' last)."""
    folder = Path(root) / REPORTS_DIR
    if not folder.is_dir():
        return []
    days = [p.name for p in folder.iterdir() if (p / "report.html").is_file() and not p.name.startswith(".")]
    return sorted((d for d in days if d != "all"), reverse=True) + (["all"] if "all" in days else [])


def build_stored(catalog: Catalog, day: str | None, font: str, day_start_hour: int) -> tuple[Path, dict]:
    """Build the report of `day` (None: the latest day) into the library; (its folder, its data)."""
    check_day(day)
    day = report_day(catalog, day, day_start_hour)
    if day is None:
        raise UsageError(f"the library at {catalog.root} has no clips yet: nothing to report; run `dailies ingest`")
    final = stored_report(catalog.root, day)
    final.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{day}.new-", dir=final.parent))
    try:
        fresh.chmod(0o755)
        data = build_report(catalog, fresh, day, font, day_start_hour)
        old = None
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{day}.old-", dir=final.parent))
            final.rename(old / day)
        fresh.rename(final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return final, data
