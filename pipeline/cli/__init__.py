"""`dailies` command line: parse flags, build settings, call one library function, print.

Exit codes: 0 all done, 1 some files failed (the rest done, a summary printed), 2 usage error.
Set DAILIES_DEBUG=1 to see tracebacks.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import textwrap
from importlib import import_module

from pipeline.config import env_debug
from pipeline.errors import DailiesError, UsageError

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


COMMANDS = [
    "ingest",
    "shots",
    "search",
    "clips",
    "models",
    "index",
    "export",
    "report",
    "selects",
    "serve",
    "tag",
    "take",
    "settings",
]  # the order of `dailies --help`


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--library", metavar="DIR", help="library folder (env DAILIES_LIBRARY, default ./dailies-library)"
    )
    common.add_argument("--config", metavar="FILE", help="extra settings file (TOML, see configs/default.toml)")
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout, no progress bars")
    common.add_argument("-v", "--verbose", action="store_true", help="more log output")

    parser = argparse.ArgumentParser(
        prog="dailies",
        description="Local-first dailies analysis: ingest, shots, search.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for command in COMMANDS:
        import_module(f"pipeline.cli.{command}").register(sub, common)
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
        if env_debug():
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
