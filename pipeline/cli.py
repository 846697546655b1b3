"""`dailies` command line: parse flags, build settings, call one library function, print.

Exit codes: 0 all done, 1 some files failed (the rest done, a summary printed), 2 usage error.
Set DAILIES_DEBUG=1 to see tracebacks.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import textwrap
from pathlib import Path

from .errors import DailiesError, UsageError

log = logging.getLogger("dailies")

EPILOG = textwrap.dedent("""\
    examples:
      dailies ingest /Volumes/A001 /Volumes/B001           # the overnight job
      dailies ingest /Volumes/A001 --proxies h264,dnxhr-lb --workers 2
      dailies report --out /mnt/show/reports/day1         # the morning report (HTML + JSON)
      dailies ingest cards/ --model random-tiny            # plumbing test without CLIP weights
      dailies ingest /mnt/cards --executor ray --ray-address head:6379   # on a Ray cluster
      dailies shots A001C003.mov --json                    # shot list of one file, no library
      dailies search "close-up, woman laughing, night exterior"
      dailies search --image still.jpg --limit 5 --json
      dailies clips --json
      dailies models                                       # which CLIP presets are usable here
    """)


def _library(args) -> Path:
    return Path(args.library or os.environ.get("DAILIES_LIBRARY") or "./dailies-library")


def _settings(args):
    from .config import load_settings

    lib = _library(args)
    files = [lib / "dailies.toml"] + ([Path(args.config)] if args.config else [])
    if args.config and not Path(args.config).exists():
        raise UsageError(f"--config {args.config}: file not found")
    return load_settings(*files)


def _emit(args, data: dict, human: str) -> None:
    if args.json:
        json.dump(data, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(human)


def _tty(args) -> bool:
    return not args.json and sys.stderr.isatty()


@contextlib.contextmanager
def _frame_bar(args, info):
    """A progress callback (frame index) drawing a bar on a terminal; None without one or with --json."""
    if not _tty(args):
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=info.frame_count or None, desc=Path(info.path).name[:24], unit="frame", file=sys.stderr,
              leave=False) as bar:
        yield lambda index: bar.update(index + 1 - bar.n)


# -- commands ------------------------------------------------------------------------------

def cmd_ingest(args) -> int:
    """One ingest per library at a time (pipeline/lock.py): a second one is refused or, with --wait, queued."""
    from .ingest_cli import cmd_ingest as run
    from .lock import ingest_lock

    with ingest_lock(_library(args), wait=args.wait or _settings(args).reliability.lock_wait):
        return run(args, _library(args), _settings)


def cmd_shots(args) -> int:
    from .analyze import analyze_file, check_complete
    from .media.probe import probe

    if Path(args.file).is_dir():
        raise UsageError(f"{args.file} is a folder: `dailies shots` takes one file (`dailies ingest` takes folders)")
    settings = _settings(args).replace("shots", detector=args.detector, threshold=args.threshold)
    info = probe(args.file)
    with _frame_bar(args, info) as progress:
        result = analyze_file(info, settings, with_keyframes=False, progress=progress)
    for w in check_complete(result, settings.reliability.min_decoded_fraction):  # a truncated file is an error
        print(f"warning: {info.path}: {w}", file=sys.stderr)
    data = result.shots_json()
    human = "\n".join(f"{s.index:4d}  {s.start_tc} - {s.end_tc}  frames {s.start_frame}-{s.end_frame}"
                      f"  confidence {s.confidence:.2f}" for s in result.shots)
    for g in result.gradual:
        human += f"\n      {g.kind} frames {g.first}-{g.last}  confidence {g.confidence:.2f}"
    if args.verbose:
        for frame, why in sorted(result.rejected.items()):
            human += f"\n      not a cut at frame {frame}: {why}"
    _emit(args, data, f"{info.path}: {len(result.shots)} shot(s) at {data['fps']} fps\n{human}")
    return 0


def cmd_search(args) -> int:
    from models.clip import OpenClipEmbedder
    from models.presets import resolve_model

    from .catalog import open_catalog
    from .search import NOT_SEMANTIC, library_model, search

    if (args.query is None) == (args.image is None):
        raise UsageError("give a text query or --image FILE (one of the two)")
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit {args.limit}: give the number of shots to list (1 or more)")
    settings = _settings(args)
    catalog = open_catalog(_library(args), create=False)
    try:
        preset = resolve_model(args.model) if args.model else library_model(catalog)
        embedder = OpenClipEmbedder(preset, device=args.device or settings.embed.device)
        hits = search(catalog, embedder, args.query, args.image, args.limit or settings.search.limit,
                      settings.search.oversample, settings.index)
    finally:
        catalog.close()
    data = {"query": args.query if args.query is not None else {"image": str(args.image)},
            "model": preset.identity, "semantic": preset.semantic, "hits": [h.to_json() for h in hits]}
    lines = []
    if not preset.semantic:
        data["warning"] = NOT_SEMANTIC.format(name=preset.name)
        lines.append(f"warning: {data['warning']}")
    for h in hits:
        lines.append(f"{h.rank:3d}. {h.score:+.3f}  {Path(h.clip).name}  shot {h.shot}  {h.start_tc}-{h.end_tc}"
                     f"  frames {h.start_frame}-{h.end_frame}  {h.thumbnail}")
    if not hits:
        lines.append("no results: the library has no embedded keyframes for this model")
    _emit(args, data, "\n".join(lines))
    return 0


def _model_note(catalog, model_id: str | None) -> dict:
    """`semantic` (and a `warning` when false) for the library's model; {} when nothing is embedded yet."""
    from .search import NOT_SEMANTIC

    row = catalog.model(model_id) if model_id else None
    if row is None:
        return {}
    if row["semantic"]:
        return {"semantic": True}
    return {"semantic": False, "warning": NOT_SEMANTIC.format(name=row["name"])}


