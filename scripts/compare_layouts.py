#!/usr/bin/env python3
"""Two source checkouts of Dailies, the same media: do they find the same shots and write the same catalog?

    .venv/bin/python scripts/compare_layouts.py BEFORE_DIR AFTER_DIR [--media ../shared/media] [--work DIR]

For a structural change (issue 12): BEFORE_DIR is a checkout of the old code (`git worktree add
/tmp/old 2750daa`), AFTER_DIR one of the new. For each, with PYTHONPATH=<checkout>, this Python (run it
with the project venv's) and a scratch folder as the working directory, it runs
    ingest MEDIA --library LIB --model random-tiny --no-mhl --json
    clips --library LIB --json
    shots FILE --json         for every clip of `clips` that is not skipped (every ingested video)
each through `python -c "from pipeline.cli import main; ..."` (the old pipeline/cli.py and the new
pipeline/cli/ package both export `main`). It also reads each clip's stage runs (content hash, settings
hash = stage key, status) through the checkout's own catalog API, read-only: `clips --json` does not show
the keys, and a changed key means a rerun that redoes every file. It first checks that `pipeline` and
`models` are imported from the checkout itself, not from an installed copy. Each command's exit status,
JSON output and stderr lines are compared; a difference is shown as a unified diff under the name of its
section (ingest, clips, stage keys, shots FILE).

Normalised, because they differ between any two runs of the same code:
- the run's library folder (a fresh temporary folder per checkout) and the checkout folder -> <library>,
  <checkout>, wherever they appear in a string ("paths aside");
- `seconds` of the ingest report (wall time) -> "<seconds>";
- `log` of the ingest report: the log's file name carries the start time and the process id ->
  ingest-<time>-<pid>.log;
- `finished_at` of each stage in `clips` (the wall-clock time the stage ended) -> "<time>" when set
  (null stays null, so a stage that lost its time still shows);
- the order of `files` in the ingest report (sorted by path) and of the ingest's stderr lines (sorted):
  both follow the order in which the [batch] workers finish, which is timing;
- a duration ending a stderr line (", 0.0s" of "index built: ...") -> ", <seconds>s".
Everything else is compared as it is, among it: exit codes, clip ids (given by the driver in discovery
order), statuses and messages, content hashes and sizes, probe data, shot counts, cuts, gradual ranges,
confidences, shot frames and timecodes, stage names/statuses/details and keys, warnings, reels, source
timecode, MHL fields, the model identity and the index counts.

Stages the new code adds on purpose (`--new-stage takes --new-stage measure` for issue 12, which made the
take fields and measurements stages of the ingest) are set aside from the AFTER side, not hidden: their
runs are removed from `clips`' stages, the stage keys and the ingest's `ran` lists (and `work_done`), and
the script then checks that every ingested clip ran each of them once and has it `done`, and that the
field `missing_stages` that came with them is empty for every clip; anything else about them is a
difference. Their count is printed.

Exit 0 when both checkouts give the same normalised outputs, 1 with a unified diff otherwise, 2 when a
checkout cannot be run at all.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_MAIN = "import sys; from pipeline.cli import main; sys.exit(main(sys.argv[1:]))"
WHERE = "import pipeline, models; print(pipeline.__file__); print(models.__file__)"
LOG_NAME = re.compile(r"ingest-\d{8}T\d{6}Z-\d+\.log$")
TRAILING_SECONDS = re.compile(r", \d+(\.\d+)?s$")
INGEST_FLAGS = ["--model", "random-tiny", "--no-mhl", "--json"]
# The stage keys are not in `clips --json`: read them through the checkout's own catalog API
# (read-only), so a changed settings hash (a rerun that would redo every file) shows.
STAGE_KEYS = (
    "import json, sys; from pipeline.catalog import open_catalog; "
    "c = open_catalog(sys.argv[1], create=False, readonly=True); "
    "print(json.dumps({r['path']: {s: {k: x[k] for k in ('content_hash', 'settings_hash', 'status')} "
    "for s, x in c.stage_runs(r['id']).items()} for r in c.clips()}))"
)


class CheckoutError(Exception):
    pass


def _env(checkout: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DAILIES_CONFIG_DIR", "DAILIES_LIBRARY")}
    env["PYTHONPATH"] = str(checkout)
    env["HF_HUB_OFFLINE"] = "1"  # random-tiny needs no download; nothing may reach the network
    return env


def _python(python: str, checkout: Path, cwd: Path, code: str, args: list[str]) -> dict:
    """One command: its exit status, its stdout (parsed as JSON when it is JSON) and its stderr lines."""
    proc = subprocess.run(
        [python, "-c", code, *args], cwd=cwd, env=_env(checkout), capture_output=True, text=True, timeout=3600
    )
    try:
        out: object = json.loads(proc.stdout)
    except json.JSONDecodeError:
        out = proc.stdout
    return {"exit": proc.returncode, "stdout": out, "stderr": proc.stderr.splitlines()}


def run_checkout(python: str, checkout: Path, media: Path, work: Path) -> dict[str, dict]:
    """Everything the checkout says about `media`, by section: ingest, clips, stage keys, shots FILE."""
    work.mkdir(parents=True)
    lib = work / "library"
    where = _python(python, checkout, work, WHERE, [])
    if where["exit"] != 0:
        raise CheckoutError(f"{checkout}: `import pipeline, models` failed:\n" + "\n".join(where["stderr"]))
    for module in where["stdout"].split():
        if not Path(module).resolve().is_relative_to(checkout):
            raise CheckoutError(
                f"{checkout}: {module} is imported from outside the checkout; is it a Dailies checkout?"
            )

    dailies = RUN_MAIN
    sections = {
        "ingest": _python(python, checkout, work, dailies, ["ingest", str(media), "--library", str(lib)] + INGEST_FLAGS)
    }
    sections["clips"] = _python(python, checkout, work, dailies, ["clips", "--library", str(lib), "--json"])
    sections["stage keys"] = _python(python, checkout, work, STAGE_KEYS, [str(lib)])
    clips = sections["clips"]["stdout"]
    if not isinstance(clips, dict):
        raise CheckoutError(f"{checkout}: `clips --json` gave no JSON:\n" + "\n".join(sections["clips"]["stderr"]))
    for c in clips["clips"]:
        if c["status"] != "skipped":
            sections[f"shots {c['path']}"] = _python(python, checkout, work, dailies, ["shots", c["path"], "--json"])
    return normalise(sections, {str(lib): "<library>", str(checkout): "<checkout>"})


def normalise(sections: dict[str, dict], paths: dict[str, str]) -> dict[str, dict]:
    """The outputs with what differs between any two runs replaced (see the module docstring)."""

    def walk(value: object) -> object:
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            for path, name in paths.items():
                value = value.replace(path, name)
        return value

    sections = walk(sections)
    report = sections["ingest"]["stdout"]
    if isinstance(report, dict):
        if isinstance(report.get("seconds"), (int, float)):
            report["seconds"] = "<seconds>"
        if isinstance(report.get("log"), str):
            report["log"] = LOG_NAME.sub("ingest-<time>-<pid>.log", report["log"])
        if isinstance(report.get("files"), list):
            report["files"].sort(key=lambda f: f.get("path", ""))
    sections["ingest"]["stderr"].sort()
    clips = sections["clips"]["stdout"]
    for clip in clips.get("clips", []) if isinstance(clips, dict) else []:
        for stage in (clip.get("stages") or {}).values():
            if stage.get("finished_at") is not None:
                stage["finished_at"] = "<time>"
    for result in sections.values():
        result["stderr"] = [TRAILING_SECONDS.sub(", <seconds>s", line) for line in result["stderr"]]
    return sections


def set_aside(after: dict[str, dict], new_stages: list[str]) -> tuple[dict[str, int], list[str]]:
    """Take the stages the new code adds on purpose out of its outputs; (runs set aside per stage, problems)."""
    counts = dict.fromkeys(new_stages, 0)
    problems: list[str] = []
    clips = after["clips"]["stdout"]
    ingested = set()
    for clip in clips.get("clips", []) if isinstance(clips, dict) else []:
        missing = clip.pop("missing_stages", None)
        if missing:
            problems.append(f"{clip['path']}: missing_stages {missing}")
        stages = clip.get("stages") or {}
        if clip["status"] == "ok":
            ingested.add(clip["path"])
        for name in new_stages:
            run = stages.pop(name, None)
            if clip["status"] == "ok":
                if run is None or run.get("status") != "done":
                    problems.append(f"{clip['path']}: new stage {name} is {run and run.get('status')}")
                else:
                    counts[name] += 1
    keys = after["stage keys"]["stdout"]
    for path, runs in keys.items() if isinstance(keys, dict) else []:
        for name in new_stages:
            if runs.pop(name, None) is None and path in ingested:
                problems.append(f"{path}: no stage key for new stage {name}")
    report = after["ingest"]["stdout"]
    for f in report.get("files", []) if isinstance(report, dict) else []:
        ran = f.get("ran", [])
        kept = [r for r in ran if r not in new_stages]
        if f.get("status") == "ok" and [r for r in ran if r in new_stages] != new_stages:
            problems.append(f"{f['path']}: the ingest ran {ran}, not each new stage once")
        report["work_done"] -= len(ran) - len(kept)
        f["ran"] = kept
    return counts, problems


def differences(before: dict[str, dict], after: dict[str, dict], names: tuple[str, str]) -> list[str]:
    """A unified diff per section (its name in the header), and the sections only one side has."""
    lines = []
    for section in sorted(before.keys() | after.keys()):
        if section not in after or section not in before:
            lines.append(f"only in {names[0] if section in before else names[1]}: {section}")
            continue
        a, b = (json.dumps(d[section], indent=1, sort_keys=True).splitlines() for d in (before, after))
        lines += difflib.unified_diff(a, b, f"{names[0]}: {section}", f"{names[1]}: {section}", lineterm="")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", type=Path, help="checkout of the old code")
    ap.add_argument("after", type=Path, help="checkout of the new code")
    ap.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media", help="(default ../shared/media)")
    ap.add_argument(
        "--python", default=sys.executable, help="Python with the project's dependencies (default: this one)"
    )
    ap.add_argument(
        "--work", type=Path, help="keep the libraries and the normalised outputs (before.json, after.json) here"
    )
    ap.add_argument(
        "--new-stage",
        action="append",
        default=[],
        metavar="NAME",
        help="a stage only the new code has, on purpose (repeat it; in the order the ingest runs them): "
        "set aside and checked, see above",
    )
    args = ap.parse_args()

    media = args.media.resolve()
    if not media.is_dir():
        print(f"compare_layouts: {media} is not a folder; give the media with --media DIR", file=sys.stderr)
        return 2
    work = args.work.resolve() if args.work else Path(tempfile.mkdtemp(prefix="compare-layouts-"))
    results, seconds = {}, {}
    try:
        for side, checkout in (("before", args.before), ("after", args.after)):
            t0 = time.monotonic()
            results[side] = run_checkout(args.python, checkout.resolve(), media, work / side)
            seconds[side] = time.monotonic() - t0
            if args.work:
                (work / f"{side}.json").write_text(json.dumps(results[side], indent=1, sort_keys=True) + "\n")
    except (CheckoutError, subprocess.TimeoutExpired) as e:
        print(f"compare_layouts: {e}", file=sys.stderr)
        return 2
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)

    counts, problems = set_aside(results["after"], args.new_stage) if args.new_stage else ({}, [])
    diff = problems + differences(results["before"], results["after"], (str(args.before), str(args.after)))
    shot_lists = sum(1 for s in results["before"] if s.startswith("shots "))
    summary = f"{shot_lists} shot lists; before {seconds['before']:.1f} s, after {seconds['after']:.1f} s"
    if counts:
        summary += "; set aside: " + ", ".join(f"{n} runs of the new stage {name}" for name, n in counts.items())
    if diff:
        print("\n".join(diff))
        print(f"compare_layouts: DIFFERENT ({summary})")
        return 1
    print(f"compare_layouts: identical after normalisation ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
