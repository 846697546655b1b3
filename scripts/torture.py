#!/usr/bin/env python3
"""Crash-safety torture: kill -9 an ingest at random moments, then run it to the end, and check that
nothing was lost, nothing was done twice, and nothing partial was ever presented as complete.

    .venv/bin/python scripts/torture.py                  # 20 runs, 5 generated clips, embedding on
    .venv/bin/python scripts/torture.py --runs 3 --clips 3 --json

Each run starts a fresh library, starts `dailies ingest` and SIGKILLs it after a random delay (up to
the length of an uninterrupted ingest), 1-3 times, checking the library after every kill; then lets
an ingest finish and checks the result against an uninterrupted reference run.

After every kill (state on disk, as a reader would find it):
  * `PRAGMA integrity_check` is ok; a clip marked `ok` has every stage done;
  * a clip whose analysis is recorded done has exactly the reference shots and keyframes, and a JPEG
    for each keyframe; embedding recorded done means one vector per keyframe; no shots without it;
  * the saved FAISS index, when present, matches its stamp (else it is rebuilt, never trusted).
After the final run:
  * every clip `ok` with exactly the reference shots/keyframes (no duplicates), one vector per keyframe;
  * FAISS ids == catalog vector ids (same set, same count); no thumbnail file without a keyframe row;
  * no run, killed or final, redid a stage an earlier run had recorded as done (its report says what it
    ran; a stage's finished_at, to the millisecond, must not change once done): work is done once.

Ingests are forked from this process after the heavy imports (torch, open_clip), so a run costs
seconds, not the 10+ s of a cold interpreter; each is still its own process, killed with SIGKILL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_card(card: Path, clips: int, seed: int) -> None:
    from pipeline.media.synth import make_cuts_clip

    rng = random.Random(seed)
    card.mkdir(parents=True, exist_ok=True)
    for i in range(clips):
        lengths = [rng.randint(20, 70) for _ in range(rng.randint(2, 4))]
        make_cuts_clip(card / f"T001C{i:03d}.mov", lengths, rng.choice(["24", "25", "30000/1001"]), size=(256, 144))


class Child:
    """`dailies ingest` in a forked process (stdout/stderr to files)."""

    def __init__(self, argv: list[str], out: Path):
        self.out = out
        self.started = time.monotonic()
        self.pid = os.fork()
        if self.pid == 0:  # child: run the real CLI, never return into the parent's code
            code = 70
            try:
                fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                err = os.open(out.with_suffix(".err"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(fd, 1)
                os.dup2(err, 2)
                from pipeline.cli import main

                code = main(argv)
                sys.stdout.flush()
            finally:
                os._exit(code)
        self.status: int | None = None

    def wait(self, timeout: float | None = None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(0.005)

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.wait()


def ingest_argv(card: Path, lib: Path, model: str, proxies: str = "") -> list[str]:
    argv = ["ingest", str(card), "--library", str(lib), "--json"]
    argv += ["--proxies", proxies] if proxies else []
    return argv + (["--no-embed"] if model == "none" else ["--model", model])


def read_state(lib: Path) -> dict:
    """Everything the checks need, read in one snapshot."""
    conn = sqlite3.connect(f"file:{lib / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        conn.execute("BEGIN")
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'clips'").fetchone():
            # killed between creating the file and committing the schema: an empty library (the next
            # command that opens it applies the migrations)
            return {
                "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
                "clips": {},
                "stages": {},
                "done_at": {},
                "shots": {},
                "keyframes": {},
                "bare_shots": 0,
                "vectors": {},
                "vector_ids": [],
                "thumbs": set(),
                "model": None,
                "proxies": [],
            }
        st = {
            "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
            "clips": {r[0]: {"id": r[1], "status": r[2]} for r in conn.execute("SELECT path, id, status FROM clips")},
            "stages": {(r[0], r[1]): r[2] for r in conn.execute("SELECT clip_id, stage, status FROM stage_runs")},
            "done_at": {
                (r[0], r[1]): r[2]
                for r in conn.execute("SELECT clip_id, stage, finished_at FROM stage_runs WHERE status = 'done'")
            },
            "shots": {r[0]: r[1] for r in conn.execute("SELECT clip_id, count(*) FROM shots GROUP BY clip_id")},
            "keyframes": {
                r[0]: r[1]
                for r in conn.execute(
                    "SELECT s.clip_id, count(*) FROM keyframes k JOIN shots s ON s.id = k.shot_id GROUP BY s.clip_id"
                )
            },
            "bare_shots": conn.execute(
                "SELECT count(*) FROM shots s WHERE NOT EXISTS (SELECT 1 FROM keyframes k WHERE k.shot_id = s.id)"
            ).fetchone()[0],
            "vectors": {
                r[0]: r[1]
                for r in conn.execute(
                    "SELECT s.clip_id, count(*) FROM vectors v JOIN keyframes k ON k.id = v.keyframe_id "
                    "JOIN shots s ON s.id = k.shot_id GROUP BY s.clip_id"
                )
            },
            "vector_ids": sorted(r[0] for r in conn.execute("SELECT keyframe_id FROM vectors")),
            "thumbs": {r[0] for r in conn.execute("SELECT thumb FROM keyframes")},
            "model": (conn.execute("SELECT value FROM meta WHERE key = 'model'").fetchone() or [None])[0],
            "proxies": [],
        }
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'proxies'").fetchone():
            st["proxies"] = conn.execute("SELECT clip_id, preset, path, bytes FROM proxies").fetchall()
    finally:
        conn.close()
    return st


def index_state(lib: Path, model_id: str | None) -> tuple[str, list[int]]:
    """('absent' | 'ok' | 'stale-stamp', ids) of the saved FAISS index."""
    import faiss

    from pipeline.index import index_paths

    if not model_id:
        return "absent", []
    ipath, spath = index_paths(lib, model_id)
    if not ipath.exists() or not spath.exists():
        return "absent", []
    stamp = json.loads(spath.read_text())
    index = faiss.read_index(str(ipath))
    ids = sorted(faiss.vector_to_array(index.id_map).tolist()) if index.ntotal else []
    return ("ok" if stamp.get("count") == index.ntotal else "stale-stamp"), ids


def library_files(lib: Path, folder: str, temp_suffix: str) -> tuple[set[str], int]:
    """Files under LIB/folder, relative to LIB, and how many are temporary (named ...temp_suffix)."""
    files, temp = set(), 0
    for p in (lib / folder).rglob("*") if (lib / folder).exists() else []:
        if p.is_file():
            if p.name.endswith(temp_suffix):
                temp += 1
            else:
                files.add(str(p.relative_to(lib)))
    return files, temp


def check_after_kill(lib: Path, ref: dict, embed: bool, presets: list[str] = ()) -> list[str]:
    """Problems with what a reader would find right after a kill (empty list: none)."""
    from pipeline.ingest.stages import every_clip

    if not (lib / "catalog.sqlite").exists():
        return []
    st = read_state(lib)
    bad = []
    for _cid, _preset, rel, size in st["proxies"]:  # a proxy the catalog lists is whole, under its final name
        f = lib / rel
        if not f.is_file() or f.stat().st_size != size:
            bad.append(f"proxy {rel} listed but {'missing' if not f.is_file() else 'not the size recorded'}")
    listed = {(cid, preset) for cid, preset, _, _ in st["proxies"]}
    for (cid, stage), status in st["stages"].items():
        if stage.startswith("proxy:") and status == "done" and (cid, stage[6:]) not in listed:
            bad.append(f"clip {cid}: {stage} done without its proxy row")
    if st["integrity"] != "ok":
        bad.append(f"integrity_check: {st['integrity']}")
    stages_wanted = (*every_clip(), "embed") if embed else tuple(every_clip())  # pipeline/ingest/stages.py
    on_disk, _ = library_files(lib, "thumbs", ".tmp")
    for path, clip in st["clips"].items():
        cid, name = clip["id"], Path(path).name
        done = {s for (c, s), status in st["stages"].items() if c == cid and status == "done"}
        if clip["status"] == "ok" and not set(stages_wanted) <= done:
            bad.append(f"{name}: status ok but stages done = {sorted(done)}")
        if "analyze" in done:
            if (st["shots"].get(cid, 0), st["keyframes"].get(cid, 0)) != ref[name]:
                bad.append(
                    f"{name}: analysis done with {st['shots'].get(cid, 0)} shots/"
                    f"{st['keyframes'].get(cid, 0)} keyframes, reference {ref[name]}"
                )
        elif st["shots"].get(cid, 0):
            bad.append(f"{name}: {st['shots'][cid]} shots without a finished analysis")
        if "embed" in done and st["vectors"].get(cid, 0) != st["keyframes"].get(cid, 0):
            bad.append(
                f"{name}: embedding done with {st['vectors'].get(cid, 0)} vectors for "
                f"{st['keyframes'].get(cid, 0)} keyframes"
            )
    if st["bare_shots"]:
        bad.append(f"{st['bare_shots']} shots without keyframes")
    missing = st["thumbs"] - on_disk
    if missing:
        bad.append(f"{len(missing)} keyframe rows without their JPEG")
    return bad


def check_final(lib: Path, ref: dict, embed: bool, presets: list[str] = ()) -> tuple[list[str], dict]:
    st = read_state(lib)
    bad = check_after_kill(lib, ref, embed, presets)
    names = {Path(p).name: c for p, c in st["clips"].items()}
    if sorted(names) != sorted(ref):
        bad.append(f"clips {sorted(names)} != {sorted(ref)}")
    for name, c in names.items():
        if c["status"] != "ok":
            bad.append(f"{name}: status {c['status']}")
    on_disk, tmp = library_files(lib, "thumbs", ".tmp")
    orphans = on_disk - st["thumbs"]
    if orphans:
        bad.append(f"{len(orphans)} thumbnail files without a keyframe row")
    figures = {
        "shots": sum(st["shots"].values()),
        "keyframes": sum(st["keyframes"].values()),
        "vectors": len(st["vector_ids"]),
        "index": 0,
        "tmp_left": tmp,
        "orphans": len(orphans),
    }
    if presets:
        on_disk, partial = library_files(lib, "proxies", ".part")
        rows = {rel for _, _, rel, _ in st["proxies"]}
        figures.update(proxies=len(st["proxies"]), tmp_left=tmp + partial)
        if len(st["proxies"]) != len(ref) * len(presets) or len(rows) != len(st["proxies"]):
            bad.append(f"{len(st['proxies'])} proxy rows for {len(ref)} clips x {len(presets)} preset(s)")
        if on_disk - rows:
            bad.append(f"{len(on_disk - rows)} proxy files without a catalog row")
    if embed:
        state, ids = index_state(lib, st["model"])
        figures["index"] = len(ids)
        if state != "ok":
            bad.append(f"index {state}")
        if ids != st["vector_ids"]:
            bad.append(f"FAISS ids ({len(ids)}) != catalog vector ids ({len(st['vector_ids'])})")
        if len(set(ids)) != len(ids):
            bad.append("duplicate ids in the FAISS index")
        if len(st["vector_ids"]) != figures["keyframes"]:
            bad.append(f"{len(st['vector_ids'])} vectors for {figures['keyframes']} keyframes")
    return bad, figures


def done_stages(lib: Path) -> dict[tuple[str, str], str]:
    """{(clip name, stage): finished_at} of the stages recorded done (finished_at: to the millisecond)."""
    if not (lib / "catalog.sqlite").exists():
        return {}
    st = read_state(lib)
    by_id = {c["id"]: Path(p).name for p, c in st["clips"].items()}
    return {(by_id[c], s): at for (c, s), at in st["done_at"].items()}


def redone_since(seen: dict, now: dict) -> list[tuple[str, str]]:
    """Stages recorded done in `seen` that were recorded again since (a new finished_at): work done twice.
    Catches it in killed runs too, whose own reports never get written."""
    return sorted(k for k, at in seen.items() if k in now and now[k] != at)


def torture(
    runs: int, clips: int, seed: int, model: str, work: Path, say=print, proxies: str = ""
) -> tuple[list[dict], dict]:
    rng = random.Random(seed)
    embed = model != "none"
    presets = [p for p in proxies.split(",") if p]
    source = work / "source"
    make_card(source, clips, seed)

    def card_for(name: str) -> Path:
        """Each run gets its own card (hard links): whatever a run writes into a card (an MHL) stays its own."""
        card = work / name / "card"
        if not card.exists():
            shutil.copytree(source, card, copy_function=os.link)
        return card

    # reference: one uninterrupted ingest
    ref_lib = work / "reference"
    child = Child(ingest_argv(card_for("reference-card"), ref_lib, model, proxies), work / "reference.json")
    code = child.wait(timeout=600)
    ref_seconds = time.monotonic() - child.started
    if code != 0:
        raise SystemExit(f"reference ingest failed (exit {code}): {(work / 'reference.err').read_text()[-2000:]}")
    st = read_state(ref_lib)
    ref = {Path(p).name: (st["shots"].get(c["id"], 0), st["keyframes"].get(c["id"], 0)) for p, c in st["clips"].items()}
    say(
        f"reference: {len(ref)} clips, {sum(s for s, _ in ref.values())} shots, "
        f"{sum(k for _, k in ref.values())} keyframes, {ref_seconds:.1f}s uninterrupted"
    )
    results = []
    for run in range(1, runs + 1):
        lib = work / f"run{run:02d}"
        card = card_for(f"run{run:02d}-card")
        kills, problems, redone = [], [], []
        seen: dict = {}  # every stage recorded done so far, with when
        for k in range(rng.randint(1, 3)):
            delay = rng.uniform(0.05, ref_seconds)
            child = Child(ingest_argv(card, lib, model, proxies), work / f"run{run:02d}-{k}.json")
            if child.wait(timeout=delay) is None:
                child.kill()
                kills.append(round(delay, 2))
            problems += [f"after kill {k + 1}: {p}" for p in check_after_kill(lib, ref, embed, presets)]
            now = done_stages(lib)
            again = redone_since(seen, now)
            if again:
                problems.append(f"run {k + 1} redid finished work: {again}")
            seen.update(now)
        before = done_stages(lib)
        child = Child(ingest_argv(card, lib, model, proxies), work / f"run{run:02d}-final.json")
        code = child.wait(timeout=600)
        if code != 0:
            problems.append(f"final ingest exit {code}: {(work / f'run{run:02d}-final.err').read_text()[-500:]}")
            figures = {}
        else:
            report = json.loads((work / f"run{run:02d}-final.json").read_text())
            for f in report["files"]:
                redone += [(Path(f["path"]).name, s) for s in f["ran"] if (Path(f["path"]).name, s) in before]
            redone += [k for k in redone_since(seen, done_stages(lib)) if k not in redone]
            if redone:
                problems.append(f"redid finished work: {redone}")
            bad, figures = check_final(lib, ref, embed, presets)
            problems += bad
        row = {
            "run": run,
            "kills": kills,
            "done_at_last_kill": len(before),
            "final_exit": code,
            **figures,
            "ok": not problems,
            "problems": problems,
        }
        results.append(row)
        say(format_row(row))
    summary = {
        "runs": runs,
        "kills": sum(len(r["kills"]) for r in results),
        "passed": sum(r["ok"] for r in results),
        "clips": len(ref),
        "reference_seconds": round(ref_seconds, 2),
        "model": model,
        "seed": seed,
        "proxies": presets,
    }
    return results, summary


HEADER = (
    f"{'run':>3} {'kills at (s)':<20} {'stages done':>11} {'exit':>4} {'shots':>5} {'kfs':>4} {'vecs':>4} "
    f"{'faiss':>5} {'prox':>4} {'tmp':>3}  result"
)


def format_row(r: dict) -> str:
    kills = ",".join(f"{k:.2f}" for k in r["kills"]) or "(finished first)"
    return (
        f"{r['run']:>3} {kills:<20} {r['done_at_last_kill']:>11} {r['final_exit']:>4} {r.get('shots', '-'):>5} "
        f"{r.get('keyframes', '-'):>4} {r.get('vectors', '-'):>4} {r.get('index', '-'):>5} "
        f"{r.get('proxies', '-'):>4} {r.get('tmp_left', '-'):>3}  "
        + ("ok" if r["ok"] else "FAIL: " + "; ".join(r["problems"]))
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--clips", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model", default="random-tiny", help="preset to embed with, or 'none' for --no-embed")
    ap.add_argument(
        "--proxies",
        default="",
        metavar="PRESET[,PRESET]",
        help="make these proxies too (`dailies ingest --proxies`) and check them the same way",
    )
    ap.add_argument("--keep", metavar="DIR", help="work here and keep the libraries (default: a temp dir, removed)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # the heavy imports happen once, here, before any fork
    import pipeline.cli  # noqa: F401
    import pipeline.ingest.batch  # noqa: F401

    if args.model != "none":
        import open_clip  # noqa: F401
        import torch  # noqa: F401

        import models.clip  # noqa: F401
    say = (lambda s: print(s, file=sys.stderr)) if args.json else print
    ctx = tempfile.TemporaryDirectory(prefix="dailies-torture-") if not args.keep else None
    work = Path(args.keep or ctx.name)
    work.mkdir(parents=True, exist_ok=True)
    try:
        say(HEADER)
        results, summary = torture(args.runs, args.clips, args.seed, args.model, work, say, args.proxies)
    finally:
        if ctx:
            ctx.cleanup()
    say(
        f"{summary['passed']}/{summary['runs']} runs passed, {summary['kills']} kill -9s, {summary['clips']} clips, "
        f"model {summary['model']}, proxies {args.proxies or 'none'}, seed {summary['seed']}"
    )
    if args.json:
        json.dump({"summary": summary, "runs": results}, sys.stdout, indent=1)
        print()
    return 0 if summary["passed"] == summary["runs"] else 1


if __name__ == "__main__":
    sys.exit(main())
