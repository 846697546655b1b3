"""Locating ffmpeg/ffprobe and running them with argument lists (never a shell)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from ..errors import FFmpegFailed, ToolMissing

INSTALL_HINT = "install it with `apt-get install -y ffmpeg` (or run scripts/setup.sh)"


@functools.cache
def ffmpeg_bin() -> str:
    """ffmpeg from $DAILIES_FFMPEG, then PATH, then the imageio-ffmpeg wheel's static binary."""
    explicit = os.environ.get("DAILIES_FFMPEG")
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
    explicit = os.environ.get("DAILIES_FFPROBE")
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


def safe_input(path) -> str:
    """A path ffmpeg cannot mistake for an option or a protocol (leading '-', 'concat:', ...)."""
    p = os.path.abspath(os.fspath(path))
    return "file:" + p
