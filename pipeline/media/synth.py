"""Generated test media with ffmpeg's lavfi sources: shots of known length, so cuts are known exactly.

Used by the tests, the sample-footage script and the benchmarks. Each shot is a different lavfi
source (or colour), trimmed to an exact number of frames and concatenated.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

from pipeline.media.ffmpeg import ffmpeg_bin, run

# Visually distinct moving sources; a cut between any two is unambiguous.
SOURCES = [
    "testsrc2=s={w}x{h}:r={r}",
    "smptehdbars=s={w}x{h}:r={r}",
    "mandelbrot=s={w}x{h}:r={r}",
    "rgbtestsrc=s={w}x{h}:r={r}",
    "cellauto=s={w}x{h}:r={r}:rule=110",
    "color=c=0x2050a0:s={w}x{h}:r={r}",
    "life=s={w}x{h}:r={r}:mold=10:ratio=0.1:death_color=#C83232:life_color=#00ff00",
    "yuvtestsrc=s={w}x{h}:r={r}",
]


def cut_frames(lengths: list[int]) -> list[int]:
    """First frame of every shot after the first."""
    out, acc = [], 0
    for n in lengths[:-1]:
        acc += n
        out.append(acc)
    return out


def make_cuts_clip(
    path: str | os.PathLike,
    lengths: list[int],
    rate: str | Fraction = "25",
    size: tuple[int, int] = (320, 180),
    timecode: str | None = None,
    codec: str = "libx264",
    extra: list[str] | None = None,
) -> Path:
    """Write a clip whose shot i has lengths[i] frames; returns the path."""
    w, h = size
    r = str(rate)
    parts, labels = [], []
    for i, n in enumerate(lengths):
        src = SOURCES[i % len(SOURCES)].format(w=w, h=h, r=r)
        parts.append(f"{src},trim=end_frame={n},setpts=PTS-STARTPTS,format=yuv420p,setsar=1[s{i}]")
        labels.append(f"[s{i}]")
    graph = ";".join(parts) + f";{''.join(labels)}concat=n={len(lengths)}:v=1:a=0[out]"
    argv = [
        ffmpeg_bin(),
        "-y",
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-filter_complex",
        graph,
        "-map",
        "[out]",
        "-c:v",
        codec,
    ]
    if codec == "libx264":
        argv += ["-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if timecode:
        argv += ["-timecode", timecode]
    argv += list(extra or []) + [os.fspath(path)]
    run(argv, path, hint="could not generate test media")
    return Path(path)


def make_graph_clip(
    path: str | os.PathLike,
    source: str,
    frames: int,
    rate: str | Fraction = "25",
    vf: str | None = None,
    timecode: str | None = None,
) -> Path:
    """Write `frames` frames of one lavfi `source` (any filtergraph), optionally through `vf`."""
    chain = (
        f"{source},trim=end_frame={frames},setpts=PTS-STARTPTS" + (f",{vf}" if vf else "") + ",format=yuv420p,setsar=1"
    )
    argv = [
        ffmpeg_bin(),
        "-y",
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "lavfi",
        "-i",
        chain,
        "-r",
        str(rate),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ]
    if timecode:
        argv += ["-timecode", timecode]
    argv.append(os.fspath(path))
    run(argv, path, hint="could not generate test media")
    return Path(path)
