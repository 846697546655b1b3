"""Errors meant to be read by the person running Dailies.

Every `DailiesError` message says what went wrong and what to do next. The CLI prints the message
as one line (per file where a file is involved); set DAILIES_DEBUG=1 to see the traceback too.
"""

from __future__ import annotations

import errno
import os
import re

from models.errors import DailiesError, ModelError, UsageError, WeightsUnavailable

__all__ = ["DailiesError", "UsageError", "ModelError", "WeightsUnavailable"]  # re-exported; the rest below


class ConfigError(UsageError):
    """A configuration file or value is invalid."""


class ToolMissing(DailiesError):
    """A required external program (ffmpeg, ffprobe) is not installed."""


class MediaError(DailiesError):
    """A source file cannot be used; `path` names it."""

    def __init__(self, path, message: str):
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


class NotVideo(MediaError):
    """The file is readable but holds no video stream (audio-only, text, still image...)."""


class FFmpegFailed(MediaError):
    """An ffmpeg/ffprobe process failed; carries the command line and the tail of its stderr."""

    def __init__(self, path, argv: list[str], returncode: int, stderr: str, hint: str = ""):
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr_tail = _tail(stderr)
        tool = os.path.basename(argv[0]) if argv else "ffmpeg"
        detail = f"{tool} exit {returncode}" + (f": {self.stderr_tail}" if self.stderr_tail else "")
        super().__init__(path, f"{hint} ({detail})" if hint else detail)


class CatalogError(DailiesError):
    """The library catalog is missing, locked, or from an incompatible version."""


class LibraryBusy(CatalogError):
    """Another ingest holds the library's lock."""


class DiskFull(CatalogError):
    """The library's disk is full: the run stops (every further file would fail the same way)."""


class IndexMismatch(DailiesError):
    """A vector index does not belong to the model it is used with."""


def is_disk_full(exc: BaseException) -> bool:
    """An OSError that says the disk (or the user's quota) is full."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def _tail(text: str, lines: int = 3, chars: int = 400) -> str:
    """The last few meaningful stderr lines, without ffmpeg's '[demuxer @ 0x...]' prefixes."""
    cleaned = [re.sub(r"^\[[^\]]+ @ 0x[0-9a-f]+\]\s*", "", line.strip()) for line in (text or "").splitlines()]
    kept = [line for line in cleaned if line][-lines:]
    out = " | ".join(kept)
    return out[-chars:]
