#!/usr/bin/env python3
"""Overnight throughput: footage-seconds processed per wall-second, proxies + analysis in ONE decode
(proxy encodes appended to the analysis ffmpeg, as `dailies ingest --proxies` does) versus the same
work as separate passes (the analysis decode, then one ffmpeg per proxy preset). Both modes run
side by side in one process on the same generated clips, interleaved, best of --repeat.

    .venv/bin/python scripts/bench_overnight.py [--clips 3] [--seconds 8] [--size 1280x720]
        [--presets h264,prores-proxy] [--repeat 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import transcode  # noqa: E402
from pipeline.analyze import analyze_file  # noqa: E402
from pipeline.config import load_settings  # noqa: E402
from pipeline.media.ffmpeg import ffmpeg_bin, run, safe_input  # noqa: E402
from pipeline.media.probe import probe  # noqa: E402


def make_clip(path: Path, seconds: float, size: str, rate: str = "24000/1001") -> Path:
    graph = (
        f"testsrc2=s={size}:r={rate}:d={seconds / 2},format=yuv420p[a];"
        f"smptehdbars=s={size}:r={rate}:d={seconds / 2},noise=alls=12:allf=t,format=yuv420p[b];"
        f"[a][b]concat=n=2:v=1:a=0[v]"
    )
    subprocess.run(
        [
            ffmpeg_bin(),
            "-y",
            "-nostdin",
            "-v",
            "error",
            "-filter_complex",
            graph,
            "-f",
            "lavfi",
            "-t",
            str(seconds),
            "-i",
            "sine=f=440:r=48000",
            "-map",
            "[v]",
            "-map",
            "0:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "18",
            "-c:a",
            "pcm_s16le",
            "-timecode",
            "01:00:00:00",
            str(path),
        ],
        check=True,
    )
    return path


def one_pass(infos, presets, settings, out: Path) -> float:
    t0 = time.perf_counter()
    for info in infos:
        temps = [out / f"{Path(info.path).stem}.{p.name}.one.{p.extension}" for p in presets]
        extra = [a for p, t in zip(presets, temps, strict=True) for a in transcode.output_args(p, info, t, "A001")]
        analyze_file(info, settings, extra_outputs=extra)
    return time.perf_counter() - t0


def separate(infos, presets, settings, out: Path) -> float:
    t0 = time.perf_counter()
    for info in infos:
        analyze_file(info, settings)
        for p in presets:
            t = out / f"{Path(info.path).stem}.{p.name}.sep.{p.extension}"
            run(
                [
                    ffmpeg_bin(),
                    "-nostdin",
                    "-v",
                    "error",
                    "-i",
                    safe_input(info.path),
                    *transcode.output_args(p, info, t, "A001"),
                ],
                info.path,
            )
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--presets", default="h264,prores-proxy")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    settings = load_settings()
    presets = transcode.load_presets(args.presets.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        infos = [probe(make_clip(tmp / f"A001C{i + 1:03d}.mov", args.seconds, args.size)) for i in range(args.clips)]
        footage = sum(i.duration for i in infos)
        results = {"one decode (analysis + proxies)": [], "separate passes": []}
        for _ in range(args.repeat):
            results["one decode (analysis + proxies)"].append(one_pass(infos, presets, settings, tmp))
            results["separate passes"].append(separate(infos, presets, settings, tmp))
    print(
        f"{args.clips} clip(s) x {args.seconds:g}s {args.size} 23.976 (H.264 + PCM), proxies: {args.presets}; "
        f"{footage:.1f} footage-seconds; best of {args.repeat}"
    )
    print("| mode | wall s | footage-s / wall-s |")
    print("|---|---|---|")
    best = {k: min(v) for k, v in results.items()}
    for k, v in best.items():
        print(f"| {k} | {v:.2f} | {footage / v:.2f} |")
    a, b = best["one decode (analysis + proxies)"], best["separate passes"]
    print(f"one decode is {b / a:.2f}x the throughput of separate passes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
