"""`dailies ingest`: flags, progress bars (overall + one per worker), summary. The work is in batch.py, on
this machine (executors/local.LocalExecutor) or on a Ray cluster (executors/ray_exec.RayExecutor, `--executor ray`)."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from pathlib import Path
from typing import Any

from pipeline.cli.common import library_of, settings_of
from pipeline.config import Settings, choices_of, env_allow_download
from pipeline.ingest.observer import Observer

log = logging.getLogger("dailies")


def add_arguments(p) -> None:
    p.add_argument(
        "--proxies",
        metavar="PRESET[,PRESET]",
        help="editorial proxies to make (configs/transcode: h264, dnxhr-lb, prores-proxy); "
        "default from [proxies] presets",
    )
    p.add_argument(
        "--burnin", action="store_true", default=None, help="burn source TC, clip name and scene/take into the proxies"
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="files worked on at once by the local executor (default [batch] workers)",
    )
    p.add_argument(
        "--hash",
        choices=choices_of("verify.checksum"),
        dest="checksum",
        help="checksum recorded per file and written to the MHL (default xxh64)",
    )
    p.add_argument("--no-mhl", action="store_true", help="do not write ASC MHL generations into the cards")
    p.add_argument(
        "--reverify",
        action="store_true",
        help="read and hash every source again even when size and mtime are unchanged",
    )
    p.add_argument(
        "--watch",
        action="store_true",
        help="after the first pass keep watching the folders for new cards/files (Ctrl-C ends)",
    )


class CliObserver(Observer):
    """Progress on a terminal: one bar for the batch, one per file in work; lines otherwise."""

    def __init__(self, tty: bool, verbose: bool, quiet: bool):
        self.tty, self.verbose, self.quiet = tty, verbose, quiet
        self.lock = threading.Lock()
        self.overall: Any = None  # tqdm bars (tqdm ships no types)
        self.bars: dict[str, Any] = {}
        self.free_positions: list[int] = []

    def start(self, total: int) -> None:
        if self.tty:
            from tqdm import tqdm

            self.overall = tqdm(total=total, desc="files", unit="file", file=sys.stderr, position=0)

    def progress(self, path: str, phase: str, done: int, total: int) -> None:
        if not self.tty:
            return
        from tqdm import tqdm

        with self.lock:
            bar = self.bars.get(path)
            if bar is None:
                pos = self.free_positions.pop(0) if self.free_positions else len(self.bars) + 1
                bar = tqdm(total=max(total, 1), desc=Path(path).name[:24], file=sys.stderr, position=pos, leave=False)
                bar.pos_ = pos
                self.bars[path] = bar
            bar.set_postfix_str(phase, refresh=False)
            bar.total = max(total, 1)
            bar.n = min(done, bar.total)
            bar.refresh()

    def file_done(self, index: int, total: int, outcome) -> None:
        with self.lock:
            bar = self.bars.pop(outcome.path, None)
            if bar is not None:
                self.free_positions.append(bar.pos_)
                bar.close()
            if self.overall is not None:
                self.overall.update(1)
        if outcome.status == "failed":
            self._print(f"error: {outcome.message}")
        elif outcome.mhl == "mismatch":
            self._print(f"error: MHL MISMATCH {outcome.path}: it differs from the card's MHL")
        elif outcome.status == "skipped" and self.verbose:
            self._print(f"note: {outcome.message}")
        elif not self.tty and not self.quiet and self.verbose:
            self._print(f"[{index + 1}/{total}] {outcome.status} {','.join(outcome.ran) or '-'} {outcome.path}")
        for w in outcome.warnings:
            self._print(f"warning: {outcome.path}: {w}")

    def card_done(self, card: str, status: str, message: str) -> None:
        if status in ("mismatch", "missing"):
            self._print(f"error: MHL {status.upper()} on {card}: {message}")
        elif status == "failed":
            self._print(f"warning: {message}")
        elif self.verbose:
            self._print(f"note: {card}: MHL {status}: {message}")

    def close(self) -> None:
        with self.lock:
            for bar in self.bars.values():
                bar.close()
            if self.overall is not None:
                self.overall.close()

    def _print(self, line: str) -> None:
        with self.lock:
            if self.tty:
                from tqdm import tqdm

                tqdm.write(line, file=sys.stderr)
            else:
                print(line, file=sys.stderr)


def ingest(args, library: Path, settings: Settings) -> int:
    from models.clip import OpenClipEmbedder
    from pipeline.catalog import open_catalog
    from pipeline.embed import resolve_model
    from pipeline.errors import UsageError
    from pipeline.ingest.batch import run_batch
    from pipeline.ingest.watch import watch
    from pipeline.search import NOT_SEMANTIC

    settings = settings.replace("embed", model=args.model, device=args.device)
    settings = settings.replace("batch", workers=args.workers)
    settings = settings.replace("verify", checksum=args.checksum, write_mhl=False if args.no_mhl else None)
    settings = settings.replace("proxies", presets=args.proxies, burnin=args.burnin)
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.ray_address and args.executor != "ray":
        raise UsageError("--ray-address only applies to --executor ray")
    if args.workers is not None and args.executor == "ray":
        raise UsageError(
            "--workers applies to the local executor; on Ray every file is a task and [ray] task_cpus "
            "sets how many run at once"
        )
    e = settings.embed
    allow = e.allow_download or env_allow_download()
    preset = None if args.no_embed else resolve_model(e.model)
    catalog = open_catalog(library)
    if preset and not preset.semantic:
        log.warning(NOT_SEMANTIC.format(name=preset.name))

    actors = None  # on Ray: the ActorEmbedder whose actors hold the model

    def make_embedder(p):
        if actors is not None:
            return actors
        return OpenClipEmbedder.for_ingest(p, e, allow)

    tty = not args.json and sys.stderr.isatty()
    argv = sys.argv[1:]
    with contextlib.ExitStack() as stack:
        stack.callback(catalog.close)
        executor = None  # run_batch's LocalExecutor
        if args.executor == "ray":  # the same batch; per-file work in Ray tasks, the model in Ray actors
            from pipeline.ingest.executors.ray_exec import RayExecutor

            executor = stack.enter_context(RayExecutor(settings, args.ray_address))
            if preset:
                actors = executor.embedder(preset, e, allow)

        def once(paths):
            obs = CliObserver(tty, args.verbose, args.json)
            try:
                return run_batch(
                    catalog,
                    paths,
                    settings,
                    preset,
                    make_embedder,
                    observer=obs,
                    reverify=args.reverify,
                    executor=executor,
                    argv=argv,
                )
            finally:
                obs.close()

        if args.watch:
            reports = []

            def run(paths):
                r = once(paths)
                reports.append(r)
                # --json: one line of JSON per batch (JSON Lines), flushed, so a script can follow the watch
                _print_summary(args, r, preset, catalog.root, json_out=args.json, one_line=True)

            print(
                f"watching {', '.join(args.paths)} every {settings.batch.watch_interval:.0f}s; Ctrl-C ends",
                file=sys.stderr,
            )
            try:
                watch(catalog, args.paths, settings, run)
            except KeyboardInterrupt:
                print("watch ended", file=sys.stderr)
            return max((r.exit_code for r in reports), default=0)
        report = once(args.paths)
    return _print_summary(args, report, preset, catalog.root, json_out=args.json)


def _print_summary(args, report, preset, root, json_out: bool, one_line: bool = False) -> int:
    import json

    from pipeline.search import NOT_SEMANTIC

    data = report.to_json()
    if preset and not preset.semantic:
        data["warning"] = NOT_SEMANTIC.format(name=preset.name)
    if json_out:
        json.dump(data, sys.stdout, indent=None if one_line else 2, default=str)
        sys.stdout.write("\n")
        sys.stdout.flush()
        return report.exit_code
    s = data["summary"]
    lines = [
        f"{s['ok']} clip(s) ingested, {s['failed']} failed, {s['skipped']} skipped (not video, -v lists them); "
        f"{data['work_done']} stage run(s) in {report.seconds:.1f}s; library {root}"
    ]
    if report.proxies:
        made = sum(1 for f in report.files for r in f.ran if r.startswith("proxy:"))
        lines.append(f"proxies ({', '.join(report.proxies)}): {made} made this run")
    for c in report.cards:
        lines.append(f"card {c['card']}: MHL {c['status']}" + (f" -- {c['message']}" if c["message"] else ""))
    if report.index:
        lines.append(f"index: {report.index['total']} keyframe vectors ({report.model})")
    if report.embed_pending:
        lines.append(f"embedding pending: {report.embed_pending}")
    for f in report.failed:
        lines.append(f"failed: {f.message}")
    for f in report.files:
        lines.extend(f"warning: {f.path}: {w}" for w in f.warnings)
    if "warning" in data:
        lines.append(f"warning: {data['warning']}")
    if report.log_path:
        lines.append(f"log: {report.log_path}")
    print("\n".join(lines), flush=True)
    return report.exit_code


def run(args) -> int:
    """One ingest per library at a time (pipeline/ingest/lock.py): a second one is refused or, with --wait, queued."""
    from pipeline.ingest.lock import ingest_lock

    library, settings = library_of(args), settings_of(args)
    with ingest_lock(library, wait=args.wait or settings.reliability.lock_wait):
        return ingest(args, library, settings)


def register(sub, common) -> None:
    p = sub.add_parser(
        "ingest",
        parents=[common],
        help="verify, probe, detect shots, embed and index footage",
        epilog="example: dailies ingest /Volumes/A001 --library /mnt/show/dailies-library",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="camera cards, folders or files")
    p.add_argument("--model", help="model preset (configs/models) or checkpoint file; default from config")
    p.add_argument("--device", choices=choices_of("embed.device"), help="where the model runs (default auto)")
    p.add_argument("--no-embed", action="store_true", help="skip embedding (shots and keyframes only)")
    p.add_argument(
        "--wait",
        action="store_true",
        help="if another ingest is running on this library, wait for it instead of refusing",
    )
    p.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="local: this process; ray: per-file tasks and embedding actors on a Ray cluster",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="Ray cluster to join (default [ray] address; none: a Ray instance on this machine)",
    )
    add_arguments(p)
    p.set_defaults(func=run)
