"""Helpers every `dailies` command shares: the library folder, the settings, output."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

from pipeline.config import env_library
from pipeline.errors import UsageError


def library_of(args) -> Path:
    return Path(args.library or env_library() or "./dailies-library")


def settings_of(args):
    from pipeline.config import load_settings

    lib = library_of(args)
    files = [lib / "dailies.toml"] + ([Path(args.config)] if args.config else [])
    if args.config and not Path(args.config).exists():
        raise UsageError(f"--config {args.config}: file not found")
    return load_settings(*files)


def emit(args, data: dict, human: str) -> None:
    if args.json:
        json.dump(data, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(human)


def tty(args) -> bool:
    return not args.json and sys.stderr.isatty()


@contextlib.contextmanager
def frame_bar(args, info):
    """A progress callback (frame index) drawing a bar on a terminal; None without one or with --json."""
    if not tty(args):
        yield None
        return
    from tqdm import tqdm

    with tqdm(
        total=info.frame_count or None, desc=Path(info.path).name[:24], unit="frame", file=sys.stderr, leave=False
    ) as bar:
        yield lambda index: bar.update(index + 1 - bar.n)


def model_note(catalog, model_id: str | None) -> dict:
    """`semantic` (and a `warning` when false) for the library's model; {} when nothing is embedded yet."""
    from pipeline.search import NOT_SEMANTIC

    row = catalog.model(model_id) if model_id else None
    if row is None:
        return {}
    if row["semantic"]:
        return {"semantic": True}
    return {"semantic": False, "warning": NOT_SEMANTIC.format(name=row["name"])}
