"""`dailies ingest --watch`: keep looking at the camera folders and run the batch on the cards whose
files appeared or changed, once they have stopped growing."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from pipeline.catalog import Catalog
from pipeline.config import Settings
from pipeline.ingest.discover import discover


def snapshot(paths: Iterable, exclude: list[Path]) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of every file under the watched folders."""
    out = {}
    for cand in discover([p for p in paths if os.path.lexists(p)], exclude=exclude):
        try:
            st = cand.path.stat()
        except OSError:
            continue
        out[str(cand.path)] = (st.st_size, st.st_mtime_ns)
    return out


def watch(
    catalog: Catalog,
    paths: list,
    settings: Settings,
    run: Callable[[list[str]], object],
    stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Keep watching `paths`; when files appear or change and then stay unchanged for `settle_seconds`,
    run the batch on the folders (cards) that hold them. `run(list_of_paths)` is the batch; `stop()` ends it."""
    seen: dict[str, tuple[int, int]] = {}
    settling: dict[str, tuple[tuple[int, int], float]] = {}
    first = True
    while not stop():
        now = time.monotonic()
        current = snapshot(paths, [catalog.root])
        ready = []
        for path, sig in current.items():
            if seen.get(path) == sig:
                continue
            prev = settling.get(path)
            if prev is None or prev[0] != sig:
                settling[path] = (sig, now)
            elif first or now - prev[1] >= settings.batch.settle_seconds:
                ready.append(path)
        if first:
            ready = list(current)
            first = False
        if ready:
            roots = sorted({_root_of(p, paths) for p in ready})
            logging.getLogger("dailies.watch").info(
                "watch: %d new or changed file(s) in %s", len(ready), ", ".join(roots)
            )
            run(roots)
            for p in ready:
                seen[p] = current[p]
                settling.pop(p, None)
        if stop():
            break
        sleep(settings.batch.watch_interval)


def _root_of(path: str, roots: list) -> str:
    """The card folder of a new file: the first folder below the watched root (or the file itself)."""
    p = Path(path)
    for r in roots:
        r = Path(r).absolute()
        if r in p.parents:
            rel = p.relative_to(r)
            return str(r / rel.parts[0]) if len(rel.parts) > 1 else str(p)
    return str(p)
