"""Walk the input folders and list candidate files. Whether a file is video is decided by probing it."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import UsageError

# Extensions that promise a moving picture: when such a file cannot be read it is an error (a bad
# copy from the card), not a note. Any other file that probes as video is ingested all the same.
VIDEO_EXTENSIONS = {
    ".mov",
    ".mp4",
    ".m4v",
    ".mxf",
    ".avi",
    ".mkv",
    ".mts",
    ".m2ts",
    ".mpg",
    ".mpeg",
    ".r3d",
    ".braw",
    ".ari",
    ".webm",
    ".wmv",
    ".flv",
    ".3gp",
    ".ts",
    ".dv",
    ".crm",
    ".mj2",
}
# Camera-card housekeeping that is never footage: skipped without probing.
_IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_IGNORED_DIRS = {"ascmhl", ".Trashes", ".Spotlight-V100", ".fseventsd", "__MACOSX"}


@dataclass(frozen=True)
class Candidate:
    path: Path
    expects_video: bool


def discover(paths: list[str | os.PathLike], exclude: Sequence[Path] = ()) -> Iterator[Candidate]:
    """Yield files under `paths` in a stable order (sorted, depth first), never following symlinked folders."""
    excluded = {Path(p).resolve() for p in exclude}
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    if missing:
        raise UsageError(f"input path(s) not found: {', '.join(missing)}")
    for root in paths:
        root = Path(root)
        if root.is_file():
            yield Candidate(root.absolute(), root.suffix.lower() in VIDEO_EXTENSIONS)
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if d not in _IGNORED_DIRS and (here / d).resolve() not in excluded)
            for name in sorted(filenames):
                if name in _IGNORED_NAMES or name.startswith("._"):
                    continue
                path = (here / name).absolute()
                yield Candidate(path, path.suffix.lower() in VIDEO_EXTENSIONS)
