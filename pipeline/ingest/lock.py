"""One ingest per library at a time: an advisory lock (fcntl.flock) on LIBRARY/ingest.lock.

The kernel releases the lock when its holder exits, however it exits (kill -9 and power loss
included), so a crash never leaves a library locked. The file says who holds it (pid, host,
start time) for the message a second ingest prints. Readers (search, clips, the web UI) take no
lock: SQLite's WAL gives them the last committed state while the ingest writes.
Local disks only: flock is not reliable across machines on some network file systems.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path

from pipeline.errors import LibraryBusy

LOCK_NAME = "ingest.lock"
log = logging.getLogger("dailies.lock")


def _holder(fd: int) -> str:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {data['pid']} on {data['host']}, started {data['started']}"
    except (ValueError, KeyError, OSError):
        return "holder unknown"


@contextlib.contextmanager
def ingest_lock(library: str | os.PathLike, wait: bool = False):
    """Hold the library's ingest lock for the `with` block; LibraryBusy at once if taken (unless `wait`)."""
    root = Path(library)
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            if not wait:
                raise LibraryBusy(
                    f"{root}: another ingest is running on this library ({holder}); wait for it to "
                    f"finish, or run with --wait to queue behind it"
                ) from None
            log.info("waiting for the ingest already running on %s (%s)", root, holder)
            fcntl.flock(fd, fcntl.LOCK_EX)
        stamp = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(stamp).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
