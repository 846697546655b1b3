"""The overnight batch: killed mid-way it resumes and finishes (each clip done once, no duplicate rows, no
half-written proxy counted); --watch picks up new cards; the morning report lists every clip and failure."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from overnight_helpers import camera_clip, ffprobe, video

from pipeline.catalog import open_catalog
from pipeline.cli import main
from pipeline.config import load_settings
from pipeline.ingest.batch import run_batch
from pipeline.ingest.watch import watch
from pipeline.web.app import create_app

REPO = Path(__file__).resolve().parents[1]
PRESETS = "h264,prores-proxy"


def _done_clips(lib: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{lib / 'catalog.sqlite'}?mode=ro", uri=True, timeout=1)
        n = conn.execute(
            "SELECT count(*) FROM stage_runs WHERE stage = 'proxy:prores-proxy' AND status = 'done'"
        ).fetchone()[0]
        conn.close()
        return n
    except sqlite3.Error:
        return 0


def test_killed_batch_resumes_and_finishes_every_clip_once(tmp_path):
    card = tmp_path / "A003"
    card.mkdir()
    names = [f"A003C00{i}_220316_R3EF.mov" for i in range(1, 5)]
    for n in names:
        camera_clip(card / n, "24000/1001", 72, "01:00:00:00", size="320x180")
    lib = tmp_path / "lib"
    argv = [
        sys.executable,
        "-m",
        "pipeline.cli",
        "ingest",
        str(card),
        "--library",
        str(lib),
        "--no-embed",
        "--proxies",
        PRESETS,
        "--workers",
        "1",
        "--json",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    partial_seen = False
    while time.monotonic() < deadline and proc.poll() is None:
        if _done_clips(lib) >= 2 and list(lib.rglob("*.part")):
            partial_seen = True
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert partial_seen, "the batch finished before it could be killed mid-file"
    done_before = _done_clips(lib)
    assert 2 <= done_before < len(names)
    conn = sqlite3.connect(lib / "catalog.sqlite")
    # the half-written proxy is on disk under its temporary name but not in the catalog
    assert conn.execute("SELECT count(*) FROM proxies WHERE path LIKE '%.part'").fetchone()[0] == 0
    assert conn.execute("SELECT status FROM batch_runs").fetchall() == [("running",)]  # killed: never finished
    conn.close()

    second = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)
    ran = {Path(f["path"]).name: f["ran"] for f in report["files"]}
    redone = [n for n in names if ran[n]]
    assert len(redone) == len(names) - done_before  # the finished clips were not touched again
    for n in redone:
        assert "proxy:h264" in ran[n] and "proxy:prores-proxy" in ran[n]

    conn = sqlite3.connect(lib / "catalog.sqlite")
    assert conn.execute("SELECT count(*), count(DISTINCT path) FROM clips").fetchone() == (4, 4)
    assert conn.execute("SELECT count(*) FROM proxies").fetchone()[0] == 8
    assert (
        conn.execute(
            "SELECT count(*) FROM (SELECT clip_id, idx FROM shots GROUP BY 1, 2 HAVING count(*) > 1)"
        ).fetchone()[0]
        == 0
    )
    assert conn.execute("SELECT count(*) FROM shots").fetchone()[0] == 8  # two shots per clip
    assert [r[0] for r in conn.execute("SELECT status FROM batch_runs ORDER BY id")] == ["running", "done"]
    for path, frames in conn.execute("SELECT path, frame_count FROM proxies"):
        out = ffprobe(lib / path, count=True)
        assert int(video(out)["nb_read_frames"]) == frames == 72
    assert not list(lib.rglob("*.part"))
    logs = list((lib / "logs").glob("ingest-*.log"))
    assert len(logs) == 2 and "done" in max(logs, key=lambda p: p.stat().st_mtime).read_text()


def test_watch_picks_up_a_new_card(tmp_path):
    shoot = tmp_path / "shoot"
    (shoot / "A001").mkdir(parents=True)
    camera_clip(shoot / "A001" / "A001C001_220317_R1AA.mov", "25", 10, "01:00:00:00")
    settings = load_settings().replace("batch", watch_interval=0.0, settle_seconds=0.0)
    catalog = open_catalog(tmp_path / "lib")
    runs = []

    def run(paths):
        runs.append(sorted(Path(p).name for p in paths))
        run_batch(catalog, paths, settings)

    def sleep(_):
        if len(runs) == 1 and not (shoot / "B001").exists():  # a second card lands while we watch
            (shoot / "B001").mkdir()
            camera_clip(shoot / "B001" / "B001C001_220317_R1BB.mov", "25", 10, "02:00:00:00")

    try:
        watch(catalog, [str(shoot)], settings, run, stop=lambda: len(runs) >= 2, sleep=sleep)
        assert runs == [["A001"], ["B001"]]
        assert [Path(c["path"]).name for c in catalog.clips()] == [
            "A001C001_220317_R1AA.mov",
            "B001C001_220317_R1BB.mov",
        ]
        assert {c["path"].rsplit("/", 1)[1]: c["mhl_status"] for c in catalog.cards()} == {
            "A001": "written",
            "B001": "written",
        }
    finally:
        catalog.close()


def test_watch_command_takes_a_card_copied_in_later_and_ctrl_c_ends_it(tmp_path):
    """`dailies ingest SHOOT --watch --json` end to end: the first pass, a card that lands later, one JSON
    line per batch, Ctrl-C ends the watch with exit 0."""
    shoot = tmp_path / "shoot"
    (shoot / "A001").mkdir(parents=True)
    camera_clip(shoot / "A001" / "A001C001_220317_R1AA.mov", "25", 10, "01:00:00:00")
    config = tmp_path / "fast-watch.toml"
    config.write_text("[batch]\nwatch_interval = 0.2\nsettle_seconds = 0.3\n")
    lib = tmp_path / "lib"
    argv = [
        sys.executable,
        "-m",
        "pipeline.cli",
        "ingest",
        str(shoot),
        "--watch",
        "--library",
        str(lib),
        "--config",
        str(config),
        "--no-embed",
        "--proxies",
        "h264",
        "--json",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []  # one JSON line per finished batch, read as the watch prints them
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()

    def wait_for(n: int) -> None:
        deadline = time.monotonic() + 60
        while len(lines) < n and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert len(lines) == n, (proc.poll(), lines)

    try:
        wait_for(1)  # the first pass over what is already there
        (shoot / "B001").mkdir()
        camera_clip(shoot / "B001" / "B001C001_220317_R1BB.mov", "25", 10, "02:00:00:00")
        wait_for(2)  # the card copied in later
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        reader.join(timeout=5)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    out = "".join(lines)
    assert proc.returncode == 0, err
    assert "watching" in err and "watch ended" in err
    batches = [json.loads(line) for line in out.splitlines()]
    assert [[Path(f["path"]).name for f in b["files"]] for b in batches] == [
        ["A001C001_220317_R1AA.mov"],
        ["B001C001_220317_R1BB.mov"],
    ]
    assert all("proxy:h264" in b["files"][0]["ran"] for b in batches)
    assert (lib / "proxies" / "h264" / "B001" / "B001C001_220317_R1BB.mp4").is_file()


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.clips, self.failures, self.images, self.text = [], 0, [], []
        self.links = []
        self.row: str | None = None  # the clip row being read
        self.rows: dict[str, dict] = {}  # clip id -> {"text": [...], "images": [...], "links": [...]}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr":
            self.row = a["data-clip-id"] if "clip" in (a.get("class") or "").split() else None
            if self.row is not None:
                self.clips.append(self.row)
                self.rows[self.row] = {"text": [], "images": [], "links": []}
        if tag == "div" and "failure" in (a.get("class") or "").split():
            self.failures += 1
        if tag == "img":
            self.images.append(a["src"])
        if tag == "a":
            self.links.append(a["href"])
        if self.row is not None and tag in ("img", "a"):
            self.rows[self.row]["images" if tag == "img" else "links"].append(a.get("src") or a.get("href"))

    def handle_endtag(self, tag):
        if tag in ("tr", "table"):
            self.row = None

    def handle_data(self, data):
        self.text.append(data)
        if self.row is not None:
            self.rows[self.row]["text"].append(data)


@pytest.mark.expect_log_error(r"A004C003_220318_R4GH\.mov: failed")
def test_report_lists_every_clip_and_every_failure(tmp_path, capsys):
    card = tmp_path / "A004"
    card.mkdir()
    for i in (1, 2):
        camera_clip(card / f"A004C00{i}_220318_R4GH.mov", "30000/1001", 40, "01:00:00;00")
    (card / "A004C003_220318_R4GH.mov").write_text("a truncated copy, not a movie\n" * 10)
    lib = tmp_path / "lib"
    assert main(["ingest", str(card), "--library", str(lib), "--no-embed", "--proxies", "h264"]) == 1
    out = tmp_path / "report"
    capsys.readouterr()
    assert main(["report", "--library", str(lib), "--out", str(out)]) == 1
    html = (out / "report.html").read_text()
    page = _Page()
    page.feed(html)
    data = json.loads((out / "report.json").read_text())
    assert len(page.clips) == len(data["clips"]) == 3
    assert page.failures == len(data["failures"]) == 1
    assert "A004C003_220318_R4GH.mov" in data["failures"][0]["clip"]
    # the reason, saying what to do, without the path a second time (the report shows it beside)
    assert "copy it from the card again" in data["failures"][0]["message"]
    assert data["failures"][0]["message"].startswith("not a media file")
    # failures and warnings come first: before the totals and the clip table
    assert html.index('class="bad failure"') < html.index("<h2>Totals") < html.index("<h2>Clips")
    text = " ".join(page.text)
    for name in ("A004C001_220318_R4GH.mov", "A004C002_220318_R4GH.mov", "A004C003_220318_R4GH.mov"):
        assert name in text
    assert "http://" not in html and "https://" not in html  # nothing fetched from the network
    assert page.images and all((out / src).is_file() for src in page.images + page.links)
    ok = [c for c in data["clips"] if c["status"] == "ok"]
    assert len(ok) == 2
    for c in ok:  # every per-clip field the morning report promises, in the JSON and in the clip's row
        assert c["shots"] == 2 and c["reel"] == "A004"
        assert c["duration"] == round(40 * 1001 / 30000, 3) and c["frame_count"] == 40
        assert c["source_tc"] == {
            "start": "01:00:00;00",
            "end": "01:00:01;09",  # 40 frames at 29.97 DF
            "drop_frame": True,
            "rate": "30000/1001",
        }
        assert [p["preset"] for p in c["proxies"]] == ["h264"] and Path(c["proxies"][0]["path"]).is_file()
        assert c["checksum"].startswith("xxh64:") and c["mhl"]["status"] == "verified"
        assert c["strip"] and all((out / s["src"]).is_file() and s["tc"].startswith("01:00:0") for s in c["strip"])
        assert (out / c["contact_sheet"]).is_file()
        row = page.rows[str(c["id"])]
        row_text = " ".join(row["text"])
        for shown in (
            c["name"],
            "01:00:00;00 / 01:00:01;09",
            "0:00:01",
            c["proxies"][0]["path"],
            c["checksum"],
            "verified",
            "A004",
        ):
            assert shown in row_text, (c["name"], shown)
        assert row_text.split("fr @")[0].rstrip().endswith("40")  # frame count beside the duration
        assert [("img/" in src) for src in row["images"]] == [True] * len(c["strip"])  # the thumbnail strip
        assert row["links"] == [c["contact_sheet"]]
    t = data["totals"]
    assert (t["clips"], t["ok"], t["failed"], t["shots"], t["proxies"]) == (3, 2, 1, 4, 2)
    assert t["duration_seconds"] == round(2 * 40 * 1001 / 30000, 3)
    assert t["bytes_proxies"] == sum(Path(c["proxies"][0]["path"]).stat().st_size for c in ok)


@pytest.mark.parametrize("day", ["2001-01-01"])
def test_report_of_a_day_without_clips_is_empty_not_an_error(tmp_path, capsys, day):
    card = tmp_path / "A005"
    card.mkdir()
    camera_clip(card / "A005C001.mov", "25", 10)
    lib = tmp_path / "lib"
    assert main(["ingest", str(card), "--library", str(lib), "--no-embed"]) == 0
    assert main(["report", "--library", str(lib), "--out", str(tmp_path / "r"), "--day", day]) == 0
    assert json.loads((tmp_path / "r" / "report.json").read_text())["clips"] == []
    assert main(["report", "--library", str(lib), "--out", str(tmp_path / "r"), "--day", "yesterday"]) == 2
    capsys.readouterr()
    assert main(["report", "--library", str(lib), "--out", str(tmp_path / "r"), "--day", "2026-13-45"]) == 2
    assert "--day 2026-13-45: give a date as YYYY-MM-DD" in capsys.readouterr().err


def test_a_dailies_day_runs_from_noon_local_time_so_an_overnight_batch_is_one_day(tmp_path, monkeypatch, capsys):
    """The batch started at 20:30 and the clips catalogued after midnight are one day's report; the day is
    local time ([report] day_start_hour, default 12; 0 = calendar days)."""
    card = tmp_path / "A010"
    card.mkdir()
    names = ["A010C001.mov", "A010C002.mov", "A010C003.mov"]
    for n in names:
        camera_clip(card / n, "25", 6)
    lib = tmp_path / "lib"
    assert main(["ingest", str(card), "--library", str(lib), "--no-embed"]) == 0
    conn = sqlite3.connect(lib / "catalog.sqlite")
    added = {
        "A010C001.mov": "2026-11-25T20:30:00.000Z",  # evening: the batch starts
        "A010C002.mov": "2026-11-26T03:00:00.000Z",  # after midnight: the same night
        "A010C003.mov": "2026-11-26T13:00:00.000Z",
    }  # the next afternoon: the next day
    with conn:
        for name, at in added.items():
            conn.execute("UPDATE clips SET added_at = ? WHERE path = ?", (at, str(card / name)))
    conn.close()

    def report(*extra) -> tuple[str, list[str]]:
        capsys.readouterr()
        assert main(["report", "--library", str(lib), "--out", str(tmp_path / "r"), "--json", *extra]) == 0
        data = json.loads(capsys.readouterr().out)
        return data["day"], [c["name"] for c in data["clips"]]

    try:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()
        assert report() == ("2026-11-26", ["A010C003.mov"])  # the latest day
        assert report("--day", "2026-11-25") == ("2026-11-25", ["A010C001.mov", "A010C002.mov"])
        with TestClient(create_app(lib, load_settings()), base_url="http://127.0.0.1:8765") as web:
            token = web.app.state.guard.csrf
            for query, expected in (({}, report()), ({"day": "2026-11-25"}, report("--day", "2026-11-25"))):
                assert web.post("/report/", params=query, data={"csrf": token}).status_code == 200  # built, shown
                data = web.get("/report/report.json", params=query).json()  # the web UI's report: the same days
                assert (data["day"], [c["name"] for c in data["clips"]]) == expected
            assert sorted(p.name for p in (lib / "reports").iterdir()) == ["2026-11-25", "2026-11-26"]
        calendar = tmp_path / "calendar.toml"
        calendar.write_text("[report]\nday_start_hour = 0\n")
        assert report("--day", "2026-11-26", "--config", str(calendar)) == ("2026-11-26", names[1:])
        monkeypatch.setenv("TZ", "LAB+8")  # eight hours west of UTC: 13:00Z is 05:00 there, still the night before
        time.tzset()
        assert report() == ("2026-11-25", names)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_ctrl_c_stops_the_workers_leaves_no_partial_file_and_a_rerun_finishes(tmp_path):
    from pipeline.ingest.observer import Observer

    card = tmp_path / "A006"
    card.mkdir()
    for i in range(1, 5):
        camera_clip(card / f"A006C00{i}.mov", "25", 60, "01:00:00:00")
    settings = load_settings().replace("batch", workers=2)

    class CtrlC(Observer):
        def file_done(self, index, total, outcome):
            raise KeyboardInterrupt  # the user presses Ctrl-C after the first file

    catalog = open_catalog(tmp_path / "lib")
    try:
        with pytest.raises(KeyboardInterrupt):
            run_batch(catalog, [str(card)], settings, proxies=["h264"], observer=CtrlC())
        assert [r["status"] for r in catalog.batch_runs()] == ["interrupted"]
        # run_batch returned only after the other worker stopped (at its next progress report): no worker
        # of the interrupted run is left to write (or clear) files while the rerun works
        assert not [t.name for t in threading.enumerate() if t.name.startswith("dailies-worker")]
        assert not list((tmp_path / "lib").rglob("*.part"))
        done = {c["path"] for c in catalog.clips() if catalog.proxies(c["id"])}
        assert 1 <= len(done) < 4
        report = run_batch(catalog, [str(card)], settings, proxies=["h264"])
        assert sorted(f.path for f in report.files if f.ran) == sorted(
            str(p) for p in card.glob("*.mov") if str(p) not in done
        )
        assert all(len(catalog.proxies(c["id"])) == 1 for c in catalog.clips())
    finally:
        catalog.close()


def test_ctrl_c_during_a_proxy_encoded_on_its_own_stops_it_at_once(tmp_path):
    """Clips analysed earlier get their proxies from an encode of their own; Ctrl-C stops that encode at its
    next progress report instead of waiting for it to finish (the batch returns only once workers stopped)."""
    from pipeline.ingest.observer import Observer

    card = tmp_path / "A007"
    card.mkdir()
    camera_clip(card / "A007C001.mov", "25", 1500, "01:00:00:00", size="1280x720")
    settings = load_settings().replace("batch", workers=1)
    catalog = open_catalog(tmp_path / "lib")

    class CtrlC(Observer):
        seen: list = []
        pressed: float | None = None

        def progress(self, path, phase, done, total):
            if phase == "proxy" and done > 0 and self.pressed is None:
                self.seen.append((done, total))
                CtrlC.pressed = time.monotonic()
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    try:
        run_batch(catalog, [str(card)], settings, proxies=[])  # analysed, no proxy yet
        with pytest.raises(KeyboardInterrupt):
            run_batch(catalog, [str(card)], settings, proxies=["prores-proxy"], observer=CtrlC())
        done, total = CtrlC.seen[0]
        assert 0 < done < total  # the encode was under way
        assert time.monotonic() - CtrlC.pressed < 5  # ... and stopped there, not after its remaining frames
        assert not [t.name for t in threading.enumerate() if t.name.startswith("dailies-worker")]
        assert not list((tmp_path / "lib").rglob("*.part"))
        assert all(not catalog.proxies(c["id"]) for c in catalog.clips())
    finally:
        catalog.close()


def test_first_ingest_encodes_proxies_in_the_analysis_decode_and_reports_progress(tmp_path, monkeypatch, capsys):
    """A clip seen for the first time is decoded once: the proxy outputs ride on the analysis ffmpeg (no
    encode of their own). The observer hears the batch's size, each file's frames counting up, each file
    done; on a terminal that is one bar for the batch and one per file."""
    from pipeline.cli.ingest import CliObserver
    from pipeline.ingest import work

    card = tmp_path / "A008"
    card.mkdir()
    for i in (1, 2, 3):
        camera_clip(card / f"A008C00{i}.mov", "25", 30, "01:00:00:00")
    decodes, own_encodes = [], []
    real_analyze, real_encode = work.analyze_file, work.run_with_progress

    def counting_analyze(info, settings, **kw):
        decodes.append((Path(info.path).name, bool(kw.get("extra_outputs"))))
        return real_analyze(info, settings, **kw)

    def counting_encode(argv, *a, **kw):
        own_encodes.append(argv)
        return real_encode(argv, *a, **kw)

    monkeypatch.setattr(work, "analyze_file", counting_analyze)
    monkeypatch.setattr(work, "run_with_progress", counting_encode)

    class Seen(CliObserver):
        def __init__(self):
            super().__init__(tty=True, verbose=False, quiet=False)
            self.total, self.frames, self.done = None, {}, []

        def start(self, total):
            self.total = total
            super().start(total)

        def progress(self, path, phase, done, total):
            self.frames.setdefault(Path(path).name, []).append((phase, done, total))
            super().progress(path, phase, done, total)

        def file_done(self, index, total, outcome):
            self.done.append((index, total, Path(outcome.path).name))
            super().file_done(index, total, outcome)

    seen = Seen()
    catalog = open_catalog(tmp_path / "lib")
    try:
        capsys.readouterr()
        report = run_batch(
            catalog,
            [str(card)],
            load_settings().replace("batch", workers=2),
            proxies=["h264", "dnxhr-lb"],
            observer=seen,
        )
        seen.close()
        assert report.exit_code == 0
        assert all(len(catalog.proxies(c["id"])) == 2 for c in catalog.clips())
    finally:
        catalog.close()
    assert sorted(decodes) == [(f"A008C00{i}.mov", True) for i in (1, 2, 3)]  # one decode each, proxies on it
    assert own_encodes == []
    assert seen.total == 3
    assert sorted(seen.done) == [(0, 3, "A008C001.mov"), (1, 3, "A008C002.mov"), (2, 3, "A008C003.mov")]
    for name, calls in seen.frames.items():
        analyze = [(d, t) for phase, d, t in calls if phase == "analyze"]
        counts = [d for d, _ in analyze]
        assert counts == sorted(counts) and counts[-1] == 30 and {t for _, t in analyze} == {30}, name
        assert ("hash", card.joinpath(name).stat().st_size) in [(p, d) for p, d, _ in calls], name  # bytes read
    bars = capsys.readouterr().err
    assert "files: 100%" in bars and "3/3" in bars  # the batch's bar
    assert "A008C001.mov" in bars and "analyze" in bars  # a file's own bar, with its phase


@pytest.mark.expect_log_error(r"A009C001\.mov: failed .*proxy does not match its source")
def test_a_proxy_that_fails_its_check_is_not_kept_the_clip_fails_with_the_reason_and_a_rerun_makes_it(
    tmp_path, monkeypatch
):
    """A proxy whose read-back disagrees with its source (here: a frame short, as a truncated encode would be)
    is deleted, never renamed into place or recorded; its clip is failed with the reason; the other clip
    and the batch go on; the next run makes it."""
    from pipeline import transcode

    card = tmp_path / "A009"
    card.mkdir()
    for i in (1, 2):
        camera_clip(card / f"A009C00{i}.mov", "25", 20, "01:00:00:00")
    real_inspect = transcode.inspect

    def short_for_clip_1(path):
        check = real_inspect(path)
        if "A009C001" in str(path):
            return transcode.ProxyCheck(check.frame_count - 1, check.start_tc, check.reel)
        return check

    monkeypatch.setattr(transcode, "inspect", short_for_clip_1)
    catalog = open_catalog(tmp_path / "lib")
    try:
        settings = load_settings().replace("batch", workers=1)
        report = run_batch(catalog, [str(card)], settings, proxies=["h264"])
        assert report.exit_code == 1
        bad, good = sorted(catalog.clips(), key=lambda c: c["path"])
        assert bad["status"] == "failed"
        assert "A009C001" in bad["error"] and "19 frames, the source has 20" in bad["error"]
        assert "it was not kept" in bad["error"]
        assert catalog.proxies(bad["id"]) == [] and len(catalog.proxies(good["id"])) == 1
        proxy_dir = tmp_path / "lib" / "proxies" / "h264" / "A009"
        assert sorted(p.name for p in proxy_dir.iterdir()) == ["A009C002.mp4"]  # no final, no temporary file

        monkeypatch.setattr(transcode, "inspect", real_inspect)
        again = run_batch(catalog, [str(card)], settings, proxies=["h264"])
        assert again.exit_code == 0
        assert [Path(f.path).name for f in again.files if "proxy:h264" in f.ran] == ["A009C001.mov"]
        assert all(c["status"] == "ok" and len(catalog.proxies(c["id"])) == 1 for c in catalog.clips())
    finally:
        catalog.close()


def test_the_batch_never_works_on_more_files_at_once_than_its_workers(tmp_path, monkeypatch):
    from pipeline.ingest import batch

    card = tmp_path / "A011"
    card.mkdir()
    for i in range(1, 5):
        camera_clip(card / f"A011C00{i}.mov", "25", 4)
    workers = 2
    lock, running, most = threading.Lock(), [0], [0]
    real = batch.process_file

    def counted(job, progress):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.3)  # long enough that every free worker picks up a file meanwhile
            return real(job, progress)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(batch, "process_file", counted)
    catalog = open_catalog(tmp_path / "lib")
    try:
        report = run_batch(catalog, [str(card)], load_settings().replace("batch", workers=workers), proxies=[])
        assert report.exit_code == 0 and len(catalog.clips()) == 4
    finally:
        catalog.close()
    assert most[0] == workers
