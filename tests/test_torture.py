"""Crash safety, shortened: scripts/torture.py with 3 runs (kill -9 at random moments, then to the end)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # kills and reruns a real ingest three times


def load_script():
    spec = importlib.util.spec_from_file_location("torture", REPO / "scripts" / "torture.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def torture_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("torture")
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "torture.py"),
            "--runs",
            "3",
            "--clips",
            "2",
            "--seed",
            "8",
            "--keep",
            str(work),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print("\n" + proc.stderr)
    return proc, work


def test_every_run_survives_its_kills(torture_run):
    proc, _ = torture_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout)
    assert data["summary"]["passed"] == 3 and data["summary"]["kills"] >= 2
    for run in data["runs"]:
        assert run["ok"] and run["final_exit"] == 0
        assert run["vectors"] == run["keyframes"] == run["index"] > 0 and run["orphans"] == 0


def test_the_checks_catch_what_they_claim_to(torture_run, tmp_path):
    """The torture checks are not vacuous: damage a finished library and they say what is wrong."""
    _, work = torture_run
    t = load_script()
    st = t.read_state(work / "reference")
    ref = {Path(p).name: (st["shots"][c["id"]], st["keyframes"][c["id"]]) for p, c in st["clips"].items()}
    lib = tmp_path / "lib"
    shutil.copytree(work / "run01", lib)
    assert t.check_final(lib, ref, embed=True)[0] == []
    seen = t.done_stages(lib)
    assert t.redone_since(seen, t.done_stages(lib)) == []
    conn = sqlite3.connect(lib / "catalog.sqlite")
    conn.execute(
        "UPDATE stage_runs SET finished_at = '2099-01-01T00:00:00.000Z' WHERE stage = 'analyze'"
        " AND clip_id = (SELECT min(id) FROM clips)"
    )  # as if a later run analysed it again
    conn.commit()
    assert [s for _, s in t.redone_since(seen, t.done_stages(lib))] == ["analyze"]
    kf = conn.execute("SELECT id FROM keyframes ORDER BY id LIMIT 1").fetchone()[0]
    conn.execute("DELETE FROM vectors WHERE keyframe_id = ?", (kf,))  # catalog and FAISS now disagree
    conn.execute("UPDATE clips SET status = 'ok'")
    conn.execute("DELETE FROM stage_runs WHERE stage = 'embed' AND clip_id = (SELECT min(id) FROM clips)")
    conn.commit()
    conn.close()
    (lib / "thumbs" / "orphan.jpg").write_bytes(b"x")
    problems = " | ".join(t.check_final(lib, ref, embed=True)[0])
    assert "FAISS ids" in problems and "thumbnail files without a keyframe row" in problems
    assert "status ok but stages done" in problems


def test_index_is_brought_back_when_every_vector_was_already_stored(tmp_path):
    """The window torture aims at: killed after the last vector was committed, before the index was
    saved. The next run has nothing to embed, and must still bring FAISS in line with the catalog."""
    from pipeline.cli import main
    from pipeline.media.synth import make_cuts_clip

    card = tmp_path / "card"
    card.mkdir()
    make_cuts_clip(card / "A001C001.mov", [20, 20], "25")
    lib = tmp_path / "lib"
    argv = ["ingest", str(card), "--library", str(lib), "--model", "random-tiny", "--json"]
    assert main(argv) == 0
    for f in (lib / "index").iterdir():
        f.unlink()
    assert main(argv) == 0
    t = load_script()
    st = t.read_state(lib)
    state, ids = t.index_state(lib, st["model"])
    assert state == "ok" and ids == st["vector_ids"] and len(ids) == 2
