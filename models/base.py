"""The one extension point for embedding models."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from PIL import Image


class Embedder(ABC):
    """Maps images and texts into one vector space.

    `name` is the model identity stamped on every vector and index; `dim` the vector length.
    Both required methods return float32 arrays of shape (n, dim) with L2-normalised rows. Batching,
    skipping and writing belong to the stage that calls them.

    `embed_frames` (uint8 RGB arrays) and `embed_batches` (a stream of such batches) are derived
    from `embed_images`; a model with a faster path for decoded frames (the GPU preprocessing of
    OpenClipEmbedder) overrides them.
    """

    name: str
    dim: int

    @abstractmethod
    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray: ...

    @abstractmethod
    def embed_texts(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_frames(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        """Decoded frames: (H, W, 3) uint8 RGB arrays."""
        return self.embed_images([Image.fromarray(f) for f in frames])

    def embed_batches(self, batches: Iterable[Sequence[np.ndarray]]) -> Iterator[np.ndarray]:
        """One (n, dim) array per batch of frames, in order."""
        for batch in batches:
            yield self.embed_frames(batch)
