"""`dailies ingest --executor ray` on a local Ray instance (2 CPUs, loopback only) equals the local executor."""

import json
import os
import sqlite3

import numpy as np
import pytest

from pipeline.cli import main

import ray  # the `test` extra installs it: this test must not skip

VOLATILE = {"added_at", "updated_at", "finished_at", "seconds", "at"}
# What only the local executor (the overnight batch) records so far: checksums, MHL verification,
# reel names from camera file names. The Ray executor does not do these yet (README, "Scale").
LOCAL_ONLY = {"checksum", "hashes_json", "card", "mhl_status", "mhl_detail", "drop_frame", "reel", "reel_source"}


@pytest.fixture(scope="module")
def local_ray():
    """One Ray instance for the module (start-up is slow), 2 CPUs, bound to 127.0.0.1 only."""
    from ray._private import ray_constants

    from pipeline.executors.ray_exec import start_local

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


def dump(library) -> dict:
    conn = sqlite3.connect(library / "catalog.sqlite")
    conn.row_factory = sqlite3.Row
    out = {}
    for table in ["clips", "stage_runs", "shots", "gradual", "keyframes", "models", "meta", "events"]:
        rows = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        if table == "events":
            rows = [r for r in rows if r["stage"] != "mhl"]
        out[table] = [{k: r[k] for k in r.keys() if k not in VOLATILE | LOCAL_ONLY} for r in rows]
    out["vectors"] = {(r[0], r[1]): np.frombuffer(r[2], np.float32)
                      for r in conn.execute("SELECT keyframe_id, model_id, vector FROM vectors")}
    return out


def ingest(capsys, card, lib, *extra):
    code = main(["ingest", str(card), "--library", str(lib), "--model", "random-tiny", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_ray_and_local_executors_write_the_same_catalog(local_ray, footage, tmp_path, capsys):
    card = tmp_path / "card"
    card.mkdir()
    for clip in sorted(footage.iterdir()):
        (card / clip.name).symlink_to(clip)
    (card / "notes.mov").write_text("not a video\n" * 10)  # a failure goes through the same path
    (card / "readme.txt").write_text("camera report\n")
    code_local, local = ingest(capsys, card, tmp_path / "local")
    code_ray, remote = ingest(capsys, card, tmp_path / "ray", "--executor", "ray")
    assert code_local == code_ray == 1  # notes.mov fails in both
    assert [(f["path"], f["status"], f["ran"], f["shots"], f["embedding"]) for f in remote["files"]] == \
           [(f["path"], f["status"], f["ran"], f["shots"], f["embedding"]) for f in local["files"]]
    assert remote["summary"] == local["summary"] == {"ok": 3, "failed": 1, "skipped": 1}
    assert remote["index"]["total"] == local["index"]["total"] > 0
    a, b = dump(tmp_path / "local"), dump(tmp_path / "ray")
    for table in a:
        if table == "vectors":
            assert a[table].keys() == b[table].keys()
            for k in a[table]:
                np.testing.assert_allclose(a[table][k], b[table][k], atol=1e-5)
        elif table == "keyframes":  # thumbnails live under each library; same relative paths
            assert a[table] == b[table]
        else:
            assert a[table] == b[table], table
    # a second run on Ray finds everything done
    code, again = ingest(capsys, card, tmp_path / "ray", "--executor", "ray")
    assert code == 1 and again["work_done"] == 0
    assert dump(tmp_path / "ray")["keyframes"] == b["keyframes"]


def test_cli_joins_a_running_cluster_by_address(local_ray, footage, tmp_path):
    """A separate `dailies` process joins the (loopback) cluster with --ray-address, as on a real cluster."""
    import subprocess
    import sys

    address = local_ray.address_info["gcs_address"]
    assert address.startswith("127.0.0.1:")
    lib = tmp_path / "lib"
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "ingest", str(footage), "--library", str(lib),
                           "--model", "random-tiny", "--json", "--executor", "ray", "--ray-address", address],
                          capture_output=True, text=True, timeout=240, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["summary"] == {"ok": 3, "failed": 0, "skipped": 0}
    assert [f["shots"] for f in report["files"]] == [3, 2, 4]
    assert report["index"]["total"] == len(dump(lib)["vectors"]) > 0


def test_ray_address_needs_the_ray_executor(footage, tmp_path, capsys):
    code = main(["ingest", str(footage), "--library", str(tmp_path / "lib"), "--ray-address", "127.0.0.1:1"])
    assert code == 2 and "--ray-address only applies to --executor ray" in capsys.readouterr().err
