#!/usr/bin/env python3
"""Interchange table: every real file of tests/data/interchange through Dailies' import or read-back, and
every export format through independent readers. Prints Markdown tables (docs/interchange.md).

    python scripts/eval_interchange.py [--json]

EDL (import, `pipeline.editorial.edl_read` + `cut.place`): per file, the events read, the event lines
that could not be read, the doubtful events (speed, duration mismatch, FCM) and, for an EDL whose
events name their camera files (`* SOURCE FILE:`, or a File32/File128 reel), the video events matched
against a library that
holds those camera files (Take records covering every source range the EDL uses: the matching of a
real ingest, without decoding the media), once as written and once with the comment lines stripped
(a plain CMX 3600 list: the 8-character reel is all there is). OTIO's own whole-file reader is run
beside it for comparison. The rate of a file is the smallest of 24, 25, 30, 60 its frame fields fit
(23.976 for 24, 29.97 for 30).
ALE (import, `pipeline.editorial.ale`): rows read, rows refused, fields refused, with the first reason.
FCP 7 XML / FCPXML (read-back, `pipeline.export.read_back` through OTIO): clips read, or the reason.
Round trip: the same four events (tape names with a space and accents, start TCs before midnight) at
23.976, 25, 29.97 DF and 10 fps, written in every format and re-read frame-exact by pycmx (EDL), OTIO
(every format; not ALE/FCP 7 at 10 fps, which OTIO's readers refuse) and Dailies' ALE reader.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "interchange"
RATES = {24: Fraction(24000, 1001), 25: Fraction(25), 30: Fraction(30000, 1001), 60: Fraction(60000, 1001)}
_FF = re.compile(r"\d\d[:;]\d\d[:;]\d\d[:;](\d\d)")


def guess_rate(text: str) -> Fraction:
    top = max((int(m) for m in _FF.findall(text)), default=0)
    return next(r for n, r in RATES.items() if top < n)


def _otio_edl(path: Path, rate: Fraction) -> str:
    import opentimelineio as otio

    try:
        tl = otio.adapters.read_from_file(str(path), adapter_name="cmx_3600", rate=float(rate))
        return f"{len(list(tl.find_clips()))} clips"
    except Exception as exc:  # noqa: BLE001 -- what OTIO's whole-file reader does with it, for the table
        return f"refused ({type(exc).__name__}: {str(exc)[:60]})"


def camera_file(ev) -> str:
    """The camera file an event names: its `* SOURCE FILE:`, else its reel when longer than a CMX reel (a
    File32/File128 list's reel is the source name)."""
    return ev.source_file or (ev.reel if len(ev.reel) > 8 else "")


def library_for(events, rate: Fraction):
    """Take records for every camera file the EDL names, each covering the source frames the EDL uses of it,
    named as the camera named it, its reel the roll configs/reels.toml gives it."""
    from pipeline.editorial.takes import Take
    from pipeline.ingest.reels import load_patterns, resolve_reel
    from pipeline.timecode import frames_to_tc

    patterns = load_patterns()
    spans: dict[str, list[int]] = {}
    for ev in events:
        if ev.video and camera_file(ev) and not ev.black:
            first, used = ev.source_range(rate)
            lo, hi = spans.get(camera_file(ev), [first, first + used])
            spans[camera_file(ev)] = [min(lo, first), max(hi, first + used)]
    takes = []
    for i, (name, (lo, hi)) in enumerate(sorted(spans.items())):
        stem = Path(name).stem if Path(name).suffix.lower() in (".mov", ".mxf", ".mp4", ".r3d", ".braw") else name
        reel, _ = resolve_reel(f"/media/{stem}.mov", None, patterns)
        lo = max(lo - 10, 0)
        takes.append(
            Take(
                i,
                f"/media/{stem}.mov",
                reel=reel,
                start_tc=frames_to_tc(lo, rate),
                fps=str(rate),
                frame_count=hi - lo + 10,
            )
        )
    return takes


def eval_edl(path: Path) -> dict:
    from pipeline.editorial.cut import place
    from pipeline.editorial.edl_read import read_edl

    text = path.read_text(encoding="utf-8", errors="replace")
    rate = guess_rate(text)
    read = read_edl(text, rate)
    video = [e for e in read.events if e.video and not e.black and e.length > 0]
    row = {
        "file": f"{path.parent.name}/{path.name}",
        "rate": f"{float(rate):.3f}".rstrip("0").rstrip("."),
        "events": len(read.events),
        "video": len(video),
        "unread": len(read.unread),
        "doubtful": sum(bool(e.notes) for e in read.events),
        "first_unread": read.unread[0] if read.unread else "",
        "otio": _otio_edl(path, rate),
    }
    named = [e for e in video if camera_file(e)]
    if named and len(named) == len(video):
        takes = library_for(read.events, rate)
        row["matched"] = sum(not isinstance(place(e, takes, rate), str) for e in video)
        bare = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("*"))
        plain = [e for e in read_edl(bare, rate).events if e.video and not e.black and e.length > 0]
        problems = Counter(p.split(";")[0][:40] for e in plain if isinstance(p := place(e, takes, rate), str))
        row["matched_cmx"] = len(plain) - sum(problems.values())
        row["cmx_problem"] = problems.most_common(1)[0][0] if problems else ""
    return row


