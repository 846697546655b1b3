"""EDL import event by event: real EDLs (tests/data/interchange/edl) and the Avid ways of naming a take."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
from overnight_helpers import camera_clip

from pipeline.cli import main
from pipeline.editorial.edl_read import read_edl

DATA = Path(__file__).parent / "data" / "interchange" / "edl"
REAL = sorted(DATA.glob("*/*.edl"))
EVENT_LINE = re.compile(r"^\s*\d{1,6}\s+\S.*\d\d\D\d\d\D\d\d\D\d\d\s*$")
TOD = DATA / "pycmx" / "ToD_R4_LOCK3.1_030618_Video.edl"  # an Avid lock of ARRI/RED footage, 376 events


def _rate(path: Path) -> Fraction:
    return Fraction(25) if "25" in path.name else Fraction(24000, 1001)


@pytest.mark.parametrize("path", REAL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_event_line_of_a_real_edl_is_read_or_listed(path):
    """No whole-file refusal and no traceback: each event line is an event or an `unread` line naming it."""
    text = path.read_text(encoding="utf-8", errors="replace")
    read = read_edl(text, _rate(path))
    lines = {i + 1 for i, ln in enumerate(text.splitlines()) if EVENT_LINE.match(ln)}
    listed = {int(m.group(1)) for u in read.unread if (m := re.match(r"line (\d+):", u))}
    assert lines <= {e.line for e in read.events} | listed
    assert all(e.number == text.splitlines()[e.line - 1].split()[0] for e in read.events)  # numbers as written


def test_real_edl_speed_reverse_and_source_file_lines():
    read = read_edl(TOD.read_text(encoding="utf-8"), Fraction(24000, 1001))
    by_number = {e.number: e for e in read.events}
    assert len(read.events) == 376 and not read.unread
    e2, e14 = by_number["002"], by_number["014"]
    assert (e2.reel, e2.clip_name, e2.source_file) == ("A026C019", "92-2A*", "A026C019_170614_R287")
    assert e14.speed == -24.0 and "reversed" in e14.notes[0]
    start, used = e14.source_range(Fraction(24000, 1001))
    assert used == 90 and start + used - 1 == e14.src_in  # runs back from its source in


def run(capsys, *argv) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(list(argv) + ["--json"])
    return code, json.loads(capsys.readouterr().out or "{}")


@pytest.fixture(scope="module")
def tod_library(tmp_path_factory) -> Path:
    """Three camera files of the ToD lock, named as the camera named them (reels.toml gives their roll,
    A026 / B027 / D004, as reel), each covering the frames the lock uses."""
    base = tmp_path_factory.mktemp("tod")
    card = base / "card"
    card.mkdir()
    camera_clip(card / "A026C019_170614_R287.mov", "24000/1001", 96, "22:09:04:00")
    camera_clip(card / "B027C005_170615_R6L6.mov", "24000/1001", 140, "22:58:32:00")
    camera_clip(card / "D004C005_170710_R546.mov", "24000/1001", 120, "15:09:56:00")
    lib = base / "lib"
    assert main(["ingest", str(card), "--library", str(lib), "--no-embed", "--no-mhl"]) == 0
    return lib


def test_an_avid_lock_matches_camera_files_by_source_file_and_by_8_character_reel(tod_library, tmp_path, capsys):
    code, out = run(capsys, "tag", "import-edl", str(TOD), "--library", str(tod_library))
    assert code == 1  # the other takes of the lock are not in this library
    matched = {e["event"]: (Path(e["clip"]).stem, e["shots"], e["notes"]) for e in out["events"] if e["clip"]}
    assert set(matched) == {"002", "003", "014"}
    assert matched["002"][:2] == ("A026C019_170614_R287", [0, 1])  # 22:09:04:11 + 71 frames across the cut at 48
    assert matched["003"][:2] == ("B027C005_170615_R6L6", [0, 1])
    assert matched["014"][0] == "D004C005_170710_R546" and "reversed" in matched["014"][2][0]
    others = [e for e in out["events"] if not e["clip"]]
    assert len(others) == 376 - 3 and all(e["problem"].startswith(f"event {e['event']} (record ") for e in others)
    assert sum("was this footage ingested?" in e["problem"] for e in others) > 300
    # the same lock as a plain CMX 3600 list (no comment lines): the 8-character reel names the camera file
    bare = tmp_path / "bare.edl"
    bare.write_text("\n".join(ln for ln in TOD.read_text().splitlines() if not ln.startswith("*")) + "\n")
    code, out = run(capsys, "tag", "import-edl", str(bare), "--library", str(tod_library))
    assert {e["event"] for e in out["events"] if e["clip"]} == {"002", "003", "014"}


def test_drop_frame_by_fcm_m2_with_drop_frame_and_a_take_across_midnight(tmp_path, capsys):
    card, lib = tmp_path / "card", tmp_path / "lib"
    card.mkdir()
    camera_clip(card / "A001C001_220101_R1AA.mov", "30000/1001", 60, "01:09:59;00")
    camera_clip(card / "A001C002_220101_R1AA.mov", "30000/1001", 90, "23:59:59;00")
    assert main(["ingest", str(card), "--library", str(lib), "--no-embed", "--no-mhl"]) == 0
    edl = tmp_path / "df.edl"
    edl.write_text(
        "TITLE: DF CUT\r\nFCM: DROP FRAME\r\n\r\n"
        # the CMX form: drop-frame timecode written with colons under FCM: DROP FRAME
        "001  A001C001 V     C        01:10:00:10 01:10:00:20 01:00:00:00 01:00:00:10\r\n"
        "002  A001C002 V     C        00:00:01:00 00:00:01:10 01:00:00:10 01:00:00:20\r\n"  # after midnight
        "003  A001C001 V     C        01:10:00:12 01:10:00:13 01:00:00:20 01:00:01:00\r\n"
        "M2   A001C001       000.0                01:10:00:12\r\n"  # a freeze, drop-frame timecode
    )
    code, out = run(capsys, "tag", "import-edl", str(edl), "--library", str(lib))
    assert code == 0, out
    assert [(e["event"], Path(e["clip"]).stem, e["shots"]) for e in out["events"]] == [
        ("001", "A001C001_220101_R1AA", [1]),  # frames 40-49 of the take: read as non-drop it would be outside
        ("002", "A001C002_220101_R1AA", [1]),  # frames 60-69, past midnight
        ("003", "A001C001_220101_R1AA", [1]),
    ]
    assert out["events"][0]["src_in"] == "01:10:00;10" and "freeze" in out["events"][2]["notes"][0]


def test_our_own_export_of_a_take_across_midnight_places_every_event():
    """An export writes an out point past midnight as 24:00:00:xx; events of the same take after midnight
    restart at 00:00:00:00. Both come back onto the take."""
    from pipeline.editorial.cut import place
    from pipeline.editorial.takes import Take
    from pipeline.export import ExportItem, export_bytes

    rate = Fraction(25)
    take = Take(1, "/cards/A001C001_220101_R1AA.mov", reel="A001", start_tc="23:59:58:00", fps="25", frame_count=150)
    items = [
        ExportItem(take.name, take.path, rate, 10, 90, take.start_tc, "A001", 150),  # across midnight
        ExportItem(take.name, take.path, rate, 100, 140, take.start_tc, "A001", 150),  # after it
    ]
    read = read_edl(export_bytes(items, "edl").decode(), rate)
    placed = [place(e, [take], rate) for e in read.events]
    assert [(p[0].name, p[1]) for p in placed if not isinstance(p, str)] == [(take.name, 10), (take.name, 100)]


def test_export_cli_path_map_tape_and_the_note_for_an_earlier_format_name(tod_library, tmp_path, capsys):
    lib = str(tod_library)
    assert main(["tag", "add", "A026C019_170614_R287", "hero", "--library", lib]) == 0
    card = str(tod_library.parent / "card")
    out = tmp_path / "hero.xml"
    argv = ["export", "tags", "--tag", "hero", "--format", "fcpxml", "-o", str(out), "--library", lib]
    code, data = run(
        capsys, *argv, "--path-map", f"{card}=/mnt/show", "--tape", "reel", "--record-start", "10:00:00:00"
    )
    assert code == 0 and data["format"] == "xml" and "use --format xml" in data["note"]  # FCP 7 XML, as before
    text = out.read_text()
    assert "file://localhost/mnt/show/A026C019_170614_R287.mov" in text and card not in text
    assert "<name>A026</name>" in text  # --tape reel: the roll
    assert (
        main(
            ["export", "tags", "--tag", "hero", "-o", str(tmp_path / "x.edl"), "--record-start", "1h", "--library", lib]
        )
        == 2
    )
