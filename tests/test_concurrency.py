"""Concurrent use: while a real ingest process writes, `dailies clips` and search keep answering and
never see half-written state, and a second ingest on the same library is refused (or waits)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import cli

from pipeline.catalog import open_catalog
from pipeline.ingest.lock import ingest_lock
from pipeline.media.synth import make_cuts_clip

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # real ingest processes racing readers and each other


def ingest_process(card: Path, lib: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "ingest",
            str(card),
            "--library",
            str(lib),
            "--model",
            "random-tiny",
            "--json",
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def card(tmp_path_factory) -> Path:
    card = tmp_path_factory.mktemp("busy-card")
    for i in range(5):
        make_cuts_clip(card / f"B001C{i:03d}.mov", [80 + 5 * i, 60, 50], "25", size=(320, 180))
    return card


def check_consistent(lib: Path) -> tuple[int, int]:
    """What a reader sees is a state some commit left: return (clips complete, stage records done)."""
    code, out, err = cli("clips", "--library", str(lib), "--json")
    assert code == 0, err
    complete = done = 0
    for c in json.loads(out)["clips"]:
        stages = {k: v["status"] for k, v in c["stages"].items()}
        done += sum(v == "done" for v in stages.values())
        if c["status"] == "ok":
            assert stages == {s: "done" for s in ("probe", "analyze", "takes", "measure", "embed")}, c
            complete += 1
        if stages.get("analyze") == "done":
            assert c["shots"] == 3, c  # all of a clip's shots appear at once, never some of them
        else:
            assert c["shots"] == 0, c
    # one snapshot, every table: a shot never lacks its keyframes, a keyframe never lacks its JPEG
    conn = sqlite3.connect(f"file:{lib / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        conn.execute("BEGIN")
        bare = conn.execute(
            "SELECT count(*) FROM shots s WHERE NOT EXISTS (SELECT 1 FROM keyframes k WHERE k.shot_id = s.id)"
        ).fetchone()[0]
        thumbs = [r[0] for r in conn.execute("SELECT thumb FROM keyframes")]
        embedded = conn.execute(
            "SELECT c.path, (SELECT count(*) FROM keyframes k JOIN shots s ON s.id = k.shot_id"
            " WHERE s.clip_id = c.id), (SELECT count(*) FROM vectors v JOIN keyframes k ON"
            " k.id = v.keyframe_id JOIN shots s ON s.id = k.shot_id WHERE s.clip_id = c.id)"
            " FROM clips c JOIN stage_runs r ON r.clip_id = c.id AND r.stage = 'embed'"
            " AND r.status = 'done'"
        ).fetchall()
    finally:
        conn.close()
    assert bare == 0
    assert all((lib / t).is_file() for t in thumbs)
    assert all(k == v and k > 0 for _, k, v in embedded), embedded
    return complete, done


def _embedded_keyframe(lib: Path) -> int | None:
    """A keyframe that has its vector now (None before the first one is committed)."""
    conn = sqlite3.connect(f"file:{lib / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT keyframe_id FROM vectors ORDER BY random() LIMIT 1").fetchone()
    except sqlite3.OperationalError:  # the schema is not committed yet
        return None
    finally:
        conn.close()
    return row[0] if row else None


class Searcher(threading.Thread):
    """Image searches, one after another, for as long as the ingest runs (the model loaded once)."""

    def __init__(self, lib: Path, stop: threading.Event):
        super().__init__(daemon=True)
        self.lib, self.stop, self.count, self.error = lib, stop, 0, None

    def run(self):
        from models.clip import OpenClipEmbedder
        from pipeline.embed import resolve_model
        from pipeline.search import search

        try:
            embedder = OpenClipEmbedder(resolve_model("random-tiny"), device="cpu")
            embedder.load()  # while the ingest process starts
            while not self.stop.is_set():
                time.sleep(0.05)
                if not (self.lib / "catalog.sqlite").exists():
                    continue
                catalog = open_catalog(self.lib, create=False)  # as `dailies search` opens it
                try:
                    if catalog.meta_get("model") != embedder.name:
                        continue
                    thumb = catalog.conn.execute(  # a keyframe that has its vector (it may lack it a moment)
                        "SELECT k.thumb FROM keyframes k JOIN vectors v ON v.keyframe_id = k.id"
                        " ORDER BY random() LIMIT 1"
                    ).fetchone()
                    if thumb is None:
                        continue
                    hits = search(catalog, embedder, image=self.lib / thumb[0], limit=5)
                finally:
                    catalog.close()
                assert hits and hits[0].score > 0.99, "an embedded keyframe did not find itself first"
                for hit in hits:
                    assert Path(hit.thumbnail).is_file() and hit.start_frame <= hit.end_frame
                self.count += 1
        except BaseException as exc:  # reported by the test
            self.error = exc


def test_readers_keep_answering_while_an_ingest_writes(card, tmp_path):
    lib = tmp_path / "lib"
    proc = ingest_process(card, lib)
    stop = threading.Event()
    searcher = Searcher(lib, stop)
    searcher.start()
    reads = refused = pages = web_searches = 0
    seen_partial = False
    web = contextlib.ExitStack()
    client = None
    try:
        while proc.poll() is None:
            if (lib / "catalog.sqlite").exists():
                with contextlib.suppress(FileNotFoundError):
                    _, done = check_consistent(lib)
                    reads += 1
                    seen_partial |= 0 < done < 5 * 5  # some of the work committed, not all (5 clips, 5 stages)
                if client is None:  # the web UI on the same library, as `dailies serve` runs it
                    from fastapi.testclient import TestClient

                    from pipeline.config import load_settings
                    from pipeline.web.app import create_app

                    client = web.enter_context(
                        TestClient(create_app(lib, load_settings()), base_url="http://127.0.0.1:8765")
                    )
                page = client.get("/")
                assert page.status_code == 200, page.text[:500]
                for kid in re.findall(r"/media/keyframe/(\d+)", page.text)[:3]:  # every image it shows is there
                    assert client.get(f"/media/keyframe/{kid}").status_code == 200
                pages += 1
                like = _embedded_keyframe(lib)
                if like is not None:  # the web's own search ("more like this": FAISS synced with the catalog)
                    res = client.get("/api/search", params={"like": like})
                    assert res.status_code == 200, res.text[:500]
                    hits = res.json()["hits"]
                    # it finds itself at the top score (the generated clips repeat pictures: ties at 1.0)
                    assert hits and hits[0]["score"] > 0.99, hits[:1]
                    assert any(like in h["keyframes"] and h["score"] > 0.99 for h in hits), (like, hits)
                    for hit in hits[:3]:
                        assert client.get(hit["thumbnail"]).status_code == 200
                    web_searches += 1
                if not refused:  # the catalog exists: the running ingest holds the lock and has signed it
                    code, _, err = cli("ingest", str(card), "--library", str(lib), "--no-embed")
                    assert code == 1 and "another ingest is running on this library" in err and "--wait" in err
                    assert f"pid {proc.pid}" in err
                    refused += 1
            time.sleep(0.05)
        out, err = proc.communicate(timeout=60)
    finally:
        web.close()
        stop.set()
        searcher.join(timeout=60)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert searcher.error is None, repr(searcher.error)
    assert proc.returncode == 0, err
    assert json.loads(out)["summary"]["ok"] == 5
    print(
        f"\nconcurrent readers: {reads} clips reads, {pages} web pages, {web_searches} web searches, "
        f"{searcher.count} searches, {refused} "
        f"refused ingest(s) while the ingest ran; saw a partly ingested library: {seen_partial}"
    )
    assert reads >= 3 and pages >= 3 and web_searches >= 1 and searcher.count >= 1 and refused == 1 and seen_partial
    assert check_consistent(lib) == (5, 5 * 5)


def test_second_ingest_is_refused_with_who_holds_the_lock(card, tmp_path):
    lib = tmp_path / "lib"
    with ingest_lock(lib):
        code, out, err = cli("ingest", str(card), "--library", str(lib), "--no-embed")
    assert code == 1
    assert f"another ingest is running on this library (pid {os.getpid()} on " in err
    assert "run with --wait to queue behind it" in err
    assert not (lib / "catalog.sqlite").exists()  # refused before touching anything


def test_wait_queues_behind_the_running_ingest(card, tmp_path):
    lib = tmp_path / "lib"
    first = ingest_process(card, lib, "--no-embed")
    try:
        deadline = time.monotonic() + 60
        while not (lib / "catalog.sqlite").exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        second = ingest_process(card, lib, "--no-embed", "--wait")
        out2, err2 = second.communicate(timeout=120)
        out1, _ = first.communicate(timeout=60)
    finally:
        for p in (first,):
            if p.poll() is None:
                p.kill()
    assert first.returncode == 0 and second.returncode == 0, err2
    assert json.loads(out1)["work_done"] > 0
    assert json.loads(out2)["work_done"] == 0  # it ran after the first had finished everything


def test_a_killed_ingest_leaves_no_lock_behind(card, tmp_path):
    lib = tmp_path / "lib"
    proc = ingest_process(card, lib, "--no-embed")
    deadline = time.monotonic() + 60
    while not (lib / "catalog.sqlite").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    with ingest_lock(lib):  # taken at once: the kernel dropped the dead process's lock
        pass
