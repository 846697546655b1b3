"""Content hashes of source files (xxh64 by default), read in large blocks."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Protocol

import xxhash


class Hasher(Protocol):
    """What hashlib's and xxhash's digest objects share."""

    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


ALGORITHMS: dict[str, Callable[[], Hasher]] = {"xxh64": xxhash.xxh64, "md5": hashlib.md5, "sha256": hashlib.sha256}
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


# Digests ascmhl may carry, by its names; c4 is not computed here (ascmhl verifies those itself).
MHL_ALGORITHMS: dict[str, Callable[[], Hasher]] = {
    "xxh64": xxhash.xxh64,
    "xxh3": xxhash.xxh3_64,
    "xxh128": xxhash.xxh3_128,
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
}


def hash_many(
    path: str | os.PathLike, algorithms: list[str], progress: Callable[[int], None] | None = None
) -> dict[str, str]:
    """Several digests of one file from a single read: {algorithm: hex digest}."""
    unknown = [a for a in algorithms if a not in MHL_ALGORITHMS]
    if unknown:
        raise ValueError(f"unknown hash {unknown[0]!r}; known: {', '.join(MHL_ALGORITHMS)}")
    hashers = {a: MHL_ALGORITHMS[a]() for a in dict.fromkeys(algorithms)}
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            for h in hashers.values():
                h.update(block)
            if progress:
                progress(len(block))
    return {a: h.hexdigest() for a, h in hashers.items()}
