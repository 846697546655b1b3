import json

import pytest

from pipeline.cli import main
from pipeline.config import load_settings
from pipeline.editorial.ale import parse_ale
from pipeline.editorial.takes import compile_patterns, parse_metadata, parse_name
from pipeline.media.synth import make_cuts_clip

PATTERNS = compile_patterns(load_settings().takes.patterns)


@pytest.mark.parametrize(
    "name,want",
    [
        ("012A_T03.mov", {"scene": "12A", "setup": "A", "take": "3"}),
        ("Sc12A-Tk3.mov", {"scene": "12A", "setup": "A", "take": "3"}),
        ("sc7_take12.mxf", {"scene": "7", "take": "12"}),
        ("A001C003_012A_T03.mov", {"scene": "12A", "setup": "A", "take": "3", "camera": "A", "roll": "A001"}),
        ("B002_C014_0612XY.mov", {"camera": "B", "roll": "B002"}),
        ("holiday_video.mp4", {}),
    ],
)
def test_naming_patterns(name, want):
    assert parse_name(name, PATTERNS) == want


ALE = """Heading
FIELD_DELIM\tTABS
VIDEO_FORMAT\t1080
FPS\t23.976

Column
Name\tTape\tStart\tEnd\tScene\tTake\tCircled\tComments

Data
Sc12A-Tk1\tA001\t01:00:00:00\t01:00:10:00\t12A\t1\t\tfalse start
Sc12A-Tk2\tA001\t01:00:10:00\t01:00:20:00\t12A\t2\tY\tgreat
Sc12A-Tk3\tA001\t01:00:20:00\t01:00:30:00\t12A\t3\tmaybe\t
Sc12A-Tk4\tA001\t01:00:30:00\t01:00:40:99\t12A\t4\t\t
Sc12A-Tk5\tA001\t01:00:40:00\t01:00:50:00\t12A\t5\t\t\textra
nothing_like_it\tA009\t02:00:00:00\t02:00:01:00\t3\t1\t\t
"""


def test_parse_ale_refuses_fields_with_reasons_and_applies_the_rest():
    result = parse_ale(ALE)
    assert result.fps == pytest.approx(23.976)
    assert [r.name for r in result.rows] == ["Sc12A-Tk1", "Sc12A-Tk2", "Sc12A-Tk3", "Sc12A-Tk4", "nothing_like_it"]
    assert result.rows[1].fields == {"scene": "12A", "setup": "A", "take": "2", "circled": True, "notes": "great"}
    assert result.rows[2].fields == {"scene": "12A", "setup": "A", "take": "3"}  # its circled 'maybe' refused
    assert result.rows[3].end is None and result.rows[3].fields["take"] == "4"  # its End refused
    assert [n for n, _ in result.bad] == [12, 13, 14]
    assert "maybe" in result.bad[0][1] and "field refused" in result.bad[0][1]
    assert result.bad[1][1].startswith("End: ") and "columns: row refused" in result.bad[2][1]


def test_parse_ale_refuses_a_bad_heading_fps_naming_the_line():
    from pipeline.errors import UsageError

    with pytest.raises(UsageError, match="ALE line 3: heading FPS 'abc'"):
        parse_ale("Heading\nFIELD_DELIM\tTABS\nFPS\tabc\n\nColumn\nName\tStart\n\nData\nx\t01:00:00:00\n")
    no_fps = parse_ale("Heading\nFIELD_DELIM\tTABS\n\nColumn\nName\tStart\n\nData\nx\t01:00:00:29\ny\t01:00:00:60\n")
    assert no_fps.fps is None and [r.name for r in no_fps.rows] == ["x", "y"] and [n for n, _ in no_fps.bad] == [9]


