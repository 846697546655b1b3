"""`dailies ingest --executor ray` on a local Ray instance (2 CPUs, loopback only) equals the local executor:
the same overnight batch (MHL, proxies, reels, embedding through Ray actors), the same catalog."""

import json
import os
import re
import shutil
import sqlite3
import time

import numpy as np
import pytest
import ray  # the `test` extra installs it: this test must not skip
from conftest import expect_log_error

from pipeline.cli import main

pytestmark = pytest.mark.slow  # starts a Ray instance and its workers: about a minute

VOLATILE = {"added_at", "updated_at", "finished_at", "checked_at", "seconds", "at", "started_at"}
TABLES = [
    "clips",
    "stage_runs",
    "shots",
    "gradual",
    "keyframes",
    "models",
    "meta",
    "events",
    "cards",
    "proxies",
    "batch_runs",
    "takes",
    "take_metrics",
]


@pytest.fixture(scope="module")
def local_ray():
    """One Ray instance for the module (start-up is slow), 2 CPUs, bound to 127.0.0.1 only."""
    from ray._private import ray_constants

    from pipeline.ingest.executors.ray_exec import start_local

    if ray.is_initialized():
        ray.shutdown()
    saved = os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"), ray_constants.ENABLE_RAY_CLUSTER
    ctx = start_local(2, object_store_memory=200 * 2**20)
    nodes = ray.nodes()
    assert nodes and all(n["NodeManagerAddress"] == "127.0.0.1" for n in nodes), nodes
    assert ctx.address_info["node_ip_address"] == "127.0.0.1"
    assert ctx.address_info["gcs_address"].startswith("127.0.0.1:")
    assert ray.cluster_resources()["CPU"] == 2
    yield ctx
    ray.shutdown()
    if saved[0] is None:
        os.environ.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)
    else:
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = saved[0]
    ray_constants.ENABLE_RAY_CLUSTER = saved[1]


def _plain(value):
    """MHL generation names and messages carry the time they were written."""
    return re.sub(r"\d{4}-\d{2}-\d{2}_\d{6}Z", "<time>", value) if isinstance(value, str) else value


def dump(library) -> dict:
    conn = sqlite3.connect(library / "catalog.sqlite")
    conn.row_factory = sqlite3.Row
    out = {}
    for table in TABLES:
        rows = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        out[table] = [
            {k: _plain(r[k]) for k in r.keys() if k not in VOLATILE | {"log_path", "argv_json"}} for r in rows
        ]
    out["vectors"] = {
        (r[0], r[1]): np.frombuffer(r[2], np.float32)
        for r in conn.execute("SELECT keyframe_id, model_id, vector FROM vectors")
    }
    conn.close()
    return out


def assert_same(a: dict, b: dict) -> None:
    # ffmpeg conceals damaged frames differently from one decode to the next (frame threads), so the
    # measurements of a clip whose analysis reported damaged frames are compared for presence only
    damaged = {r["clip_id"] for r in a["stage_runs"] if r["stage"] == "analyze" and r["detail"]}
    for table in a:
        if table == "take_metrics":
            assert [(r["clip_id"], r["key"]) for r in a[table]] == [(r["clip_id"], r["key"]) for r in b[table]]
            assert [r for r in a[table] if r["clip_id"] not in damaged] == [
                r for r in b[table] if r["clip_id"] not in damaged
            ], table
        elif table == "vectors":
            assert a[table].keys() == b[table].keys()
            for k in a[table]:
                np.testing.assert_allclose(a[table][k], b[table][k], atol=1e-5)
        else:  # thumbnails and proxies live under each library, at the same relative paths
            assert a[table] == b[table], table


def assert_resources_back(timeout: float = 20) -> None:
    """Every CPU of the instance free again: no task or actor of a finished command holds one."""
    t0 = time.monotonic()
    while ray.available_resources().get("CPU", 0) < 2:
        assert time.monotonic() - t0 < timeout, ray.available_resources()
        time.sleep(0.2)


def ingest(capsys, card, lib, *extra):
    code = main(["ingest", str(card), "--library", str(lib), "--model", "random-tiny", "--json", *extra])
    out = capsys.readouterr()
    assert out.out, out.err[-3000:]
    return code, json.loads(out.out)


