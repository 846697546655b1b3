"""The bad-input corpus: camera-card trouble, generated on the fly (nothing binary is committed).

`make_corpus(card)` writes every case into `card` and returns the list of `Case`s: what the file
is, what Dailies must make of it (status ok / failed / skipped) and a pattern its per-file message
must match. The table in docs/reliability.md is this list. Cases that need something this machine
may lack (../shared/media) are left out with a reason in `missing`.

Grow it: add a function that writes the file and a `Case` line; test_corpus.py picks it up.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import struct
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.media.ffmpeg import ffmpeg_bin, run

SHARED_MEDIA = Path(os.environ.get("DAILIES_SHARED_MEDIA", Path(__file__).resolve().parents[2] / "shared" / "media"))


@dataclass(frozen=True)
class Case:
    file: str  # name inside the card
    what: str  # the trouble, for the docs/reliability.md table
    status: str  # ok | failed | skipped
    message: str = ""  # regex the file's message must match (failed/skipped), or its warning (ok)
    gets: str = ""  # what Dailies does with it, for the docs/reliability.md table


@dataclass
class Corpus:
    root: Path
    cases: list[Case] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def by_file(self) -> dict[str, Case]:
        return {c.file: c for c in self.cases}

    def failures_logged(self) -> list[str]:
        """Regexes of the ERROR records an ingest of the corpus logs: one per failed file."""
        return [rf"{re.escape(c.file)}: failed" for c in self.cases if c.status == "failed"]


def ffmpeg(*args: str, out: Path) -> Path:
    run(
        [ffmpeg_bin(), "-y", "-nostdin", "-hide_banner", "-loglevel", "error", *args, os.fspath(out)],
        out,
        hint="could not generate corpus media",
    )
    return out


def lavfi_clip(
    out: Path,
    seconds: float = 2.0,
    size: str = "160x90",
    rate: str = "25",
    vf: str | None = None,
    codec: list[str] | None = None,
    extra: list[str] | None = None,
) -> Path:
    """Two shots (testsrc2 then smptehdbars) so the analysis has a cut to find."""
    half = seconds / 2
    graph = (
        f"testsrc2=s={size}:r={rate}:d={half},setsar=1[a];smptehdbars=s={size}:r={rate}:d={half},setsar=1[b];"
        f"[a][b]concat=n=2:v=1:a=0" + (f",{vf}" if vf else "") + "[v]"
    )
    codec = codec or ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    return ffmpeg("-filter_complex", graph, "-map", "[v]", *codec, *(extra or []), out=out)


def _patch_box(data: bytearray, box: bytes, offset: int, value: int) -> bytearray:
    """Overwrite a 32-bit field `offset` bytes into the payload of the first `box` (version-0 layout)."""
    i = data.find(box)
    if i < 0:
        raise ValueError(f"no {box!r} box")
    struct.pack_into(">I", data, i + 4 + offset, value)
    return data


def make_corpus(card: Path) -> Corpus:
    card.mkdir(parents=True, exist_ok=True)
    c = Corpus(card)
    add = c.cases.append
    tmp = card.parent / f".{card.name}-work"
    tmp.mkdir(exist_ok=True)
    rng = random.Random(8)

    # -- a good reference clip, copied under hostile names ----------------------------------------------
    good = lavfi_clip(tmp / "good.mov")
    shutil.copy(good, card / "A001C001.mov")
    add(Case("A001C001.mov", "a good clip (control)", "ok", gets="ingested"))
    for name, what in [
        ("A001 C002 \"take 2\" 'alt'.mov", "name with spaces and quotes"),
        ("Überstraße_夜景_é.mov", "unicode name"),
        ("$(touch PWNED).mov", "name with `$(...)` (shell injection)"),
        ("-A001C003.mov", "name with a leading dash (option injection)"),
    ]:
        shutil.copy(good, card / name)
        add(
            Case(
                name,
                what,
                "ok",
                gets="ingested; the name reaches ffmpeg as an argument (`file:` prefix), never a shell",
            )
        )
    shutil.copy(good, card / "clip_named_as_text.txt")
    add(
        Case(
            "clip_named_as_text.txt",
            "a real video named `.txt`",
            "ok",
            gets="ingested: files are recognised by probing",
        )
    )

    # -- unreadable containers -----------------------------------------------------------------------------
    (card / "EMPTY.mov").write_bytes(b"")
    add(
        Case(
            "EMPTY.mov",
            "zero bytes",
            "failed",
            r"empty \(0 bytes\).*copy it again",
            "failed: `file is empty (0 bytes); the copy from the card probably failed -- copy it again`",
        )
    )
    (card / "NOISE.mov").write_bytes(rng.randbytes(256 * 1024))
    add(
        Case(
            "NOISE.mov",
            "random bytes named `.mov`",
            "failed",
            r"not a media file.*copy it from the card again",
            "failed: `not a media file ffprobe can read, or a damaged one (truncated copy?): check the file, copy it "
            "from the card again`",
        )
    )

    tail_moov = lavfi_clip(tmp / "tail_moov.mp4", seconds=4)  # moov written after the media data
    data = tail_moov.read_bytes()
    (card / "CUT_NO_MOOV.mp4").write_bytes(data[: len(data) // 2])
    add(
        Case(
            "CUT_NO_MOOV.mp4",
            "MP4 truncated before its moov atom (recording or copy cut short)",
            "failed",
            r"moov.*missing.*truncated",
            "failed: the index (moov atom) is missing, the file is truncated; copy again or repair",
        )
    )
    head_moov = lavfi_clip(tmp / "head_moov.mp4", seconds=4, extra=["-movflags", "+faststart"])
    data = head_moov.read_bytes()
    (card / "CUT_AFTER_MOOV.mp4").write_bytes(data[: len(data) // 2])
    add(
        Case(
            "CUT_AFTER_MOOV.mp4",
            "MP4 truncated after its moov atom (media data cut)",
            "failed",
            r"truncated.*of \d+ frames",
            "failed: `truncated: decoding ended after N of M frames`; no shots recorded",
        )
    )
    mkv = ffmpeg("-i", os.fspath(tail_moov), "-c", "copy", out=tmp / "whole.mkv")
    data = mkv.read_bytes()
    (card / "CUT_STREAM.mkv").write_bytes(data[: len(data) // 2])
    add(
        Case(
            "CUT_STREAM.mkv",
            "Matroska truncated mid-stream",
            "failed",
            r"truncated.*of \d+ frames",
            "failed: `truncated: decoding ended after N of M frames`",
        )
    )

    corrupt = bytearray(
        lavfi_clip(tmp / "corrupt.ts", seconds=4, codec=["-c:v", "mpeg2video", "-q:v", "4"]).read_bytes()
    )
    for k in range(1, 6):  # stomp on five spots of the media data, whole TS packets left in place
        at = (len(corrupt) * k // 7) // 188 * 188 + 8
        corrupt[at : at + 150] = rng.randbytes(150)
    (card / "CORRUPT_FRAMES.ts").write_bytes(bytes(corrupt))
    add(
        Case(
            "CORRUPT_FRAMES.ts",
            "damaged frames in the middle of a clip",
            "ok",
            r"decode error",
            "ingested, with a warning (`ffmpeg reported decode errors...`) in the catalog",
        )
    )

    data = bytearray(head_moov.read_bytes())
    (card / "ZERO_TIMESCALE.mp4").write_bytes(_patch_box(data, b"mdhd", 12, 0))
    add(
        Case(
            "ZERO_TIMESCALE.mp4",
            "a 0 timescale in the header (no usable frame rate)",
            "failed",
            r"no usable frame rate.*re-mux",
            "failed: `no usable frame rate in the file header ...; re-mux ...`",
        )
    )
    data = bytearray(head_moov.read_bytes())
    (card / "ABSURD_DURATION.mp4").write_bytes(_patch_box(data, b"mvhd", 16, 0xFFFFFFF0))
    add(
        Case(
            "ABSURD_DURATION.mp4",
            "a header claiming 49 days",
            "ok",
            r"container claims",
            "ingested from the stream's own duration, with a warning",
        )
    )

    # -- not video at all ----------------------------------------------------------------------------------
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "pcm_s16le", out=card / "SOUND_001.wav")
    add(
        Case(
            "SOUND_001.wav",
            "audio only (sound roll)",
            "skipped",
            r"no video stream",
            "skipped with a note: no video stream",
        )
    )
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180", "-frames:v", "1", out=card / "still.jpg")
    add(Case("still.jpg", "a still image", "skipped", r"still image", "skipped with a note: a still image"))
    (card / "camera_report.txt").write_text("A001 roll 1, lens 35mm\n" * 10)
    add(
        Case(
            "camera_report.txt",
            "a text sidecar",
            "skipped",
            r"not a media file.*skipped(?!.*copy it)",
            "skipped with a note: `not a media file; skipped` (the catalog keeps ffprobe's reason)",
        )
    )

    # -- odd but valid pictures ------------------------------------------------------------------------------
    lavfi_clip(card / "VFR.mp4", seconds=4, vf="select='lt(n\\,30)+not(mod(n\\,3))'", extra=["-fps_mode", "vfr"])
    add(
        Case(
            "VFR.mp4", "variable frame rate", "ok", gets="ingested; `vfr: true`, shot times from each frame's timestamp"
        )
    )
    ffmpeg("-i", os.fspath(good), "-c", "copy", "-metadata:s:v:0", "rotate=90", out=card / "ROTATED.mp4")
    add(
        Case(
            "ROTATED.mp4",
            "rotated 90 degrees (display matrix)",
            "ok",
            gets="ingested; thumbnails upright (display size)",
        )
    )
    lavfi_clip(card / "ANAMORPHIC.mov", vf="setsar=2")
    add(Case("ANAMORPHIC.mov", "anamorphic (2:1 pixel aspect)", "ok", gets="ingested; thumbnails de-squeezed"))
    lavfi_clip(card / "PRORES_10BIT.mov", codec=["-c:v", "prores_ks", "-profile:v", "3", "-pix_fmt", "yuv422p10le"])
    add(Case("PRORES_10BIT.mov", "ProRes 422 HQ, 10-bit", "ok", gets="ingested"))
    lavfi_clip(
        card / "HEVC_10BIT.mp4",
        codec=["-c:v", "libx265", "-pix_fmt", "yuv420p10le", "-x265-params", "log-level=error", "-tag:v", "hvc1"],
    )
    add(Case("HEVC_10BIT.mp4", "HEVC Main10", "ok", gets="ingested"))
    lavfi_clip(card / "INTERLACED.mpg", codec=["-c:v", "mpeg2video", "-flags", "+ilme+ildct", "-top", "1", "-q:v", "4"])
    add(Case("INTERLACED.mpg", "interlaced (top field first)", "ok", gets="ingested; `field_order` recorded"))
    lavfi_clip(card / "TINY_16x16.mp4", size="16x16")
    add(Case("TINY_16x16.mp4", "16x16 pixels", "ok", gets="ingested (never upscaled)"))
    lavfi_clip(card / "HUGE_8K.mp4", seconds=0.2, size="7680x4320")
    add(
        Case(
            "HUGE_8K.mp4",
            "7680x4320 (6 frames)",
            "ok",
            gets="ingested; decoded straight to analysis size (456x256 keyframes, the analysis size)",
        )
    )

    broken_audio = SHARED_MEDIA / "moviepy" / "video_with_failing_audio.mp4"
    if broken_audio.exists():
        shutil.copy(broken_audio, card / "BROKEN_AUDIO.mp4")
        add(
            Case(
                "BROKEN_AUDIO.mp4",
                "a broken audio stream (moviepy's test file)",
                "ok",
                gets="ingested: analysis reads the picture only",
            )
        )
    else:
        c.missing.append(f"BROKEN_AUDIO.mp4: {broken_audio} is not on this machine")

    # -- the file system ---------------------------------------------------------------------------------------
    os.symlink("LOOP_B.mov", card / "LOOP_A.mov")
    os.symlink("LOOP_A.mov", card / "LOOP_B.mov")
    for name in ("LOOP_A.mov", "LOOP_B.mov"):
        add(
            Case(
                name,
                "symlink loop",
                "failed",
                r"symbolic link.*loop",
                "failed: `a symbolic link loop ...; fix or remove the link`",
            )
        )
    os.symlink("NOT_THERE.mov", card / "DANGLING.mov")
    add(
        Case(
            "DANGLING.mov",
            "a dangling symlink",
            "failed",
            r"broken symbolic link",
            "failed: `a broken symbolic link (its target ... does not exist)`",
        )
    )
    (card / "sub").mkdir()
    os.symlink("..", card / "sub" / "up")  # a folder loop: never followed, so never walked twice
    shutil.rmtree(tmp)
    return c
