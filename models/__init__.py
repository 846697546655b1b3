"""Embedding models: the `Embedder` interface and its open_clip implementation."""

from models.base import Embedder

__all__ = ["Embedder"]
