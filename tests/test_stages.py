"""STAGES is the one list of the ingest's stages: the README's stage table is printed from it."""

import importlib.util
from pathlib import Path

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
