"""`dailies shots FILE`: the shot list of one file, no library needed."""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.cli.common import emit, frame_bar, settings_of
from pipeline.config import choices_of
from pipeline.errors import UsageError


def run(args) -> int:
    from pipeline.analyze import analyze_file, check_complete
    from pipeline.media.probe import probe

    if Path(args.file).is_dir():
        raise UsageError(f"{args.file} is a folder: `dailies shots` takes one file (`dailies ingest` takes folders)")
    settings = settings_of(args).replace("shots", detector=args.detector, threshold=args.threshold)
    info = probe(args.file)
    with frame_bar(args, info) as progress:
        result = analyze_file(info, settings, with_keyframes=False, progress=progress)
    for w in check_complete(result, settings.reliability.min_decoded_fraction):  # a truncated file is an error
        print(f"warning: {info.path}: {w}", file=sys.stderr)
    data = result.shots_json()
    human = "\n".join(
        f"{s.index:4d}  {s.start_tc} - {s.end_tc}  frames {s.start_frame}-{s.end_frame}  confidence {s.confidence:.2f}"
        for s in result.shots
    )
    for g in result.gradual:
        human += f"\n      {g.kind} frames {g.first}-{g.last}  confidence {g.confidence:.2f}"
    if args.verbose:
        for frame, why in sorted(result.rejected.items()):
            human += f"\n      not a cut at frame {frame}: {why}"
    emit(args, data, f"{info.path}: {len(result.shots)} shot(s) at {data['fps']} fps\n{human}")
    return 0


def register(sub, common) -> None:
    p = sub.add_parser(
        "shots",
        parents=[common],
        help="shot boundaries of one file (no library needed)",
        epilog="example: dailies shots A001C003.mov --json",
    )
    p.add_argument("file")
    p.add_argument("--detector", choices=choices_of("shots.detector"))
    p.add_argument("--threshold", type=float)
    p.set_defaults(func=run)
