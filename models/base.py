"""The one extension point for embedding models."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

import numpy as np
from PIL import Image


class Embedder(ABC):
    """Maps images and texts into one vector space.

    `name` is the model identity stamped on every vector and index; `dim` the vector length.
    Both methods return float32 arrays of shape (n, dim) with L2-normalised rows. Batching,
    skipping and writing belong to the stage that calls them.
    """

    name: str
    dim: int

    @abstractmethod
    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray: ...

    @abstractmethod
    def embed_texts(self, texts: Sequence[str]) -> np.ndarray: ...