@pytest.mark.expect_log_error(r"notes\.mov: failed")
def test_ray_and_local_executors_write_the_same_catalog(local_ray, footage, tmp_path, capsys):
    card = tmp_path / "A001"
    card.mkdir()
    for clip in sorted(footage.glob("*.mov")):  # other tests may have written an MHL into `footage`
        shutil.copy(clip, card / clip.name)
    (card / "notes.mov").write_text("not a video\n" * 10)  # a failure goes through the same path
    (card / "readme.txt").write_text("camera report\n")
    code_local, local = ingest(capsys, card, tmp_path / "local", "--proxies", "h264", "--burnin")
    shutil.rmtree(card / "ascmhl")  # the Ray run meets the card as the local run did: no MHL yet
    code_ray, remote = ingest(capsys, card, tmp_path / "ray", "--proxies", "h264", "--burnin", "--executor", "ray")
    assert code_local == code_ray == 1  # notes.mov fails in both
    keys = ("path", "status", "ran", "shots", "embedding", "mhl", "proxies")
    assert [[f[k] for k in keys] for f in remote["files"]] == [[f[k] for k in keys] for f in local["files"]]
    assert remote["summary"] == local["summary"] == {"ok": 3, "failed": 1, "skipped": 1}
    assert [f["ran"] for f in remote["files"][:3]] == [
        ["hash", "probe", "analyze", "proxy:h264", "takes", "measure", "embed"]
    ] * 3
    assert (
        [(c["status"], _plain(c["message"])) for c in remote["cards"]]
        == [(c["status"], _plain(c["message"])) for c in local["cards"]]
        == [("written", "MHL generation ascmhl/0001_A001_<time>.mhl written (xxh64)")]
    )
    assert remote["index"]["total"] == local["index"]["total"] > 0
    a, b = dump(tmp_path / "local"), dump(tmp_path / "ray")
    assert len(a["proxies"]) == 3 and a["vectors"]
    assert_same(a, b)
    for row in b["proxies"]:  # written by the Ray tasks into the library, complete
        assert (tmp_path / "ray" / row["path"]).stat().st_size == row["bytes"] > 0
    assert "embedding in 1 Ray actor(s) on cpu" in open(remote["log"]).read()  # the model ran in an actor
    assert "Ray actor" not in open(local["log"]).read()
    # a second run on Ray finds everything done, and the card verified against the MHL it wrote
    code, again = ingest(capsys, card, tmp_path / "ray", "--proxies", "h264", "--burnin", "--executor", "ray")
    assert code == 1 and again["work_done"] == 0
    assert [c["status"] for c in again["cards"]] == ["verified"]
    assert dump(tmp_path / "ray")["keyframes"] == b["keyframes"]
    assert_resources_back()  # the embedding actors stopped with the command


def test_cli_joins_a_running_cluster_by_address(local_ray, footage, tmp_path):
    """A separate `dailies` process joins the (loopback) cluster with --ray-address, as on a real cluster."""
    import subprocess
    import sys

    address = local_ray.address_info["gcs_address"]
    assert address.startswith("127.0.0.1:")
    lib = tmp_path / "lib"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "ingest",
            str(footage),
            "--library",
            str(lib),
            "--model",
            "random-tiny",
            "--json",
            "--no-mhl",
            "--executor",
            "ray",
            "--ray-address",
            address,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["summary"] == {"ok": 3, "failed": 0, "skipped": 0}
    assert [f["shots"] for f in report["files"]] == [3, 2, 4]
    assert report["index"]["total"] == len(dump(lib)["vectors"]) > 0
    assert report["log"] and os.path.exists(report["log"])  # the batch's run log, as locally


def test_ray_flags_need_the_ray_executor(footage, tmp_path, capsys):
    code = main(["ingest", str(footage), "--library", str(tmp_path / "lib"), "--ray-address", "127.0.0.1:1"])
    assert code == 2 and "--ray-address only applies to --executor ray" in capsys.readouterr().err
    code = main(["ingest", str(footage), "--library", str(tmp_path / "lib"), "--executor", "ray", "--workers", "2"])
    assert code == 2 and "--workers applies to the local executor" in capsys.readouterr().err


