"""The ffmpeg runner for long writes (proxy encodes made on their own): progress, interruption, errors."""

import time

import pytest

from pipeline.errors import FFmpegFailed
from pipeline.media.ffmpeg import ffmpeg_bin, run_with_progress


def encode(out, seconds):
    return [
        ffmpeg_bin(),
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size=640x360:rate=25:duration={seconds}",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-y",
        str(out),
    ]


def test_progress_counts_up_to_every_frame(tmp_path):
    seen = []
    run_with_progress(encode(tmp_path / "a.mp4", 4), tmp_path / "a.mp4", seen.append)
    assert seen and seen == sorted(seen) and seen[-1] == 100
    assert (tmp_path / "a.mp4").stat().st_size > 0


class Stop(BaseException):
    pass


def test_an_interruption_kills_the_encode_at_once(tmp_path):
    """A 10-minute encode stops at the first progress report after the interruption, not at its end."""
    out = tmp_path / "long.mp4"
    calls = []

    def stop(n):
        calls.append(n)
        raise Stop

    t = time.monotonic()
    with pytest.raises(Stop):
        run_with_progress(encode(out, 600), out, stop)
    assert len(calls) == 1 and time.monotonic() - t < 10


def test_a_failure_names_the_file_and_says_what_ffmpeg_said(tmp_path):
    missing = tmp_path / "not-there.mov"
    argv = [ffmpeg_bin(), "-nostdin", "-i", str(missing), "-f", "null", "-"]
    with pytest.raises(FFmpegFailed, match="proxy encode failed") as err:
        run_with_progress(argv, missing, lambda n: None, hint="proxy encode failed")
    assert str(missing) in str(err.value) and "No such file" in str(err.value)
