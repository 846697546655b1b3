"""Embedding stage: keyframe thumbnails -> normalised vectors of one model, stored in the catalog.

The core streams: JPEGs are decoded by a pool of threads (in order, bounded read-ahead), grouped
into batches of the model's batch size and handed to `Embedder.embed_batches`, which on CUDA
overlaps staging, copies and inference (models/overlap.py). A `FileEmbedder` (the Ray executor's
actors, executors/ray_exec.py) is handed the JPEG paths instead and reads them where its model runs.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from models import presets
from models.base import Embedder
from models.overlap import batched, ordered_map
from models.presets import ModelPreset
from pipeline.catalog import Catalog
from pipeline.config import CONFIG_DIR

log = logging.getLogger("dailies.embed")

MODELS_DIR = CONFIG_DIR / "models"  # the model presets (configs/models/*.toml)


def load_preset(name: str) -> ModelPreset:
    return presets.load_preset(name, MODELS_DIR)


def list_presets() -> list[ModelPreset]:
    return presets.list_presets(MODELS_DIR)


def resolve_model(spec: str) -> ModelPreset:
    """A preset name of configs/models, a checkpoint file (ARCH:path) or an open_clip model folder."""
    return presets.resolve_model(spec, MODELS_DIR)


class FileEmbedder(ABC):
    """An embedder that reads the image files itself, where its model runs (a Ray actor reading the library
    on shared storage): `name`, `dim`, `batch_size`, `load()` as models.base.Embedder, and `embed_files`."""

    name: str
    dim: int
    batch_size: int

    @abstractmethod
    def load(self) -> None: ...

    @abstractmethod
    def embed_files(self, paths: Sequence[Path]) -> np.ndarray:
        """(n, dim) float32 L2-normalised vectors of the image files, in order."""


def decode_workers(requested: int = 0) -> int:
    return requested or min(8, os.cpu_count() or 1)


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def embed_frames(embedder: Embedder, frames: Iterable[np.ndarray], batch_size: int) -> np.ndarray:
    """Pure core: vectors for a stream of decoded RGB uint8 frames, in order."""
    out = list(embedder.embed_batches(batched(frames, batch_size)))
    return np.concatenate(out) if out else np.zeros((0, embedder.dim), np.float32)


def embed_images(
    embedder: Embedder | FileEmbedder, paths: Sequence[Path], batch_size: int, workers: int = 0
) -> np.ndarray:
    """Pure core: vectors for image files, decoded by `workers` threads, in order (a FileEmbedder reads them)."""
    if isinstance(embedder, FileEmbedder):
        return embedder.embed_files(paths)
    workers = decode_workers(workers)
    return embed_frames(embedder, ordered_map(load_rgb, paths, workers, 2 * batch_size), batch_size)


def run(catalog: Catalog, clip_id: int, embedder: Embedder | FileEmbedder, batch_size: int, workers: int = 0) -> int:
    """Embed the clip's keyframes that have no vector of this model yet; return how many."""
    rows = catalog.keyframes_missing_vectors(clip_id, embedder.name)
    if not rows:
        return 0
    vectors = embed_images(embedder, [catalog.root / r["thumb"] for r in rows], batch_size, workers)
    with catalog.transaction():
        catalog.add_vectors(embedder.name, [r["id"] for r in rows], vectors)
    return len(rows)
