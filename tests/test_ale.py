"""ALE import as labs write them (real files, Windows-1252, BOM, ARRI columns, take conventions) and ALE
export as Avid merges it (Tracks, AUDIO_FORMAT, VIDEO_FORMAT, Source File path, cells without tabs)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from overnight_helpers import camera_clip

from pipeline.cli import main
from pipeline.editorial.ale import decode_ale, parse_ale
from pipeline.export import ExportItem, export_bytes

REAL = sorted((Path(__file__).parent / "data" / "interchange" / "ale").glob("*/*.ale"))


def ale(columns: list[str], *rows: list[str], fps: str = "23.976") -> str:
    head = f"Heading\nFIELD_DELIM\tTABS\nVIDEO_FORMAT\t1080\nFPS\t{fps}\n\nColumn\n" + "\t".join(columns)
    return head + "\n\nData\n" + "".join("\t".join(r) + "\n" for r in rows)


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_every_row_of_a_real_ale_is_read_or_refused_with_a_reason(path):
    text = decode_ale(path.read_bytes())
    result = parse_ale(text)
    data = text.splitlines()
    first = next(i for i, ln in enumerate(data) if ln.strip().lower() == "data") + 1
    rows = {i + 1 for i in range(first, len(data)) if data[i].strip()}
    refused = {n for n, why in result.bad if why.endswith("row refused")}
    assert rows == {r.line for r in result.rows} | refused
    assert all(why for _, why in result.bad)


def test_windows_1252_and_a_bom_are_read_and_the_heading_kept():
    text = ale(["Name", "Start", "Comments"], ["A001C001", "01:00:00:00", "café crème"])
    assert parse_ale(decode_ale(text.encode("cp1252"))).rows[0].fields["notes"] == "café crème"
    with_bom = parse_ale(decode_ale(b"\xef\xbb\xbf" + text.encode("utf-8")))
    assert with_bom.fps == pytest.approx(23.976) and with_bom.rows[0].fields["notes"] == "café crème"


def test_take_conventions_arri_roll_and_camroll_and_field_by_field_refusal():
    text = ale(
        ["Name", "Start", "Take", "Roll", "Camroll", "Circled"],
        ["a", "01:00:00:00", "1xa", "0.3", "A001", ""],
        ["b", "01:00:00:00", "2PK", "-1.2", "A001", ""],
        ["c", "01:00:00:00", "3*", "", "A002", ""],
        ["d", "01:00:00:99", "one", "", "A002", "maybe"],
    )
    result = parse_ale(text)
    fields = [r.fields for r in result.rows]
    assert [f.get("take") for f in fields] == ["1xa", "2PK", "3", None]
    assert fields[2]["circled"] is True  # 3*: take 3, circled
    assert [f["roll"] for f in fields] == ["A001", "A001", "A002", "A002"]  # Camroll, never ARRI's roll angle
    assert [n for n, _ in result.bad] == [13, 13, 13] and result.rows[3].start is None
    only_roll = parse_ale(ale(["Name", "Roll"], ["a", "A007"], ["b", "12.5"]))
    assert [r.fields.get("roll") for r in only_roll.rows] == ["A007", None]


def test_ale_export_as_avid_merges_it():
    item = ExportItem(
        "A026C019_170614_R287",
        "/Volumes/RAID/day 01/A026C019_170614_R287.mov",
        Fraction(24000, 1001),
        0,
        48,
        "22:09:04:00",
        "A026",
        96,
        notes="line one\nline\ttwo",
        width=3840,
        height=2160,
        audio_channels=2,
    )
    text = export_bytes([item], "ale").decode()
    heading, rest = text.split("\nColumn\n")
    assert "AUDIO_FORMAT\t48khz" in heading and "VIDEO_FORMAT\tCUSTOM" in heading  # not 1080 for UHD
    columns, data = rest.split("\n\nData\n")
    row = dict(zip(columns.split("\t"), data.splitlines()[0].split("\t"), strict=True))
    assert row["Tracks"] == "VA1A2" and row["Tape"] == "A026C019_170614_R287" and row["Camroll"] == "A026"
    assert row["Source File"] == "/Volumes/RAID/day 01/A026C019_170614_R287.mov"
    assert row["Comments"] == "line one line two" and len(data.splitlines()) == 1
    back = parse_ale(text).rows[0]
    assert (back.fields["roll"], back.fields["notes"], back.tape) == ("A026", "line one line two", item.name)
    hd = ExportItem("x", "/x.mov", Fraction(25), 0, 5, None, None, 5, width=1920, height=1080)
    assert "VIDEO_FORMAT\t1080" in export_bytes([hd], "ale").decode()


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("ale")
    card = base / "card"
    card.mkdir()
    camera_clip(card / "A026C019_170614_R287.mov", "24000/1001", 24, "22:09:04:00")
    lib = base / "lib"
    assert main(["ingest", str(card), "--library", str(lib), "--no-embed", "--no-mhl"]) == 0
    return lib


def test_import_matches_tape_to_clip_names_and_exits_1_when_nothing_matched(library, tmp_path, capsys):
    lab = tmp_path / "lab.ale"  # a lab's ALE: Tape is the camera file's name (CMX: its first 8 characters)
    lab.write_bytes(
        ale(["Name", "Tape", "Start", "Scene", "Take"], ["92-2A", "A026C019", "22:09:04:00", "92", "2"]).encode(
            "cp1252"
        )
    )
    capsys.readouterr()
    assert main(["take", "import-ale", str(lab), "--library", str(library), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [Path(a["clip"]).stem for a in out["applied"]] == ["A026C019_170614_R287"]
    other = tmp_path / "other.ale"
    other.write_text(ale(["Name", "Tape", "Start", "Scene"], ["B001C001", "B001C001", "10:00:00:00", "3"]))
    assert main(["take", "import-ale", str(other), "--library", str(library)]) == 1
    assert "0 of 1 row(s) applied" in capsys.readouterr().out
