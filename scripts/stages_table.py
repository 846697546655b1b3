"""Print the README's stage table (markdown) from `pipeline.ingest.stages.STAGES`.

    python scripts/stages_table.py            # the table
    python scripts/stages_table.py --check    # exit 1 when README.md does not hold exactly this table

The README holds it between `<!-- stages:start -->` and `<!-- stages:end -->`; tests/test_stages.py
checks that it is the same as this script prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.ingest.stages import STAGES, redone_when  # noqa: E402

START, END = "<!-- stages:start -->", "<!-- stages:end -->"


def table() -> str:
    rows = ["| stage | what it does | reads | writes | redone when |", "|---|---|---|---|---|"]
    for s in STAGES:
        name = f"{s.name}:PRESET" if s.per == "preset" else s.name
        rows.append(
            f"| {name} | {s.about} | {', '.join(s.reads)} | {', '.join(s.writes)} | {', '.join(redone_when(s))} |"
        )
    return "\n".join(rows) + "\n"


def in_readme(text: str) -> str | None:
    """The text between the markers, or None when the README has no markers."""
    if START not in text or END not in text:
        return None
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with README.md instead of printing")
    args = ap.parse_args(argv)
    if not args.check:
        sys.stdout.write(table())
        return 0
    found = in_readme((REPO / "README.md").read_text(encoding="utf-8"))
    if found == table():
        return 0
    why = "has no stage table markers" if found is None else "holds another stage table"
    print(f"README.md {why}; put the output of `python scripts/stages_table.py` between {START} and {END}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