def test_embedding_actors_that_would_leave_no_cpu_for_the_files_are_refused(local_ray, footage, tmp_path, capsys):
    config = tmp_path / "two-actors.toml"
    config.write_text("[ray]\nembed_actors = 2\n")  # both CPUs of the instance, for the whole run
    code = main(
        [
            "ingest",
            str(footage),
            "--library",
            str(tmp_path / "lib"),
            "--model",
            "random-tiny",
            "--config",
            str(config),
            "--executor",
            "ray",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "the Ray cluster has 2 CPU(s): 2 embedding actor(s) of 1 CPU would leave" in err, err
    assert_resources_back()


def test_bad_footage_gets_the_same_outcome_and_message_on_ray(local_ray, tmp_path, capsys):
    """The reliability checks (truncation, damaged frames and headers, links, hostile names) run in the Ray
    task too: the bad-input corpus (tests/corpus.py) gives the same statuses, messages, warnings and catalog."""
    from corpus import make_corpus

    corpus = make_corpus(tmp_path / "corpus")
    with expect_log_error(*corpus.failures_logged()):  # each failed file is logged at ERROR, on either executor
        code_local, local = ingest(capsys, corpus.root, tmp_path / "local", "--no-embed", "--no-mhl")
    with expect_log_error(*corpus.failures_logged()):
        code_ray, remote = ingest(capsys, corpus.root, tmp_path / "ray", "--no-embed", "--no-mhl", "--executor", "ray")
    assert code_local == code_ray == 1
    keys = ("path", "status", "message", "warnings", "shots", "mhl")
    assert [[f[k] for k in keys] for f in remote["files"]] == [[f[k] for k in keys] for f in local["files"]]
    assert remote["summary"] == local["summary"]
    assert_same(dump(tmp_path / "local"), dump(tmp_path / "ray"))


@pytest.mark.expect_log_error(r"embedding unavailable: model weights for vit-b-32 .* are not on this machine")
def test_a_model_that_cannot_load_leaves_embedding_pending_on_ray_as_locally(local_ray, footage, tmp_path, capsys):
    """vit-b-32's weights are not on this machine (tests run offline): the actors fail to load it, and
    the batch finishes with "embedding pending" and the same message as the local executor."""
    card = tmp_path / "card"
    card.mkdir()
    (card / "A001C002.mov").symlink_to(footage / "A001C002.mov")
    args = ["--model", "vit-b-32", "--no-mhl"]
    code_local, local = ingest(capsys, card, tmp_path / "local", *args)
    code_ray, remote = ingest(capsys, card, tmp_path / "ray", *args, "--executor", "ray")
    assert code_local == code_ray == 1
    assert "dailies models fetch vit-b-32" in remote["embedding_pending"]
    assert remote["embedding_pending"] == local["embedding_pending"]
    assert [f["embedding"] for f in remote["files"]] == ["pending"]
    assert_same(dump(tmp_path / "local"), dump(tmp_path / "ray"))
    assert_resources_back()  # the actors that failed to load were stopped


def test_ctrl_c_cancels_the_tasks_and_returns_once_none_is_running(local_ray, tmp_path):
    """RayExecutor.run's contract (executors/local.LocalExecutor's): when the driver stops, queued tasks are dropped and
    running ones interrupted, and `run` returns only after every task has ended."""
    from pipeline.config import load_settings
    from pipeline.ingest.executors.ray_exec import RayExecutor

    def work(job, progress):  # a file's work: reports progress, writes until interrupted
        marks = job["dir"]
        (marks / f"started-{job['n']}").touch()
        try:
            for i in range(job["steps"]):
                progress("analyze", i, job["steps"])
                (marks / f"beat-{job['n']}").write_text(str(i))
                time.sleep(0.05)
            return "finished"
        finally:
            (marks / f"ended-{job['n']}").touch()

    class Job(dict):
        path = property(lambda self: f"file-{self['n']}")

    executor = RayExecutor(load_settings())  # joins the running instance; leaves it running
    # progress reaches the driver while it waits for results
    seen = set()
    quick = [Job(n=n, dir=tmp_path / "quick", steps=20) for n in range(3)]
    (tmp_path / "quick").mkdir()
    results = list(executor.run(work, quick, lambda path, phase, n, total: seen.add((path, phase))))
    assert sorted(job.path for job, _ in results) == ["file-0", "file-1", "file-2"]
    assert {res for _, res in results} == {"finished"}
    assert seen == {("file-0", "analyze"), ("file-1", "analyze"), ("file-2", "analyze")}
    # the driver stops while tasks run and more are queued
    marks = tmp_path / "slow"
    marks.mkdir()
    jobs = [Job(n=0, dir=marks, steps=0)] + [Job(n=n, dir=marks, steps=600) for n in range(1, 6)]
    t0 = time.monotonic()
    results = executor.run(work, jobs, lambda *a: None)
    job, res = next(results)
    assert (job["n"], res) == (0, "finished")
    while len(list(marks.glob("started-*"))) < 2:  # a slow task is running
        assert time.monotonic() - t0 < 60
        time.sleep(0.1)
    results.close()  # the driver stops (Ctrl-C, an error in the loop)
    assert time.monotonic() - t0 < 25  # interrupted, not run to the end (30 s each)
    started = {p.name.split("-")[1] for p in marks.glob("started-*")}
    ended = {p.name.split("-")[1] for p in marks.glob("ended-*")}
    assert len(started) >= 2 and started == ended  # nothing is still writing
    beats = {p.name: p.read_text() for p in marks.glob("beat-*")}
    time.sleep(1)
    assert {p.name: p.read_text() for p in marks.glob("beat-*")} == beats
    assert len(started) < 6  # queued tasks were dropped, not run
    assert_resources_back()


def test_ctrl_c_during_a_ray_batch_leaves_no_partial_file_and_a_rerun_finishes(local_ray, tmp_path):
    """batch.run_batch on Ray, interrupted after its first file (as tests/test_batch.py does locally), then
    run again with the same executor and actors (as --watch does): no temporary proxy is left, and the
    rerun does exactly the files the interrupted run did not record."""
    from overnight_helpers import camera_clip

    from pipeline.catalog import open_catalog
    from pipeline.config import load_settings
    from pipeline.embed import resolve_model
    from pipeline.ingest.batch import run_batch
    from pipeline.ingest.executors.ray_exec import RayExecutor
    from pipeline.ingest.observer import Observer

    card = tmp_path / "A006"
    card.mkdir()
    for i in range(1, 5):
        camera_clip(card / f"A006C00{i}.mov", "25", 60, "01:00:00:00")
    settings = load_settings()
    preset = resolve_model("random-tiny")

    class CtrlC(Observer):
        def file_done(self, index, total, outcome):
            raise KeyboardInterrupt  # the user presses Ctrl-C after the first file

    catalog = open_catalog(tmp_path / "lib")
    try:
        with RayExecutor(settings) as executor:
            actors = executor.embedder(preset, settings.embed, False)
            with pytest.raises(KeyboardInterrupt):
                run_batch(
                    catalog,
                    [str(card)],
                    settings,
                    preset,
                    lambda p: actors,
                    proxies=["h264"],
                    observer=CtrlC(),
                    executor=executor,
                )
            assert [r["status"] for r in catalog.batch_runs()] == ["interrupted"]
            assert not list((tmp_path / "lib").rglob("*.part"))
            done = {c["path"] for c in catalog.clips() if catalog.proxies(c["id"])}
            assert 1 <= len(done) < 4
            report = run_batch(
                catalog, [str(card)], settings, preset, lambda p: actors, proxies=["h264"], executor=executor
            )
        assert sorted(f.path for f in report.files if "proxy:h264" in f.ran) == sorted(
            str(p) for p in card.glob("*.mov") if str(p) not in done
        )
        assert all(len(catalog.proxies(c["id"])) == 1 for c in catalog.clips())
        assert report.embed_pending is None and report.index["total"] > 0
        assert not list((tmp_path / "lib").rglob("*.part"))
    finally:
        catalog.close()
    assert_resources_back()
