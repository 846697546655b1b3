"""STAGES is the one list of the ingest's stages: the runner keys its work by it (a changed setting redoes exactly
the stages that list it), the README's stage table is printed from it. Readers only read what the stages stored,
and a library ingested before takes and measure were stages says which is missing and what to run."""

import importlib.util
import json
import sqlite3
from pathlib import Path

import pytest

from pipeline.catalog import open_catalog
from pipeline.cli import main
from pipeline.config import load_settings
from pipeline.media.synth import make_cuts_clip

REPO = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("stages_table", REPO / "scripts" / "stages_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_holds_exactly_the_stage_table_printed_from_STAGES():
    script = _script()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert script.in_readme(readme) == script.table(), (
        "README.md's stage table is not the one STAGES gives: run `python scripts/stages_table.py` and put its "
        "output between <!-- stages:start --> and <!-- stages:end -->"
    )
    assert script.main(["--check"]) == 0


def test_the_table_names_every_stage_in_order_with_its_settings():
    from pipeline.ingest.stages import STAGES

    rows = _script().table().splitlines()[2:]
    assert [r.split(" | ")[0].lstrip("| ") for r in rows] == [
        "hash", "probe", "analyze", "proxy:PRESET", "takes", "measure", "embed", "index"
    ]  # fmt: skip
    assert len(rows) == len(STAGES)
    measure = next(r for r in rows if r.startswith("| measure "))
    assert "`[tags] short_side`, `[tags] frame_step`" in measure and "take_metrics" in measure
    assert "`[analysis]`, `[shots]`, `[keyframes]`" in next(r for r in rows if r.startswith("| analyze "))


def test_a_readme_without_the_markers_is_reported():
    script = _script()
    assert script.in_readme("# Dailies\nno table here\n") is None
    assert script.in_readme(f"x\n{script.START}\n| a |\n{script.END}\n") == "| a |\n"


# -- STAGES drives the runner --------------------------------------------------------------------------------
NAMES = ("A001C001_012A_T01.mov", "A001C002_012A_T02.mov")


@pytest.fixture()
def card(tmp_path):
    card = tmp_path / "A001"
    card.mkdir()
    make_cuts_clip(card / NAMES[0], [12, 14], "25", timecode="01:00:00:00")
    make_cuts_clip(card / NAMES[1], [16], "25", timecode="01:00:10:00")
    return card


def ran(catalog, card, settings) -> dict[str, list[str]]:
    from pipeline.ingest.batch import run_batch

    report = run_batch(catalog, [str(card)], settings, proxies=[])
    assert report.exit_code == 0, [f.message for f in report.files]
    return {f.path.rsplit("/", 1)[1]: f.ran for f in report.files}


def test_a_changed_setting_redoes_exactly_the_stages_that_list_it(card, tmp_path):
    from pipeline.editorial.measure import stored_metrics

    settings = load_settings()
    catalog = open_catalog(tmp_path / "lib")
    try:
        first = ran(catalog, card, settings)
        assert first == {n: ["hash", "probe", "analyze", "takes", "measure"] for n in NAMES}
        ids = {c["path"].rsplit("/", 1)[1]: c["id"] for c in catalog.clips()}
        took = {t["clip_id"]: t for t in catalog.takes()}
        assert (took[ids[NAMES[1]]]["scene"], took[ids[NAMES[1]]]["take"]) == ("12A", "2")
        before = stored_metrics(catalog, ids.values())
        assert set(before) == set(ids.values()) and all(m.frames for m in before.values())
        assert ran(catalog, card, settings) == {n: [] for n in NAMES}

        # the editor and an ALE set some fields; the takes stage must never write over them
        cid = ids[NAMES[0]]
        with catalog.transaction():
            catalog.set_take_fields(cid, {"take": "9"}, "cli")
            catalog.set_take_fields(cid, {"scene": "99", "notes": "soft"}, "ale:day1.ale")

        measured = settings.replace("tags", short_side=128)
        assert ran(catalog, card, measured) == {n: ["measure"] for n in NAMES}
        after = stored_metrics(catalog, ids.values())
        assert set(after) == set(ids.values()) and after[cid].to_json() != before[cid].to_json()
        assert ran(catalog, card, measured.replace("tags", dark_luma=0.3, soft_sharpness=10.0)) == {
            n: [] for n in NAMES
        }

        named = measured.replace("takes", patterns=(*settings.takes.patterns, r"_T(?P<setup>\d)\d$"))
        assert ran(catalog, card, named) == {n: ["takes"] for n in NAMES}
        t = catalog.take(cid)
        assert (t["take"], t["scene"], t["notes"]) == ("9", "99", "soft")  # the editor's and the ALE's, kept
        assert json.loads(t["sources"])["take"] == "cli" and json.loads(t["sources"])["scene"] == "ale:day1.ale"
        assert catalog.take(ids[NAMES[1]])["take"] == "2"

        assert ran(catalog, card, named.replace("shots", threshold=31.0)) == {n: ["analyze"] for n in NAMES}
    finally:
        catalog.close()


def test_a_bad_takes_pattern_stops_the_ingest_before_any_work(card, tmp_path):
    from pipeline.errors import UsageError
    from pipeline.ingest.batch import run_batch

    catalog = open_catalog(tmp_path / "lib")
    try:
        with pytest.raises(UsageError, match=r"\[takes\] patterns: '\(\?P<scene' is not a valid regular expression"):
            run_batch(catalog, [str(card)], load_settings().replace("takes", patterns=("(?P<scene",)), proxies=[])
        assert catalog.clips() == []
    finally:
        catalog.close()


# -- readers only read; a library from before the stages says what is missing ------------------------------


def _forget(lib, stage: str, name: str | None = None, metrics: bool = True) -> None:
    """What a library ingested before `stage` was a stage looks like: no run of it (and no measurements)."""
    conn = sqlite3.connect(lib / "catalog.sqlite")
    try:
        ids = [r[0] for r in conn.execute("SELECT id FROM clips WHERE ? IS NULL OR path LIKE ?", (name, f"%/{name}"))]
        for i in ids:
            conn.execute("DELETE FROM stage_runs WHERE clip_id = ? AND stage = ?", (i, stage))
            if stage == "measure" and metrics:
                conn.execute("DELETE FROM take_metrics WHERE clip_id = ?", (i,))
        conn.commit()
    finally:
        conn.close()


def _cli(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_library_ingested_before_takes_and_measure_were_stages_says_which_is_missing(card, tmp_path, capsys):
    lib = tmp_path / "lib"
    assert _cli(capsys, "ingest", str(card), "--library", str(lib), "--no-embed", "--json")[0] == 0
    _forget(lib, "takes")
    _forget(lib, "measure")

    code, out, err = _cli(capsys, "selects", "--library", str(lib))
    assert code == 1 and out == ""
    assert "2 clip(s) lack the measure stage (A001C001_012A_T01.mov, A001C002_012A_T02.mov)" in err
    assert "run `dailies ingest` on the same folders to fill it in" in err
    assert _cli(capsys, "export", "selects", "-o", str(tmp_path / "s.edl"), "--library", str(lib))[0] == 1
    assert _cli(capsys, "tag", "auto", "--library", str(lib))[0] == 1
    code, out, _ = _cli(capsys, "take", "list", "--library", str(lib))
    assert code == 0 and out.startswith("warning: 2 clip(s) lack the takes stage")
    code, out, _ = _cli(capsys, "clips", "--library", str(lib), "--json")
    assert [c["missing_stages"] for c in json.loads(out)["clips"]] == [["takes", "measure"]] * 2

    code, out, _ = _cli(capsys, "ingest", str(card), "--library", str(lib), "--no-embed", "--json")
    assert code == 0 and [f["ran"] for f in json.loads(out)["files"]] == [["takes", "measure"]] * 2
    code, out, _ = _cli(capsys, "selects", "--library", str(lib), "--json")
    data = json.loads(out)
    assert code == 0 and "missing_stages" not in data
    assert [p["name"] for p in data["setups"][0]["takes"]] and data["setups"][0]["setup"].startswith("12A")

    # one clip without measurements: the others are proposed, the missing one is named
    _forget(lib, "measure", NAMES[1])
    code, out, _ = _cli(capsys, "selects", "--library", str(lib), "--json")
    data = json.loads(out)
    assert code == 0 and data["missing_stages"] == {"measure": [str(card / NAMES[1])]}
    assert [p["name"] for s in data["setups"] for p in s["takes"]] == ["A001C001_012A_T01"]
    code, out, _ = _cli(capsys, "selects", "--library", str(lib))
    assert "warning: 1 clip(s) lack the measure stage (A001C002_012A_T02.mov)" in out


def test_measurements_a_reader_stored_before_are_taken_over_by_the_ingest(card, tmp_path, capsys):
    """A library whose selects were opened before measure was a stage holds measurements keyed like the
    stage's: the ingest records them as done instead of decoding the clips again."""
    lib = tmp_path / "lib"
    assert _cli(capsys, "ingest", str(card), "--library", str(lib), "--no-embed", "--json")[0] == 0
    _forget(lib, "measure", metrics=False)
    assert _cli(capsys, "selects", "--library", str(lib))[0] == 1
    code, out, _ = _cli(capsys, "ingest", str(card), "--library", str(lib), "--no-embed", "--json")
    assert code == 0 and [f["ran"] for f in json.loads(out)["files"]] == [[], []]
    assert _cli(capsys, "selects", "--library", str(lib))[0] == 0


def test_the_selects_page_of_a_library_without_measurements_says_what_to_run(card, tmp_path, capsys):
    from fastapi.testclient import TestClient

    from pipeline.web.app import create_app

    lib = tmp_path / "lib"
    assert _cli(capsys, "ingest", str(card), "--library", str(lib), "--no-embed", "--json")[0] == 0
    _forget(lib, "measure", NAMES[1])
    with TestClient(create_app(lib, load_settings()), base_url="http://127.0.0.1:8765") as c:
        page = c.get("/selects")
        assert page.status_code == 200 and "1 clip(s) lack the measure stage (A001C002_012A_T02.mov)" in page.text
        assert c.get("/api/selects").json()["missing_stages"] == {"measure": [str(card / NAMES[1])]}
        _forget(lib, "measure")
        r = c.get("/api/selects")
        assert r.status_code == 409 and "2 clip(s) lack the measure stage" in r.json()["error"]
        assert c.get("/selects").status_code == 409
        assert c.get("/export/selects.edl").status_code == 409


def test_the_report_and_clips_name_each_clips_stages_in_the_order_of_STAGES(card, tmp_path, capsys):
    """The morning report's stage line under each clip and `dailies clips` come from STAGES: the same stages,
    in its order, a missing one flagged in both."""
    from pipeline.ingest.stages import STAGES

    lib = tmp_path / "lib"
    assert _cli(capsys, "ingest", str(card), "--library", str(lib), "--no-embed", "--json")[0] == 0
    _forget(lib, "measure", NAMES[1])
    code, out, _ = _cli(capsys, "report", "--out", str(tmp_path / "rep"), "--library", str(lib), "--json")
    assert code == 0
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    by_name = {Path(c["path"]).name: c["stages"] for c in report["clips"]}
    names = [s.name for s in STAGES]
    for stages in by_name.values():
        assert list(stages) == sorted(stages, key=names.index)
    assert by_name[NAMES[0]] == {"probe": "done", "analyze": "done", "takes": "done", "measure": "done"}
    assert by_name[NAMES[1]] == {"probe": "done", "analyze": "done", "takes": "done", "measure": "missing"}
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "stages: probe analyze takes <span class=fail>measure: missing</span>" in html
    code, out, _ = _cli(capsys, "clips", "--library", str(lib), "--json")
    clips = {Path(c["path"]).name: c for c in json.loads(out)["clips"]}
    assert list(clips[NAMES[0]]["stages"]) == list(by_name[NAMES[0]])
    assert clips[NAMES[1]]["missing_stages"] == ["measure"]
