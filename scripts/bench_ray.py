#!/usr/bin/env python3
"""Ingest with the Ray executor against the local one, side by side on the same generated clips.

    PYTHONPATH=. .venv/bin/python scripts/bench_ray.py [--clips 4] [--seconds 10] [--size 640x360]
                                                      [--rounds 2] [--json]

Each round runs, alternating, `dailies ingest CARD --proxies h264 --no-mhl --model random-tiny --json`
with the local executor (`--workers 2`) and with `--executor ray` (a Ray instance on loopback started
by the command, [ray] local_cpus), each as a fresh process into a fresh library. It prints the batch
time (the command's own `seconds`: plan, files, embedding, index) and the wall time (Ray's start and
stop included), and checks that both libraries hold the same shots and vectors. On one small machine
this measures Ray's overhead, not a cluster's speed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def counts(library: Path) -> tuple[int, int]:
    conn = sqlite3.connect(library / "catalog.sqlite")
    try:
        return (
            conn.execute("SELECT count(*) FROM shots").fetchone()[0],
            conn.execute("SELECT count(*) FROM vectors").fetchone()[0],
        )
    finally:
        conn.close()


def ingest(card: Path, library: Path, executor: str) -> dict:
    argv = [
        sys.executable,
        "-m",
        "pipeline.cli",
        "ingest",
        str(card),
        "--library",
        str(library),
        "--proxies",
        "h264",
        "--no-mhl",
        "--model",
        "random-tiny",
        "--json",
    ]
    argv += ["--executor", "ray"] if executor == "ray" else ["--workers", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    t = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(
            f"bench_ray: {executor} ingest failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')[-2000:]}"
        )
    return {"wall": wall, "batch": json.loads(proc.stdout)["seconds"], "counts": counts(library)}


def main() -> int:
    from pipeline.media.synth import make_cuts_clip

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    try:
        card = tmp / "A001"
        card.mkdir()
        frames = int(args.seconds * 25)
        for i in range(args.clips):  # a few shots per clip, different per clip
            lengths = [frames // 3 + 5 * i, frames // 3, frames - 2 * (frames // 3) - 5 * i]
            make_cuts_clip(card / f"A001C{i + 1:03d}.mov", lengths, "25", size=(w, h), timecode="01:00:00:00")
        runs: dict[str, list[dict]] = {"local": [], "ray": []}
        for r in range(args.rounds):
            for executor in runs:
                got = ingest(card, tmp / f"lib-{executor}-{r}", executor)
                runs[executor].append(got)
                print(
                    f"round {r + 1} {executor:5s} batch {got['batch']:6.2f} s  wall {got['wall']:6.2f} s",
                    file=sys.stderr,
                )
        same = len({tuple(x["counts"]) for v in runs.values() for x in v}) == 1
        result = {
            "clips": args.clips,
            "seconds_each": args.seconds,
            "size": args.size,
            "rounds": args.rounds,
            "cores": os.cpu_count(),
            "load_avg": os.getloadavg(),
            "batch_s": {k: round(statistics.median(x["batch"] for x in v), 2) for k, v in runs.items()},
            "wall_s": {k: round(statistics.median(x["wall"] for x in v), 2) for k, v in runs.items()},
            "shots_vectors": runs["local"][0]["counts"],
            "same_catalog_counts": same,
        }
        if args.json:
            print(json.dumps(result, indent=1))
        else:
            print(
                f"{args.clips} clips of {args.seconds:g} s at {args.size}; {os.cpu_count()} cores; median of "
                f"{args.rounds} alternating rounds"
            )
            print(f"{'':8s} {'batch s':>8s} {'wall s':>8s}")
            for k in runs:
                print(f"{k:8s} {result['batch_s'][k]:8.2f} {result['wall_s'][k]:8.2f}")
            print(
                f"Ray overhead (wall - batch): {result['wall_s']['ray'] - result['batch_s']['ray']:.2f} s, "
                f"local: {result['wall_s']['local'] - result['batch_s']['local']:.2f} s; shots, vectors "
                f"{result['shots_vectors']} in every library: {'yes' if same else 'NO'}"
            )
        return 0 if same else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