@pytest.fixture()
def library(tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    make_cuts_clip(card / "A001C001_012A_T01.mov", [20], "24000/1001", timecode="00:59:59:23")
    make_cuts_clip(card / "A001C002.mov", [20], "24000/1001", timecode="01:00:10:00")
    make_cuts_clip(card / "clip3.mov", [20], "25")
    make_cuts_clip(
        card / "012A_T05.mov",
        [20],
        "25",
        extra=[  # the camera's own tags disagree with the name
            "-movflags",
            "use_metadata_tags",
            "-metadata",
            "scene=007B",
            "-metadata",
            "take=02",
            "-metadata",
            "circled=Y",
            "-metadata",
            "com.apple.proapps.studio.angle=C",
            "-metadata",
            "notes=boom in frame",
        ],
    )
    lib = tmp_path / "lib"
    assert main(["ingest", str(card), "--library", str(lib), "--no-embed", "--json"]) == 0
    return lib


def takes_json(capsys, lib):
    capsys.readouterr()
    assert main(["take", "list", "--library", str(lib), "--json"]) == 0
    return {t["name"]: t for t in json.loads(capsys.readouterr().out)["takes"]}


def test_parse_metadata():
    assert parse_metadata({"scene": "012A", "take": "03", "circled": "yes", "camera": "B"}) == {
        "scene": "12A",
        "setup": "A",
        "take": "3",
        "circled": True,
        "camera": "B",
    }
    assert parse_metadata({"scene": " ", "circled": "maybe"}) == {}


def test_takes_from_metadata_win_over_the_name(library, tmp_path, capsys):
    t = takes_json(capsys, library)["012A_T05"]
    assert (t["scene"], t["setup"], t["take"], t["camera"], t["circled"], t["notes"]) == (
        "7B",
        "B",
        "2",
        "C",
        True,
        "boom in frame",
    )
    assert {t["sources"][k] for k in ("scene", "setup", "take", "camera", "circled", "notes")} == {"metadata"}
    assert main(["take", "set", "012A_T05", "--take", "4", "--library", str(library)]) == 0
    # the takes stage runs again (a changed [takes] pattern redoes it): the editor's value survives it
    config = tmp_path / "more-patterns.toml"
    patterns = [*load_settings().takes.patterns, r"_T(?P<setup>\d)\d$"]
    config.write_text("[takes]\npatterns = [" + ", ".join(f"'{p}'" for p in patterns) + "]\n")
    capsys.readouterr()
    argv = ["ingest", str(tmp_path / "card"), "--library", str(library), "--config", str(config), "--no-embed"]
    assert main([*argv, "--json"]) == 0
    assert {tuple(f["ran"]) for f in json.loads(capsys.readouterr().out)["files"]} == {("takes",)}
    t = takes_json(capsys, library)["012A_T05"]
    assert (t["take"], t["sources"]["take"], t["scene"]) == ("4", "cli", "7B")


def test_takes_from_names_ale_and_cli(library, tmp_path, capsys):
    takes = takes_json(capsys, library)
    t1 = takes["A001C001_012A_T01"]
    assert (t1["scene"], t1["take"], t1["camera"], t1["roll"], t1["circled"]) == ("12A", "1", "A", "A001", False)
    ale = tmp_path / "script.ale"
    ale.write_text(
        "Heading\nFPS\t23.976\n\nColumn\nName\tTape\tStart\tScene\tTake\tCircled\tComments\n\nData\n"
        "A001C002\tA001\t01:00:10:00\t12A\t2\tY\tbest one\n"
        "A001C001_012A_T01\tA001\t00:59:59:23\t12A\tone\t\t\n"
    )
    capsys.readouterr()
    assert main(["take", "import-ale", str(ale), "--library", str(library), "--json"]) == 1  # one bad line
    report = json.loads(capsys.readouterr().out)
    assert report["bad"] == [[9, "Take 'one' is not a take number (1, 1xa, 2PK, 3*): field refused"]]
    assert len(report["applied"]) == 2  # the other fields of line 9 are applied
    assert main(["take", "import-ale", str(ale), "--library", str(library)]) == 1  # what the editor reads
    assert "script.ale line 9: Take 'one' is not a take number (1, 1xa, 2PK, 3*): field refused" in (
        capsys.readouterr().out
    )
    takes = takes_json(capsys, library)
    t2 = takes["A001C002"]
    assert (t2["scene"], t2["take"], t2["circled"], t2["notes"]) == ("12A", "2", True, "best one")
    assert t2["sources"]["take"] == "ale:script.ale"
    assert (
        main(["take", "set", "clip3", "--scene", "014B", "--take", "07", "--circled", "--library", str(library)]) == 0
    )
    t3 = takes_json(capsys, library)["clip3"]
    assert (t3["scene"], t3["setup"], t3["take"], t3["circled"]) == ("14B", "B", "7", True)
    # an editor's value is never overwritten by the file name on a later run
    assert main(["take", "set", "A001C001_012A_T01", "--take", "9", "--library", str(library)]) == 0
    assert takes_json(capsys, library)["A001C001_012A_T01"]["take"] == "9"
    assert main(["take", "set", "nope", "--take", "1", "--library", str(library)]) == 2
