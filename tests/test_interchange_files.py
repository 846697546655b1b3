"""The interchange table (scripts/eval_interchange.py) as goals: every real file read or refused with a
reason, never a traceback; every video event of the Avid lock of camera files matched; every export
re-read frame-exact by every independent reader."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "eval_interchange.py"


@pytest.fixture(scope="module")
def table() -> dict:
    spec = importlib.util.spec_from_file_location("eval_interchange", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.run()


def test_every_real_edl_is_read_event_by_event(table):
    rows = {r["file"]: r for r in table["edl"]}
    assert len(rows) == 38
    assert all(r["unread"] == 0 for r in rows.values()), [r["first_unread"] for r in rows.values() if r["unread"]]
    lock = rows["pycmx/ToD_R4_LOCK3.1_030618_Video.edl"]
    assert lock["otio"].startswith("refused")  # OTIO's whole-file reader refuses the 376-event lock
    assert (lock["matched"], lock["matched_cmx"]) == (376, 376)  # every video event, with or without comments
    avid = [r for r in rows.values() if "matched" in r]  # every EDL whose events name camera files
    assert len(avid) >= 8 and all(r["matched"] == r["video"] for r in avid)


def test_every_real_ale_row_and_xml_file_is_read_or_refused_with_a_reason(table):
    assert all(r["rows"] == r["read"] + r["rows_refused"] for r in table["ale"])
    xml = table["xml"]
    assert len(xml) == 51
    assert all(r["result"] == "read" or r["result"].startswith("refused: ") for r in xml)
    assert sum(r["result"] == "read" for r in xml) >= 45


def test_every_export_is_re_read_frame_exact(table):
    cells = [cell for row in table["round_trip"].values() for cell in row.values()]
    assert cells and not [c for c in cells if "DIFFERS" in c]
    assert all("pycmx exact" in row["edl"] for row in table["round_trip"].values())