def _stage_summary(stages: dict) -> str:
    return " ".join(f"{name}:{run['status']}" for name, run in stages.items())


def _warnings(runs: dict) -> list[str]:
    """Ingested, but something is wrong with the source (damaged frames, a damaged header)."""
    analyze = runs.get("analyze")
    return analyze["detail"].split("\n") if analyze and analyze["status"] == "done" and analyze["detail"] else []


def cmd_clips(args) -> int:
    from .catalog import open_catalog
    from .report.data import editorial

    catalog = open_catalog(_library(args), create=False)
    try:
        out = []
        with catalog.snapshot():  # one committed state, even while an ingest writes
            model = catalog.meta_get("model")
            note = _model_note(catalog, model)
            for c in catalog.clips():
                runs = catalog.stage_runs(c["id"])
                out.append({
                    "id": c["id"], "path": c["path"], "status": c["status"], "error": c["error"],
                    "content_hash": c["content_hash"], "size": c["size"],
                    "probe": json.loads(c["probe_json"]) if c["probe_json"] else None,
                    "shots": catalog.count_shots(c["id"]),
                    "warnings": _warnings(runs),
                    "stages": {k: {"status": r["status"], "detail": r["detail"], "finished_at": r["finished_at"]}
                               for k, r in runs.items()},
                    **editorial(catalog, c),
                })
    finally:
        catalog.close()
    human = "\n".join(
        f"{c['status']:8s} {c['shots']:4d} shots  reel {c['reel'] or '-':8s} "
        f"{(c['source_tc'] or {}).get('start') or '--:--:--:--'}  mhl:{c['mhl']['status'] or '-'}  "
        f"{_stage_summary(c['stages'])}  {c['path']}" for c in out)
    if "warning" in note:
        human = f"warning: {note['warning']}\n{human}"
    _emit(args, {"library": str(_library(args)), "model": model, **note, "clips": out}, human or "library is empty")
    return 0


def cmd_models(args) -> int:
    from models.clip import availability
    from models.presets import list_presets, resolve_model

    settings = _settings(args)
    allow = settings.embed.allow_download or os.environ.get("DAILIES_ALLOW_DOWNLOAD") == "1"
    if args.action == "fetch":
        if not args.name:
            raise UsageError("dailies models fetch NAME: give a preset name")
        from models.clip import OpenClipEmbedder

        preset = resolve_model(args.name)
        OpenClipEmbedder(preset, device="cpu", allow_download=True).load()
        _emit(args, {"fetched": preset.name, "identity": preset.identity}, f"{preset.name}: weights are in the cache")
        return 0
    rows = []
    for p in list_presets():
        usable, why = availability(p, allow)
        rows.append({**p.to_json(), "usable": usable, "reason": why,
                     "default": p.name == settings.embed.model})
    human = "\n".join(f"{'*' if r['default'] else ' '} {r['name']:18s} {'usable' if r['usable'] else 'missing':8s} "
                      f"{r['reason']}  -- {r['description']}" for r in rows)
    _emit(args, {"presets": rows}, human)
    return 0