def eval_ale(path: Path) -> dict:
    from pipeline.editorial.ale import decode_ale, parse_ale

    result = parse_ale(decode_ale(path.read_bytes()))
    refused_rows = [why for _, why in result.bad if why.endswith("row refused")]
    refused_fields = [why for _, why in result.bad if not why.endswith("row refused")]
    return {
        "file": f"{path.parent.name}/{path.name}",
        "rows": len(result.rows) + len(refused_rows),
        "read": len(result.rows),
        "rows_refused": len(refused_rows),
        "fields_refused": len(refused_fields),
        "first_reason": (refused_rows + refused_fields + [""])[0][:70],
    }


def eval_xml(path: Path) -> dict:
    from pipeline.errors import UsageError
    from pipeline.export import read_back

    fmt = "fcpxml" if path.suffix == ".fcpxml" else "xml"
    try:
        clips = len(list(read_back(path, fmt).find_clips()))
        return {"file": f"{path.parent.name}/{path.name}", "clips": clips, "result": "read"}
    except UsageError as exc:
        why = str(exc).split(": ", 1)[1]
        return {"file": f"{path.parent.name}/{path.name}", "clips": 0, "result": f"refused: {why[:90]}"}


def sample_items(rate: Fraction):
    from pipeline.export import ExportItem
    from pipeline.timecode import frames_to_tc, is_drop_frame_rate, tc_to_frames

    drop = is_drop_frame_rate(rate)
    late = frames_to_tc(tc_to_frames("23:59:58:00", rate), rate, drop)
    return [
        ExportItem(
            "A026C019_170614_R287", "/Volumes/RAID/day 01/A026C019_170614_R287.mov", rate, 10, 50, late, "A026", 500
        ),
        ExportItem("Ünï code take", "/Volumes/RAID/day 01/Ünï code take.mov", rate, 0, 1, late, None, 100),
        ExportItem("B027C005_170615_R6L6", "/Volumes/RAID/B027C005_170615_R6L6.mov", rate, 3, 200, None, "B027", 300),
        ExportItem(
            "C001C001_190101_R1AA", "/Volumes/RAID/C001C001_190101_R1AA.mov", rate, 0, 24, "10:00:00:00", "C001", 24
        ),
    ]


def round_trip(rate: Fraction) -> dict[str, str]:
    """format -> 'ok' when every independent reader gives back every event frame-exact, else what differs."""
    import pycmx

    from pipeline.config import ExportSettings
    from pipeline.editorial.ale import parse_ale
    from pipeline.errors import UsageError
    from pipeline.export import EXPORTERS, export_bytes, read_back
    from pipeline.timecode import tc_to_frames

    items = sample_items(rate)
    want = [(i.start_frames + i.in_frame, i.out_frame - i.in_frame) for i in items]
    nominal = round(float(rate))
    smpte = float(rate) in (24000 / 1001, 24, 25, 30000 / 1001, 30, 50, 60000 / 1001, 60)
    out = {}
    for key in [*EXPORTERS, "edl file32"]:
        fmt = key.split()[0]
        data = export_bytes(items, fmt, settings=ExportSettings(edl_format="file32") if key != fmt else None)
        checks = []
        if fmt == "edl":
            edits = [e for ev in pycmx.parse_cmx3600(io.StringIO(data.decode())).events for e in ev.edits]
            tr = rate if smpte else nominal
            got = [
                (tc_to_frames(e.source_in, tr), tc_to_frames(e.source_out, tr) - tc_to_frames(e.source_in, tr))
                for e in edits
            ]
            checks.append(("pycmx", [(a % day(rate), b) for a, b in got] == [(a % day(rate), b) for a, b in want]))
        if fmt == "ale":
            rows = parse_ale(data.decode()).rows
            tr = rate if smpte else nominal
            got = [
                (tc_to_frames(r.start or "", tr), tc_to_frames(r.end or "", tr) - tc_to_frames(r.start or "", tr))
                for r in rows
            ]
            checks.append(
                ("dailies ALE", [(a % day(rate), b) for a, b in got] == [(a % day(rate), b) for a, b in want])
            )
        if smpte or fmt in ("otio", "fcpxml"):
            path = Path(f"/tmp/eval_interchange{EXPORTERS[fmt][1][0]}")
            path.write_bytes(data)
            try:
                clips = list(read_back(path, fmt, rate=float(rate)).find_clips())
                got = [(int(c.source_range.start_time.value), int(c.source_range.duration.value)) for c in clips]
                checks.append(("OTIO", [(a % day(rate), b) for a, b in got] == [(a % day(rate), b) for a, b in want]))
            except UsageError as exc:
                checks.append((f"OTIO ({str(exc)[-40:]})", False))
        out[key] = ", ".join(f"{name} {'exact' if ok else 'DIFFERS'}" for name, ok in checks) or (
            f"written; OTIO's reader has no {float(rate):g} fps timecode"
        )
    return out


