"""Source files as the file system hands them over: why one cannot be read, and whether it is still
being written (a card copy in progress). Messages say what is wrong and what to do."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import MediaError


@dataclass(frozen=True)
class Snapshot:
    size: int
    mtime_ns: int


def snapshot(path: str | os.PathLike) -> Snapshot:
    st = os.stat(path)
    return Snapshot(st.st_size, st.st_mtime_ns)


def snapshot_or_none(path: str | os.PathLike) -> Snapshot | None:
    try:
        return snapshot(path)
    except OSError:
        return None


class StillGrowing(MediaError):
    """The file changed while Dailies read it."""


def growing_message(before: Snapshot, after: Snapshot | None) -> str:
    if after is None:
        change = "it disappeared"
    elif after.size != before.size:
        change = f"its size went from {before.size} to {after.size} bytes"
    else:
        change = "it was modified"
    return (
        f"still being written: {change} while Dailies read it (a copy in progress?); nothing from this read "
        f"is kept as complete -- wait for the copy to finish and run ingest again"
    )


def unreadable_message(path: str | os.PathLike, exc: OSError) -> str:
    """What to tell the user about a source file the OS refused to read."""
    p = Path(path)
    if exc.errno == errno.ELOOP:
        return (
            f"a symbolic link loop ({p.name} -> {os.readlink(p)} -> ... never reaches a file); fix or remove the link"
        )
    if p.is_symlink() and not p.exists():
        return (
            f"a broken symbolic link (its target {os.readlink(p)} does not exist); fix the link or copy the "
            f"file itself onto the card"
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"permission denied: Dailies (uid {os.geteuid()}) may not read it; make it readable "
            f"(e.g. chmod a+r, or fix its owner) and run ingest again"
        )
    if exc.errno == errno.EIO:
        return "read error (I/O error): the disk or card is failing -- copy the file again from the camera original"
    return f"cannot read file ({exc.strerror or exc}); check the card copy"