def cmd_index(args) -> int:
    from .catalog import open_catalog
    from .index import rebuild

    settings = _settings(args)
    catalog = open_catalog(_library(args), create=False)
    try:
        model_id = catalog.meta_get("model")
        if not model_id:
            raise UsageError("this library has no embeddings: nothing to index")
        vi = rebuild(catalog, model_id, catalog.model(model_id)["dim"], settings.index)
        vi.save(catalog.root)
        note = _model_note(catalog, model_id)
    finally:
        catalog.close()
    human = f"index rebuilt: {vi.ntotal} vectors, {vi.spec.describe()} ({model_id})"
    if "warning" in note:
        human += f"\nwarning: {note['warning']}"
    _emit(args, {"model": model_id, **note, "total": vi.ntotal, "kind": vi.spec.describe()}, human)
    return 0


# -- parser --------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--library", metavar="DIR", help="library folder (env DAILIES_LIBRARY, default ./dailies-library)")
    common.add_argument("--config", metavar="FILE", help="extra settings file (TOML, see configs/default.toml)")
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout, no progress bars")
    common.add_argument("-v", "--verbose", action="store_true", help="more log output")

    parser = argparse.ArgumentParser(prog="dailies", description="Local-first dailies analysis: ingest, shots, search.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", parents=[common], help="verify, probe, detect shots, embed and index footage",
                       epilog="example: dailies ingest /Volumes/A001 --library /mnt/show/dailies-library")
    p.add_argument("paths", nargs="+", metavar="PATH", help="camera cards, folders or files")
    p.add_argument("--model", help="model preset (configs/models) or checkpoint file; default from config")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where the model runs (default auto)")
    p.add_argument("--no-embed", action="store_true", help="skip embedding (shots and keyframes only)")
    p.add_argument("--wait", action="store_true",
                   help="if another ingest is running on this library, wait for it instead of refusing")
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="local: this process; ray: per-file tasks and embedding actors on a Ray cluster")
    p.add_argument("--ray-address", metavar="ADDR",
                   help="Ray cluster to join (default [ray] address; none: a Ray instance on this machine)")
    from .ingest_cli import add_arguments as add_ingest_arguments

    add_ingest_arguments(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("shots", parents=[common], help="shot boundaries of one file (no library needed)",
                       epilog="example: dailies shots A001C003.mov --json")
    p.add_argument("file")
    p.add_argument("--detector", choices=["content", "adaptive"])
    p.add_argument("--threshold", type=float)
    p.set_defaults(func=cmd_shots)

    p = sub.add_parser("search", parents=[common], help="find shots by text or by an example image",
                       epilog='examples: dailies search "night exterior, car headlights"; dailies search --image frame.jpg')
    p.add_argument("query", nargs="?")
    p.add_argument("--image", metavar="FILE")
    p.add_argument("--limit", type=int)
    p.add_argument("--model", help="override the library's model (must have been ingested with it)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"])
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("clips", parents=[common], help="catalogued clips with probe data and stage status")
    p.set_defaults(func=cmd_clips)

    p = sub.add_parser("models", parents=[common], help="model presets and whether their weights are here",
                       epilog="examples: dailies models --json; dailies models fetch vit-b-32 (on a connected machine)")
    p.add_argument("action", nargs="?", choices=["list", "fetch"], default="list")
    p.add_argument("name", nargs="?")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("index", parents=[common], help="rebuild the vector index from the stored vectors")
    p.add_argument("action", choices=["rebuild"])
    p.set_defaults(func=cmd_index)

    import importlib
    import pkgutil

    from . import commands

    for mod in sorted(m.name for m in pkgutil.iter_modules(commands.__path__)):
        importlib.import_module(f"{commands.__name__}.{mod}").register(sub, common)
    return parser


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.ERROR, format="%(message)s", stream=sys.stderr)
    logging.getLogger("dailies").setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("PIL", "urllib3", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"dailies: error: {exc}", file=sys.stderr)
        return 2
    except DailiesError as exc:
        if os.environ.get("DAILIES_DEBUG"):
            raise
        print(f"dailies: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("dailies: interrupted; finished work is kept, run the same command again to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `dailies ... | head`: the reader left (no child's stdin is written to, so it is
        # stdout); no traceback, and none at exit either
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("dailies: output cut short: the program reading it closed the pipe", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
