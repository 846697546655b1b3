"""The bad-input corpus (tests/corpus.py) through a real ingest: every file gets its own outcome and a
message that says what is wrong and what to do, recorded in the catalog; the others are ingested;
exit code 1 with a summary. Plus the cases a shared corpus cannot hold: unreadable files, a file
still being copied, and the no-shell rule."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from conftest import cli, expect_log_error
from corpus import lavfi_clip, make_corpus

REPO = Path(__file__).resolve().parents[1]
MHL_NOT_WRITTEN = r"card: failed MHL not written .* holds symbolic links"  # logged at ERROR for the corpus card


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    corpus = make_corpus(root / "card")
    cwd = os.getcwd()
    os.chdir(root)  # where a shell would have run `$(touch PWNED)`
    try:
        with expect_log_error(*corpus.failures_logged(), MHL_NOT_WRITTEN):
            code, out, err = cli("ingest", str(corpus.root), "--library", str(root / "lib"), "--no-embed", "--json")
    finally:
        os.chdir(cwd)
    return corpus, root, code, json.loads(out), err


def test_every_case_gets_its_outcome_and_message(corpus_run):
    corpus, _, code, report, err = corpus_run
    assert code == 1
    files = {Path(f["path"]).name: f for f in report["files"]}
    # each file exactly once (the folder symlink loop sub/up -> .. is not walked)
    assert sorted(files) == sorted(c.file for c in corpus.cases)
    wrong = []
    for case in corpus.cases:
        f = files[case.file]
        said = f["message"] if case.status != "ok" else " | ".join(f["warnings"])
        if f["status"] != case.status or (case.message and not re.search(case.message, said, re.S)):
            wrong.append(f"{case.file}: expected {case.status} /{case.message}/, got {f['status']}: {said}")
        if case.status != "ok":
            assert said.startswith(f["path"]), said  # the message names the file
        if case.status == "ok" and not case.message:
            assert f["warnings"] == [], (case.file, f["warnings"])
    assert not wrong, "\n".join(wrong)
    # one `error:` line per failed file on stderr, and a summary
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == sum(c.status == "failed" for c in corpus.cases)
    s = report["summary"]
    assert (s["ok"], s["failed"], s["skipped"]) == tuple(
        sum(c.status == k for c in corpus.cases) for k in ("ok", "failed", "skipped")
    )


def test_outcomes_are_recorded_in_the_catalog(corpus_run):
    corpus, root, *_ = corpus_run
    code, out, _ = cli("clips", "--library", str(root / "lib"), "--json")
    assert code == 0
    clips = {Path(c["path"]).name: c for c in json.loads(out)["clips"]}
    for case in corpus.cases:
        c = clips[case.file]
        assert c["status"] == case.status, case.file
        if case.status == "ok":
            assert c["error"] is None and c["shots"] >= 1 and c["stages"]["analyze"]["status"] == "done"
            if case.message:
                assert re.search(case.message, " ".join(c["warnings"])), (case.file, c["warnings"])
        else:
            assert re.search(case.message, c["error"], re.S), (case.file, c["error"])
            assert c["shots"] == 0  # nothing partial is kept for a failed or skipped file
    conn = sqlite3.connect(root / "lib" / "catalog.sqlite")
    levels = {(lvl, Path(p).name) for lvl, p in conn.execute("SELECT level, path FROM events")}
    assert {("error", c.file) for c in corpus.cases if c.status == "failed"} <= levels
    assert {("warning", c.file) for c in corpus.cases if c.status == "ok" and c.message} <= levels


def test_the_morning_report_carries_every_message(corpus_run, tmp_path):
    import html

    corpus, root, *_ = corpus_run
    code, out, _ = cli(
        "report", "--library", str(root / "lib"), "--day", "all", "--out", str(tmp_path / "rep"), "--json"
    )
    assert code == 1  # the night had failures
    data = json.loads(out)
    failures = {Path(f["clip"]).name: f["message"] for f in data["failures"] if f.get("clip")}
    warnings = {Path(w["clip"]).name: w["message"] for w in data["warnings"] if w.get("clip")}
    skipped = {Path(s["path"]).name: s["message"] for s in data["skipped"]}
    page = (tmp_path / "rep" / "report.html").read_text()
    for case in corpus.cases:
        if case.status == "skipped":  # listed with the reason it was skipped, not just the name
            assert re.search(case.message, skipped[case.file], re.S), (case.file, skipped[case.file])
            assert html.escape(skipped[case.file])[:60] in page, case.file
        if case.status == "failed":
            assert re.search(case.message, failures[case.file], re.S), case.file
            assert html.escape(failures[case.file])[:60] in page
        elif case.status == "ok" and case.message:
            assert re.search(case.message, warnings[case.file]), case.file
            assert html.escape(warnings[case.file])[:60] in page


def test_hostile_names_reach_no_shell(corpus_run):
    corpus, root, *_ = corpus_run
    assert not list(root.rglob("PWNED")) and not (REPO / "PWNED").exists()
    assert not Path("PWNED").exists()


def test_odd_but_valid_pictures_are_read_right(corpus_run):
    _, root, *_ = corpus_run
    code, out, _ = cli("clips", "--library", str(root / "lib"), "--json")
    probe = {Path(c["path"]).name: c["probe"] for c in json.loads(out)["clips"] if c["probe"]}
    assert probe["VFR.mp4"]["vfr"] is True
    assert (probe["ROTATED.mp4"]["display_width"], probe["ROTATED.mp4"]["display_height"]) == (90, 160)
    assert (probe["ANAMORPHIC.mov"]["display_width"], probe["ANAMORPHIC.mov"]["display_height"]) == (320, 90)
    assert probe["PRORES_10BIT.mov"]["pix_fmt"] == "yuv422p10le"
    assert probe["HEVC_10BIT.mp4"]["codec"] == "hevc"
    assert probe["INTERLACED.mpg"]["field_order"] in ("tt", "tb")
    assert probe["HUGE_8K.mp4"]["width"] == 7680
    # what the README promises of the pictures: keyframe JPEGs (height, width) as a viewer expects them
    import cv2

    conn = sqlite3.connect(root / "lib" / "catalog.sqlite")

    def thumbs(name):
        rows = conn.execute(
            "SELECT k.thumb FROM keyframes k JOIN shots s ON s.id = k.shot_id JOIN clips c"
            " ON c.id = s.clip_id WHERE c.path LIKE ?",
            (f"%/{name}",),
        ).fetchall()
        assert rows, name
        return {cv2.imread(str(root / "lib" / t)).shape[:2] for (t,) in rows}

    assert thumbs("A001C001.mov") == {(90, 160)}
    assert thumbs("ROTATED.mp4") == {(160, 90)}  # upright: portrait, as displayed
    assert thumbs("ANAMORPHIC.mov") == {(90, 320)}  # de-squeezed to 2:1 pixels
    assert thumbs("TINY_16x16.mp4") == {(16, 16)}  # never upscaled
    assert thumbs("HUGE_8K.mp4") == {(256, 456)}  # decoded at analysis size (short side 256), 16:9 kept
    # VFR: the cut is where the bars begin in time (source frame 51 at 2.04 s, the 38th frame kept), not at
    # frame index / average rate
    (start,) = conn.execute(
        "SELECT s.start_time FROM shots s JOIN clips c ON c.id = s.clip_id WHERE c.path LIKE '%/VFR.mp4' AND s.idx = 1"
    ).fetchone()
    assert start == pytest.approx(2.04, abs=0.005)


def test_a_second_run_does_no_work_and_says_the_same(corpus_run):
    corpus, root, _, first, _ = corpus_run
    with expect_log_error(*corpus.failures_logged(), MHL_NOT_WRITTEN):
        code, out, _ = cli("ingest", str(corpus.root), "--library", str(root / "lib"), "--no-embed", "--json")
    again = json.loads(out)
    assert code == 1
    ok = [f for f in again["files"] if f["status"] == "ok"]
    assert all(f["ran"] == [] for f in ok)
    assert {f["path"]: (f["status"], f["message"], f["warnings"]) for f in again["files"]} == {
        f["path"]: (f["status"], f["message"], f["warnings"]) for f in first["files"]
    }


# -- cases a shared corpus cannot hold -----------------------------------------------------------------


def _as_nobody() -> list[str]:
    """Run a command as `nobody`: root reads every file whatever its mode, so the test drops root."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv is missing: cannot drop privileges to test an unreadable file")
    return [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def _assert_in_catalog_and_report(lib: Path, out: Path, name: str, said: str) -> None:
    """`name` failed with a message matching `said` in `dailies clips` and in the morning report."""
    code, text, _ = cli("clips", "--library", str(lib), "--json")
    clip = next(c for c in json.loads(text)["clips"] if Path(c["path"]).name == name)
    assert clip["status"] == "failed" and re.search(said, clip["error"]), clip
    code, text, _ = cli("report", "--library", str(lib), "--day", "all", "--out", str(out), "--json")
    assert code == 1
    failures = {Path(f["clip"]).name: f["message"] for f in json.loads(text)["failures"] if f.get("clip")}
    # the report lists the file in its own column, so its message does not repeat the path
    assert not failures[name].startswith(str(Path(clip["path"]))), failures
    assert re.search(said, f"{name}: {failures[name]}"), failures


def test_unreadable_file_is_named_and_the_rest_ingested():
    base = Path(tempfile.mkdtemp(prefix="dailies-perm-"))
    try:
        base.chmod(0o755)
        card = base / "card"
        card.mkdir()
        lavfi_clip(card / "A001C001.mov")
        shutil.copy(card / "A001C001.mov", card / "A001C002.mov")
        (card / "A001C002.mov").chmod(0o000)
        lib = base / "lib"
        lib.mkdir()
        lib.chmod(0o777)
        argv = ["ingest", str(card), "--library", str(lib), "--no-embed", "--json"]
        if os.geteuid() == 0:
            env = {**os.environ, "HOME": str(lib), "HF_HOME": str(lib / "hf"), "PYTHONPATH": str(REPO)}
            proc = subprocess.run(
                [*_as_nobody(), sys.executable, "-m", "pipeline.cli", *argv],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                cwd=lib,
            )
            code, out, err = proc.returncode, proc.stdout, proc.stderr
        else:
            # the file's failure, and perhaps the card's MHL (ascmhl cannot read the file either)
            with expect_log_error(r"A001C002\.mov: failed|card: failed MHL not written"):
                code, out, err = cli(*argv)
        assert code == 1, err
        files = {Path(f["path"]).name: f for f in json.loads(out)["files"]}
        assert files["A001C001.mov"]["status"] == "ok"
        assert files["A001C002.mov"]["status"] == "failed"
        said = r"A001C002\.mov: permission denied.*make it readable"
        assert re.search(said, files["A001C002.mov"]["message"])
        assert json.loads(out)["summary"] == {"ok": 1, "failed": 1, "skipped": 0}
        _assert_in_catalog_and_report(lib, base / "rep", "A001C002.mov", said)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.expect_log_error(r"A001C002\.mov: failed .*still being written")
def test_file_still_being_copied_is_not_taken_as_complete(tmp_path):
    """A writer appends to a clip while ingest reads it: that clip fails with `still being written`, the
    other is ingested; once the copy is finished the next run ingests it in full."""
    from pipeline.catalog import open_catalog
    from pipeline.config import load_settings
    from pipeline.ingest.batch import run_batch
    from pipeline.ingest.observer import Observer

    src = lavfi_clip(tmp_path / "source.mov", seconds=4)
    data = src.read_bytes()
    card = tmp_path / "card"
    card.mkdir()
    lavfi_clip(card / "A001C001.mov")
    growing = card / "A001C002.mov"
    growing.write_bytes(data[:4096])
    done_reading = threading.Event()

    def copy_slowly():  # half at once, then a trickle until ingest has read the file, then the rest
        at = len(data) // 2
        with open(growing, "ab") as fh:
            fh.write(data[4096:at])
            fh.flush()
            while not done_reading.is_set() and at < len(data) - 64:
                fh.write(data[at : at + 16])
                fh.flush()
                at += 16
                time.sleep(0.005)
            fh.write(data[at:])

    class OnFile(Observer):
        def file_done(self, index, total, outcome):
            if outcome.path == str(growing):
                done_reading.set()

    writer = threading.Thread(target=copy_slowly)
    writer.start()
    catalog = open_catalog(tmp_path / "lib")
    try:
        report = run_batch(catalog, [str(card)], load_settings(), observer=OnFile())
        writer.join()
        outcome = {Path(f.path).name: f for f in report.files}
        assert outcome["A001C001.mov"].status == "ok"
        assert outcome["A001C002.mov"].status == "failed"
        assert "still being written" in outcome["A001C002.mov"].message
        assert catalog.clip_by_path(str(growing))["status"] == "failed"
        _assert_in_catalog_and_report(
            tmp_path / "lib", tmp_path / "rep", "A001C002.mov", r"A001C002\.mov: still being written.*run ingest again"
        )
        # the copy has finished: the next run ingests it in full, from the bytes now on disk
        report = run_batch(catalog, [str(card)], load_settings())
        outcome = {Path(f.path).name: f for f in report.files}
        assert outcome["A001C002.mov"].status == "ok" and outcome["A001C002.mov"].shots == 2
        assert outcome["A001C002.mov"].ran == ["hash", "probe", "analyze", "takes", "measure"]
        assert catalog.clip_by_path(str(growing))["frame_count"] == 100
    finally:
        catalog.close()


def test_no_shell_in_the_code():
    """The runtime guard (conftest `_no_shell`) covers what the tests run; this covers the rest."""
    bad = re.compile(
        r"shell\s*=\s*True|os\.system\(|os\.popen\(|subprocess\.getoutput|subprocess\.getstatusoutput|create_subprocess_shell"
    )
    hits = [
        f"{p}:{n}"
        for folder in ("pipeline", "models", "scripts")
        for p in (REPO / folder).rglob("*.py")
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if bad.search(line)
    ]
    assert hits == []
    with pytest.raises(AssertionError, match="shell"):
        subprocess.run("true", shell=True)


def test_the_readme_table_says_what_the_corpus_checks(tmp_path):
    """Every corpus case has its row in docs/reliability.md's table, with the status the test checks
    and the same `gets` text, so the table cannot drift from what the code is held to."""
    readme = (REPO / "docs" / "reliability.md").read_text()
    section = readme[: readme.index("\n## Concurrent use")]
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| the trouble")
    ]
    corpus = make_corpus(tmp_path / "card")
    wrong = []
    for case in corpus.cases:
        row = next((r for r in rows if f"`{case.file}`" in r[1]), None)
        if row is None:
            wrong.append(f"{case.file}: no row")
        elif (row[2], row[3]) != (case.status, case.gets):
            wrong.append(
                f"{case.file}: the docs say {row[2]} / {row[3]!r}; the test holds it to {case.status} / {case.gets!r}"
            )
    assert not wrong, "\n".join(wrong)
