#!/usr/bin/env python
"""Latency of the web UI's search: p50/p95 of the search page and the search API, in one run.

Builds a synthetic library of --shots shots (default 10,000; 2 keyframes each, random unit vectors
written through the catalog functions, a handful of real JPEG thumbnails), starts `dailies serve` on
127.0.0.1 in a subprocess, and times sequential requests with distinct text queries (each one goes
through the model's text encoder) against the search page and the search API, interleaved.

Models: `random-tiny` (the test preset, 64-d) and a random-init ViT-B-32 (512-d; the real architecture,
so the text encoder costs what the real model costs on this CPU; no weights are needed or downloaded).
Scores mean nothing with either: this measures latency only.

    PYTHONPATH=. .venv/bin/python scripts/bench_web.py [--shots 10000] [--requests 200] [--models random-tiny,ViT-B-32]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = [
    "woman",
    "man",
    "car",
    "night",
    "exterior",
    "interior",
    "close-up",
    "wide",
    "laughing",
    "running",
    "rain",
    "street",
    "kitchen",
    "forest",
    "crowd",
    "window",
    "dog",
    "phone",
    "sunset",
    "office",
    "beach",
    "stairs",
]


def bench_preset(name: str, folder: Path):
    """The preset for `name`: a preset name, or an open_clip architecture (random init, written to `folder`)."""
    from models.presets import ModelPreset
    from pipeline.embed import load_preset

    if name == "random-tiny":
        return load_preset(name)
    import open_clip

    cfg = open_clip.get_model_config(name)
    if cfg is None:
        raise SystemExit(f"unknown model {name!r}: give random-tiny or an open_clip architecture such as ViT-B-32")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": cfg, "preprocess_cfg": {}}))
    return ModelPreset(
        name=f"random-{name}",
        description=f"random-init {name} (benchmark only)",
        local_dir=str(folder),
        semantic=False,
        batch_size=32,
    )


def build_library(lib: Path, n_shots: int, preset, shots_per_clip: int = 100, seed: int = 0) -> dict:
    from PIL import Image

    from pipeline import index as index_stage
    from pipeline.catalog import open_catalog
    from pipeline.timecode import frames_to_tc

    rng = np.random.default_rng(seed)
    dim = json.loads((preset.local_dir_path / "open_clip_config.json").read_text())["model_cfg"]["embed_dim"]
    cat = open_catalog(lib)
    thumbs = []
    (lib / "thumbs" / "bench").mkdir(parents=True, exist_ok=True)
    for i in range(8):
        rel = f"thumbs/bench/{i}.jpg"
        Image.new("RGB", (320, 180), tuple(int(x) for x in rng.integers(0, 255, 3))).save(lib / rel, "JPEG")
        thumbs.append(rel)
    t0 = time.monotonic()
    with cat.transaction():
        cat.ensure_model(preset.identity, preset.name, dim, preset.semantic, preset.to_json())
        cat.meta_set("model", preset.identity)
    n_clips = (n_shots + shots_per_clip - 1) // shots_per_clip
    fps, length = 24, 48
    for c in range(n_clips):
        count = min(shots_per_clip, n_shots - c * shots_per_clip)
        with cat.transaction():
            clip = cat.upsert_clip(f"/cards/A{c // 50 + 1:03d}/A{c // 50 + 1:03d}C{c % 50 + 1:03d}.mov")
            cat.set_clip_probe(
                clip["id"],
                {
                    "fps": "24/1",
                    "frame_count": count * length,
                    "duration": count * length / fps,
                    "display_width": 1920,
                    "display_height": 1080,
                    "start_tc": "01:00:00:00",
                    "reel": f"A{c // 50 + 1:03d}",
                },
            )
            cat.set_clip_status(clip["id"], "ok")
            shots, kfs = [], {}
            for s in range(count):
                a, b = s * length, (s + 1) * length - 1
                shots.append(
                    {
                        "index": s,
                        "start_frame": a,
                        "end_frame": b,
                        "start_time": a / fps,
                        "end_time": (b + 1) / fps,
                        "start_tc": frames_to_tc(86400 + a, fps),
                        "end_tc": frames_to_tc(86400 + b, fps),
                        "confidence": 1.0,
                    }
                )
                kfs[s] = [
                    (a + 12, (a + 12) / fps, thumbs[(s * 2) % 8]),
                    (a + 36, (a + 36) / fps, thumbs[(s * 2 + 1) % 8]),
                ]
            cat.replace_analysis(clip["id"], shots, [], kfs)
        rows = cat.keyframes_missing_vectors(clip["id"], preset.identity)
        vecs = rng.standard_normal((len(rows), dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        with cat.transaction():
            cat.add_vectors(preset.identity, [r["id"] for r in rows], vecs)
    _, info = index_stage.sync(cat, preset.identity, dim)
    counts = cat.library_counts(preset.identity)
    cat.close()
    return {**counts, "seconds": time.monotonic() - t0, "index": info["total"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(p / 100 * (len(v) - 1)))))]


def measure(lib: Path, requests: int) -> tuple[dict[str, list[float]], float, int]:
    import httpx

    from pipeline.config import load_settings

    per_page = load_settings(lib / "dailies.toml").web.results  # what the server started on `lib` will use

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "serve", "--library", str(lib), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.get("/static/app.css")
                    break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"server did not start: {server.stderr.read().decode()[-2000:]}") from None
                    time.sleep(0.2)
            t0 = time.monotonic()
            assert client.get("/api/search", params={"q": "warm up"}).status_code == 200
            first = time.monotonic() - t0
            for _ in range(5):
                client.get("/", params={"q": "warm up"})
            rng = np.random.default_rng(1)
            queries = [" ".join(rng.choice(WORDS, 4)) + f" {i}" for i in range(2 * requests)]
            times: dict[str, list[float]] = {name: [] for name in ENDPOINTS}
            for i in range(requests):
                for name, url, q in (
                    (ENDPOINTS[0], "/", queries[2 * i]),
                    (ENDPOINTS[1], "/api/search", queries[2 * i + 1]),
                    (ENDPOINTS[2], "/", "woman laughing at night"),
                    (ENDPOINTS[3], "/", None),
                ):
                    t = time.perf_counter()
                    r = client.get(url, params={"q": q} if q else None)
                    times[name].append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 200, (url, r.status_code, r.text[:300])
                    # a fast empty answer would be a wrong one: every response carries a full page of results
                    shown = len(r.json()["hits"]) if url.startswith("/api/") else r.text.count('class="card"')
                    assert shown == per_page, f"{url} q={q!r}: {shown} results, expected a full page of {per_page}"
            hits = len(client.get("/api/search", params={"q": "x"}).json()["hits"])
    finally:
        server.terminate()
        server.wait(10)
    return times, first, hits


ENDPOINTS = ["search page `/?q=`", "search API `/api/search?q=`", "search page, repeated query", "browse page `/`"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shots", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=200, help="timed requests per endpoint")
    ap.add_argument(
        "--models", default="random-tiny,ViT-B-32", help="comma-separated: random-tiny and/or open_clip architectures"
    )
    args = ap.parse_args()
    if args.shots < 10_000:
        print(
            f"note: --shots {args.shots} is below the 10,000 shots the goal is stated for; "
            f"use this run to check the script, not for the README",
            file=sys.stderr,
        )

    tmp = tempfile.TemporaryDirectory(prefix="bench-web-")
    rows, worst = [], 0.0
    load_before = os.getloadavg()[0]
    for name in args.models.split(","):
        folder = Path(tmp.name) / name
        preset = bench_preset(name, folder / "model")
        info = build_library(folder / "lib", args.shots, preset)
        assert info["shots"] == args.shots and info["vectors"] == info["index"] == 2 * args.shots, info
        print(
            f"{name}: {info['shots']} shots, {info['keyframes']} keyframes, {info['vectors']} vectors "
            f"(written in {info['seconds']:.1f}s)",
            flush=True,
        )
        times, first, hits = measure(folder / "lib", args.requests)
        print(f"  first query incl. model load: {first * 1000:.0f} ms; {hits} results per page", flush=True)
        for ep, v in times.items():
            rows.append((name, ep, percentile(v, 50), percentile(v, 95), statistics.mean(v)))
        worst = max(worst, *(percentile(times[k], 95) for k in ENDPOINTS[:2]))
    print(
        f"\n{args.requests} sequential requests per endpoint against `dailies serve` on 127.0.0.1, "
        f"{args.shots} shots, distinct text queries (each one embedded); {os.cpu_count()} CPUs, "
        f"load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after the run\n"
    )
    print("| model | endpoint | p50 ms | p95 ms | mean ms |")
    print("|---|---|---:|---:|---:|")
    for name, ep, p50, p95, mean in rows:
        print(f"| {name} | {ep} | {p50:.1f} | {p95:.1f} | {mean:.1f} |")
    print(
        f"\ngoal p95 < 200 ms for the search page and API: {'met' if worst < 200 else 'NOT met'}"
        f" (worst p95 {worst:.1f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
