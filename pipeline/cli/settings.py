"""`dailies settings`: every setting with its default, the value in effect, its meaning and valid values."""

from __future__ import annotations

import json

from pipeline.cli.common import emit, library_of, settings_of


def run(args) -> int:
    from pipeline.config import definitions

    settings = settings_of(args)
    rows = []
    for key, default, spec in definitions():
        section, name = key.split(".")
        value = getattr(getattr(settings, section), name)
        rows.append(
            {
                "key": key,
                "default": default,
                "value": value,
                "changed": value != default,
                "meaning": spec.meaning,
                "unit": spec.unit,
                "valid": spec.valid(),
            }
        )
    lines: list[str] = []
    heading = None  # the section whose lines follow
    for row in rows:
        if row["key"].split(".")[0] != heading:
            heading = row["key"].split(".")[0]
            lines.append(f"[{heading}]")
        unit = f" {row['unit']}" if row["unit"] else ""
        changed = f"  (default {json.dumps(row['default'])})" if row["changed"] else ""  # TOML spelling
        lines.append(f"  {row['key'].split('.')[1]} = {json.dumps(row['value'])}{changed}")
        lines.append(f"      {row['meaning']}; valid: {row['valid']}{unit}")
    emit(args, {"library": str(library_of(args)), "settings": rows}, "\n".join(lines))
    return 0


def register(sub, common) -> None:
    p = sub.add_parser(
        "settings",
        parents=[common],
        help="every setting: default, value in effect (library dailies.toml, --config), meaning, valid values",
        epilog="example: dailies settings --library /mnt/show/dailies-library --json",
    )
    p.set_defaults(func=run)
