"""Locating ffmpeg/ffprobe and running them with argument lists (never a shell)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from pipeline.config import env
from pipeline.errors import FFmpegFailed, ToolMissing

INSTALL_HINT = "install it with `apt-get install -y ffmpeg` (or run scripts/setup.sh)"


@functools.cache
def ffmpeg_bin() -> str:
    """ffmpeg from $DAILIES_FFMPEG, then PATH, then the imageio-ffmpeg wheel's static binary."""
    explicit = env("DAILIES_FFMPEG")
    if explicit:
        if not Path(explicit).is_file():
            raise ToolMissing(f"DAILIES_FFMPEG={explicit} does not exist; fix the variable or unset it")
        return explicit
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # ImportError or its own "binary not found"
        raise ToolMissing(f"ffmpeg not found: {INSTALL_HINT}") from None


@functools.cache
def ffprobe_bin() -> str:
    explicit = env("DAILIES_FFPROBE")
    if explicit:
        if not Path(explicit).is_file():
            raise ToolMissing(f"DAILIES_FFPROBE={explicit} does not exist; fix the variable or unset it")
        return explicit
    found = shutil.which("ffprobe")
    if not found:
        raise ToolMissing(f"ffprobe not found (the imageio-ffmpeg binary has none): {INSTALL_HINT}")
    return found


def run(argv: list[str], path, *, hint: str = "", timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run a finished ffmpeg command; raise FFmpegFailed naming `path` with stderr's tail."""
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise FFmpegFailed(path, argv, -1, f"timed out after {timeout:.0f}s", hint) from exc
    if proc.returncode != 0:
        raise FFmpegFailed(path, argv, proc.returncode, proc.stderr.decode(errors="replace"), hint)
    return proc


def run_with_progress(argv: list[str], path, on_frame: Callable[[int], None], *, hint: str = "") -> None:
    """Run an ffmpeg command that writes files, calling `on_frame(frames_done)` about twice a second
    (ffmpeg's `-progress`). If `on_frame` raises (the batch was interrupted), ffmpeg is killed and the
    exception goes on; a failure raises FFmpegFailed naming `path` with stderr's tail."""
    full = [argv[0], "-progress", "pipe:1", "-nostats", *argv[1:]]
    with tempfile.TemporaryFile() as err:  # a file, not a pipe: ffmpeg never blocks on what nobody reads
        proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None  # a pipe
        try:
            for line in proc.stdout:
                if line.startswith(b"frame="):
                    value = line[6:].strip()
                    on_frame(int(value) if value.isdigit() else 0)
            proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if proc.returncode != 0:
            err.seek(0)
            raise FFmpegFailed(path, full, proc.returncode, err.read().decode(errors="replace"), hint)


def safe_input(path) -> str:
    """A path ffmpeg cannot mistake for an option or a protocol (leading '-', 'concat:', ...)."""
    p = os.path.abspath(os.fspath(path))
    return "file:" + p
