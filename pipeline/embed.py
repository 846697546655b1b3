"""Embedding stage: keyframe thumbnails -> normalised vectors of one model, stored in the catalog."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from models.base import Embedder

from .catalog import Catalog

log = logging.getLogger("dailies.embed")


def embed_images(embedder: Embedder, paths: Sequence[Path], batch_size: int) -> np.ndarray:
    """Pure core: vectors for image files, in batches, in order."""
    out = []
    for i in range(0, len(paths), batch_size):
        images = []
        for p in paths[i:i + batch_size]:
            with Image.open(p) as im:
                images.append(im.convert("RGB"))
        out.append(embedder.embed_images(images))
    return np.concatenate(out) if out else np.zeros((0, embedder.dim), np.float32)


def run(catalog: Catalog, clip_id: int, embedder: Embedder, batch_size: int) -> int:
    """Embed the clip's keyframes that have no vector of this model yet; return how many."""
    rows = catalog.keyframes_missing_vectors(clip_id, embedder.name)
    if not rows:
        return 0
    vectors = embed_images(embedder, [catalog.root / r["thumb"] for r in rows], batch_size)
    with catalog.transaction():
        catalog.add_vectors(embedder.name, [r["id"] for r in rows], vectors)
    return len(rows)
