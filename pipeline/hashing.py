"""Content hashes of source files (xxh64 by default), read in large blocks."""

from __future__ import annotations

import hashlib
import os
from typing import Callable

import xxhash

ALGORITHMS = {"xxh64": xxhash.xxh64, "md5": hashlib.md5, "sha256": hashlib.sha256}
BLOCK = 8 << 20


def hash_file(path: str | os.PathLike, algorithm: str = "xxh64", progress: Callable[[int], None] | None = None) -> str:
    try:
        h = ALGORITHMS[algorithm]()
    except KeyError:
        raise ValueError(f"unknown hash {algorithm!r}; known: {', '.join(ALGORITHMS)}") from None
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            h.update(block)
            if progress:
                progress(len(block))
    return f"{algorithm}:{h.hexdigest()}"
