"""`dailies tag import-edl`: an editor's cut (CMX 3600 EDL) tags the shots it uses."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from overnight_helpers import camera_clip

from pipeline.catalog import open_catalog
from pipeline.cli import main
from pipeline.timecode import frames_to_tc

RATE = Fraction(24000, 1001)
C1, C2 = "A001C001_220317_R1AA", "A001C002_220317_R1AA"  # both on roll A001: the reel alone is ambiguous


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """Two 48-frame takes at 23.976 (shots 0-23 and 24-47), TC 01:00:00:00 and 02:00:00:00."""
    base = tmp_path_factory.mktemp("cut")
    card = base / "card"
    card.mkdir()
    camera_clip(card / f"{C1}.mov", "24000/1001", 48, "01:00:00:00")
    camera_clip(card / f"{C2}.mov", "24000/1001", 48, "02:00:00:00")
    lib = base / "lib"
    assert main(["ingest", str(card), "--library", str(lib), "--no-embed", "--no-mhl"]) == 0
    return lib


def tc(frames: int) -> str:
    return frames_to_tc(frames, RATE)


def nle_edl(events: list[tuple[str, str | None, int, int]]) -> str:
    """An EDL laid out as Avid writes one: (reel, clip name or None, source in frames, length)."""
    lines, rec = ["TITLE: CUT V3", "FCM: NON-DROP FRAME", ""], 3600 * 24
    for n, (reel, name, start, length) in enumerate(events, 1):
        lines.append(f"{n:03d}  {reel:<8} V     C        {tc(start)} {tc(start + length)} {tc(rec)} {tc(rec + length)}")
        if name:
            lines.append(f"* FROM CLIP NAME: {name}")
        lines.append("")
        rec += length
    return "\r\n".join(lines)


def run(capsys, *argv) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(list(argv) + ["--json"])
    return code, json.loads(capsys.readouterr().out or "{}")


def cut_tags(lib: Path, tag: str) -> dict[str, list]:
    """{take name: [(shot index, reason)]} of `tag`."""
    catalog = open_catalog(lib, create=False)
    try:
        out: dict[str, list] = {}
        for r in catalog.tags_of():
            if r["tag"] == tag:
                out.setdefault(Path(r["path"]).stem, []).append((r["shot"], r["reason"]))
        return {k: sorted(v) for k, v in out.items()}
    finally:
        catalog.close()


def test_an_nle_cut_tags_the_shots_it_uses_and_names_the_events_it_cannot_place(library, tmp_path, capsys):
    h1, h2 = 3600 * 24, 2 * 3600 * 24  # the takes' first frames (01:00:00:00, 02:00:00:00)
    edl = tmp_path / "cut_v3.edl"
    edl.write_text(
        nle_edl(
            [
                ("A001", C1, h1 + 2, 8),  # shot 0 of C1 only
                ("BL", None, 0, 24),  # black: no media, left out
                ("A001", None, h2 + 20, 8),  # no clip name: by reel and timecode -> C2, across its cut (shots 0, 1)
                ("Z009", "Z009C001", h1, 10),  # footage that is not in the library
                ("A001", C1, h1 + 40, 20),  # runs past the end of C1
            ]
        )
    )
    code, out = run(capsys, "tag", "import-edl", str(edl), "--library", str(library))
    assert code == 1  # two events could not be placed
    assert (out["matched"], out["unmatched"], out["shots_tagged"], out["fps"]) == (2, 2, 3, "24000/1001")
    events = out["events"]
    assert [e["event"] for e in events] == ["001", "003", "004", "005"]  # the EDL's numbers; black left out
    assert [e["record_in"] for e in events] == ["01:00:00:00", "01:00:01:08", "01:00:01:16", "01:00:02:02"]
    assert [(Path(e["clip"]).stem if e["clip"] else None, e["shots"]) for e in events] == [
        (C1, [0]),
        (C2, [0, 1]),
        (None, []),
        (None, []),
    ]
    assert "event 004 (record 01:00:01:16, Z009C001, reel Z009" in events[2]["problem"]
    assert "no take of that source file, clip name or reel" in events[2]["problem"]
    assert "dailies clips" in events[2]["problem"]
    assert "the source timecode is outside A001C001_220317_R1AA (01:00:00:00-01:00:02:00)" in events[3]["problem"]
    assert cut_tags(library, "in-cut") == {
        C1: [(0, "cut_v3.edl: event 001 at record 01:00:00:00")],
        C2: [(0, "cut_v3.edl: event 003 at record 01:00:01:08"), (1, "cut_v3.edl: event 003 at record 01:00:01:08")],
    }
    capsys.readouterr()
    assert main(["tag", "import-edl", str(edl), "--library", str(library)]) == 1  # the human form lists them
    err_out = capsys.readouterr().out
    assert "2 of 4 video event(s) matched, 3 shot(s) tagged 'in-cut'" in err_out
    assert err_out.count("not matched: event") == 2


def test_our_own_edl_export_imports_back_onto_the_same_shots(library, tmp_path, capsys):
    """Tags -> `dailies export tags --format edl` -> `dailies tag import-edl`: the same shots again."""
    assert main(["tag", "add", C1, "hero", "--shot", "1", "--library", str(library)]) == 0
    assert main(["tag", "add", C2, "hero", "--library", str(library)]) == 0  # the whole take: both shots
    edl = tmp_path / "hero.edl"
    assert main(["export", "tags", "--tag", "hero", "--format", "edl", "-o", str(edl), "--library", str(library)]) == 0
    code, out = run(capsys, "tag", "import-edl", str(edl), "hero-again", "--library", str(library))
    assert code == 0 and out["unmatched"] == 0
    assert {k: [s for s, _ in v] for k, v in cut_tags(library, "hero-again").items()} == {C1: [1], C2: [0, 1]}


def test_rate_and_file_errors_are_usage_errors_that_say_what_to_do(library, tmp_path, capsys):
    edl = tmp_path / "cut.edl"
    edl.write_text(nle_edl([("A001", C1, 3600 * 24, 8)]))
    code, out = run(capsys, "tag", "import-edl", str(edl), "--fps", "25", "--library", str(library))
    assert (
        code == 1
        and "is 23.976 fps, the EDL was read at 25.000: give the cut's rate with --fps" in out["events"][0]["problem"]
    )
    capsys.readouterr()
    assert main(["tag", "import-edl", str(edl), "--fps", "fast", "--library", str(library)]) == 2
    assert "--fps fast: give a frame rate such as 23.976" in capsys.readouterr().err
    damaged = tmp_path / "damaged.edl"  # one event line that cannot be read, one that can: the other is applied
    damaged.write_text(
        "001  A001     V     C        01:00:00:00 99:99:99:99 x\n"
        f"002  A001     V     C        {tc(3600 * 24)} {tc(3600 * 24 + 4)} {tc(3600 * 24)} {tc(3600 * 24 + 4)}\n"
        f"* FROM CLIP NAME: {C1}\n"
    )
    code, out = run(capsys, "tag", "import-edl", str(damaged), "--library", str(library))
    assert code == 1 and out["matched"] == 1 and out["events"][0]["event"] == "002"
    assert [u.split(": not a timecode")[0] for u in out["unread"]] == ["line 1: event 001"]
    empty = tmp_path / "empty.edl"
    empty.write_text("TITLE: nothing\nFCM: NON-DROP FRAME\n")
    assert main(["tag", "import-edl", str(empty), "--library", str(library)]) == 2
    assert f"{empty}: not an EDL file: no event lines in it" in capsys.readouterr().err
    assert main(["tag", "import-edl", str(tmp_path / "missing.edl"), "--library", str(library)]) == 2
    assert "missing.edl" in capsys.readouterr().err


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.lists(
        st.sampled_from(
            [
                "001  ",
                "A001     ",
                "Z009  ",
                "BL  ",
                "V     ",
                "A     ",
                "C        ",
                "D 030 ",
                "01:00:00:02 ",
                "01:00:00:10 ",
                "02:00:00:20 ",
                "99:99:99:99 ",
                f"* FROM CLIP NAME: {C1}",
                "* FROM CLIP NAME: ",
                "FCM: NON-DROP FRAME",
                "TITLE: x",
                "\n",
                "\r\n",
                "M2   ",
                "x",
                "  ",
            ]
        ),
        max_size=40,
    ).map("".join)
)
def test_any_text_imports_as_placed_or_explained_events_or_a_usage_error(library, tmp_path, text):
    """Fuzzed EDL text through the import: every event is placed on shots of one take or carries a problem
    that names its event; a line that cannot be read is listed by number; a file with no event at all is a
    UsageError that names it. Never a traceback."""
    from pipeline.editorial.cut import match_cut
    from pipeline.errors import UsageError

    path = tmp_path / "fuzzed.edl"
    path.write_text(text)
    catalog = open_catalog(library, create=False)
    try:
        _, events, unread = match_cut(catalog, path)
    except UsageError as exc:
        assert str(exc).startswith(f"{path}: not an EDL file"), exc
        return
    finally:
        catalog.close()
    for e in events:
        assert (e.clip is None) == (e.problem is not None)
        assert e.problem is None or e.problem.startswith(f"event {e.event} (record ")
        assert e.clip is None or (e.shots and set(e.shots) <= {0, 1})
    assert all(u.startswith(("line ", "event ")) for u in unread)
