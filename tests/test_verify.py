"""Checksums read with the source, ASC MHL written per card by ascmhl and verified by ascmhl; a changed byte,
a file gone from the card, and bit rot that keeps size and mtime are all caught on the next run."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from overnight_helpers import camera_clip

from pipeline.cli import main
from pipeline.ingest.hashing import hash_many
from pipeline.ingest.verify import ascmhl_bin, read_history


def _ascmhl_verify(card: Path) -> subprocess.CompletedProcess:
    """ascmhl's own verification (no new generation): `ascmhl-debug verify CARD`."""
    debug = Path(ascmhl_bin()).with_name("ascmhl-debug")
    return subprocess.run([str(debug), "verify", str(card)], capture_output=True, text=True)


def _flip_byte(path: Path, keep_mtime: bool = False) -> None:
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _clips(capsys, lib) -> dict:
    capsys.readouterr()
    assert main(["clips", "--library", str(lib), "--json"]) == 0
    return {Path(c["path"]).name: c for c in json.loads(capsys.readouterr().out)["clips"]}


@pytest.fixture
def card(tmp_path):
    card = tmp_path / "A002"
    (card / "CLIP").mkdir(parents=True)
    for i in (1, 2, 3):
        camera_clip(card / "CLIP" / f"A002C00{i}_220315_R2CD.mov", "25", 12, "12:00:00:00")
    (card / "A002_camera_report.txt").write_text("roll A002\n")
    return card


def ingest(capsys, card, lib, *extra):
    capsys.readouterr()
    code = main(["ingest", str(card), "--library", str(lib), "--no-embed", "--workers", "1", *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.expect_log_error(r"MHL MISMATCH .*A002C001_220315_R2CD\.mov", r"A002: mismatch 1 file\(s\) differ")
def test_mhl_written_verified_by_ascmhl_then_a_changed_byte_is_caught(card, tmp_path, capsys):
    lib = tmp_path / "lib"
    code, out, err = ingest(capsys, card, lib)
    assert code == 0, err
    assert "MHL written" in out
    history = read_history(card)
    assert set(history) == {"A002_camera_report.txt", *(f"CLIP/A002C00{i}_220315_R2CD.mov" for i in (1, 2, 3))}
    clip1 = card / "CLIP" / "A002C001_220315_R2CD.mov"
    assert history["CLIP/A002C001_220315_R2CD.mov"]["xxh64"] == hash_many(clip1, ["xxh64"])["xxh64"]
    assert _ascmhl_verify(card).returncode == 0
    clips = _clips(capsys, lib)
    assert {c["mhl"]["status"] for c in clips.values()} == {"verified"}
    assert clips[clip1.name]["checksum"] == "xxh64:" + history["CLIP/" + clip1.name]["xxh64"]

    _flip_byte(clip1)
    assert _ascmhl_verify(card).returncode != 0  # ascmhl sees it too
    code, out, err = ingest(capsys, card, lib)
    assert code == 1
    assert any("MHL MISMATCH" in line and clip1.name in line for line in err.splitlines())
    assert "card " + str(card) + ": MHL mismatch" in out
    clips = _clips(capsys, lib)
    assert clips[clip1.name]["mhl"]["status"] == "mismatch"
    assert "copy it again" in clips[clip1.name]["mhl"]["detail"]
    assert clips[clip1.name]["mhl"]["card_status"] == "mismatch"
    assert clips["A002C002_220315_R2CD.mov"]["mhl"]["status"] == "verified"
    # no new generation recorded over the bad state: the next run still says mismatch
    assert len(list((card / "ascmhl").glob("*.mhl"))) == 1
    code, _, err = ingest(capsys, card, lib)
    assert code == 1 and "MHL MISMATCH" in err

    report = tmp_path / "report"
    capsys.readouterr()
    assert main(["report", "--library", str(lib), "--out", str(report), "--json"]) == 1
    data = json.loads((report / "report.json").read_text())
    assert any(f.get("card") == str(card) and "differ from the card's MHL" in f["message"] for f in data["failures"])
    assert any(w.get("clip") == str(clip1) and "MISMATCH" in w["message"] for w in data["warnings"])


@pytest.mark.expect_log_error(
    r"MHL MISMATCH .*A002C002_220315_R2CD\.mov",
    r"A002: mismatch 1 file\(s\) differ",
    r"A002: 1 file\(s\) its MHL lists are missing: CLIP/A002C003",
)
def test_bit_rot_with_unchanged_mtime_needs_reverify_and_missing_files_are_loud(card, tmp_path, capsys):
    lib = tmp_path / "lib"
    assert ingest(capsys, card, lib, "--hash", "md5")[0] == 0
    clip2 = card / "CLIP" / "A002C002_220315_R2CD.mov"
    assert _clips(capsys, lib)[clip2.name]["checksum"].startswith("md5:")
    assert "md5" in read_history(card)["CLIP/" + clip2.name]

    _flip_byte(clip2, keep_mtime=True)
    code, out, _ = ingest(capsys, card, lib, "--hash", "md5")
    assert code == 0  # size and mtime unchanged: the cached checksum is trusted ...
    code, out, err = ingest(capsys, card, lib, "--hash", "md5", "--reverify")
    assert code == 1  # ... until every file is read again
    assert any("MHL MISMATCH" in line and clip2.name in line for line in err.splitlines())

    (card / "CLIP" / "A002C003_220315_R2CD.mov").unlink()
    code, out, err = ingest(capsys, card, lib, "--hash", "md5")
    assert code == 1
    assert "MHL MISMATCH" in err and "missing" in err and "A002C003_220315_R2CD.mov" in err
    # ... and in the catalog and at the top of the morning report
    from pipeline.catalog import open_catalog

    catalog = open_catalog(lib, create=False)
    try:
        (row,) = [c for c in catalog.cards() if c["path"] == str(card)]
        assert row["mhl_status"] in ("missing", "mismatch") and "A002C003_220315_R2CD.mov" in row["missing_json"]
    finally:
        catalog.close()
    report = tmp_path / "report"
    capsys.readouterr()
    assert main(["report", "--library", str(lib), "--out", str(report), "--day", "all"]) == 1
    data = json.loads((report / "report.json").read_text())
    assert any(
        f.get("card") == str(card) and "missing" in f["message"] and "A002C003_220315_R2CD.mov" in f["message"]
        for f in data["failures"]
    )
    html = (report / "report.html").read_text()
    assert html.index("A002C003_220315_R2CD.mov") < html.index("<h2>Totals")