def day(rate: Fraction) -> int:
    from pipeline.timecode import is_drop_frame_rate, tc_to_frames

    drop = is_drop_frame_rate(rate)
    return tc_to_frames(f"23:59:59{';' if drop else ':'}00", rate) + round(float(rate))


def run() -> dict:
    return {
        "edl": [eval_edl(p) for p in sorted(DATA.glob("edl/*/*.edl"))],
        "ale": [eval_ale(p) for p in sorted(DATA.glob("ale/*/*.ale"))],
        "xml": [eval_xml(p) for p in sorted([*DATA.glob("xml/*/*.xml"), *DATA.glob("fcpxml/*/*.fcpxml")])],
        "round_trip": {
            label: round_trip(r)
            for label, r in (
                ("23.976", Fraction(24000, 1001)),
                ("25", Fraction(25)),
                ("29.97 DF", Fraction(30000, 1001)),
                ("10", Fraction(10)),
            )
        },
    }


def summary(res: dict) -> list[str]:
    """One row per format and origin: files, read, refused, events (or rows/clips) read and matched."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for kind in ("edl", "ale", "xml"):
        for r in res[kind]:
            name = "fcpxml" if r["file"].endswith(".fcpxml") else kind
            groups.setdefault((name, r["file"].split("/")[0]), []).append(r)
    out = [
        "| format | origin | files | read | refused | events / rows / clips read | not read | video events matched |"
    ]
    out.append("|---|---|---|---|---|---|---|---|")
    for (fmt, origin), rows in groups.items():
        if fmt == "edl":
            read = sum(r["events"] for r in rows)
            unread = sum(r["unread"] for r in rows)
            named = [r for r in rows if "matched" in r]
            matched = f"{sum(r['matched'] for r in named)}/{sum(r['video'] for r in named)}" if named else "-"
            out.append(
                f"| EDL | {origin} | {len(rows)} | {len(rows)} | 0 | {read} events | {unread} lines | {matched} |"
            )
        elif fmt == "ale":
            read, refused = sum(r["read"] for r in rows), sum(r["rows_refused"] for r in rows)
            out.append(f"| ALE | {origin} | {len(rows)} | {len(rows)} | 0 | {read} rows | {refused} rows | - |")
        else:
            ok = [r for r in rows if r["result"] == "read"]
            label = "FCPXML" if fmt == "fcpxml" else "FCP 7 XML"
            out.append(
                f"| {label} | {origin} | {len(rows)} | {len(ok)} | {len(rows) - len(ok)} | "
                f"{sum(r['clips'] for r in ok)} clips | - | - |"
            )
    return out


def markdown(res: dict) -> str:
    out = ["### Per format and origin", "", *summary(res), "", "### EDL import (event by event)", ""]
    out += [
        "| file | rate | events | video | not read | doubtful | matched (as written) | matched (CMX only) | "
        "OTIO whole-file reader |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["edl"]:
        m = f"{r['matched']}/{r['video']}" if "matched" in r else "-"
        c = (
            f"{r['matched_cmx']}/{r['video']}" + (f" ({r['cmx_problem']})" if r.get("cmx_problem") else "")
            if "matched" in r
            else "-"
        )
        out.append(
            f"| {r['file']} | {r['rate']} | {r['events']} | {r['video']} | {r['unread']} | {r['doubtful']} | "
            f"{m} | {c} | {r['otio']} |"
        )
    out += [
        "",
        "### ALE import (field by field)",
        "",
        "| file | rows | read | rows refused | fields refused | first reason |",
    ]
    out += ["|---|---|---|---|---|---|"]
    out += [
        f"| {r['file']} | {r['rows']} | {r['read']} | {r['rows_refused']} | {r['fields_refused']} | "
        f"{r['first_reason']} |"
        for r in res["ale"]
    ]
    out += ["", "### FCP 7 XML and FCPXML read-back", "", "| file | clips | result |", "|---|---|---|"]
    out += [f"| {r['file']} | {r['clips']} | {r['result']} |" for r in res["xml"]]
    fmts = list(next(iter(res["round_trip"].values())))
    out += ["", "### Round trip of every export through independent readers", ""]
    out += ["| rate | " + " | ".join(fmts) + " |", "|---|" + "---|" * len(fmts)]
    out += [f"| {rate} | " + " | ".join(row[f] for f in fmts) + " |" for rate, row in res["round_trip"].items()]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = run()
    print(json.dumps(res, indent=2) if args.json else markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
