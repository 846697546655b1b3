"""Search: a text or an example image -> ranked shots (the best keyframe of each shot)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from models.presets import ModelPreset
from pipeline import index as index_stage
from pipeline.catalog import Catalog
from pipeline.embed import MODELS_DIR
from pipeline.errors import CatalogError, UsageError

NOT_SEMANTIC = (
    "this library was indexed with a random-init model ({name}): scores reflect "
    "nothing about content -- install real CLIP weights for semantic search"
)


@dataclass
class Hit:
    rank: int
    score: float
    clip: str
    clip_id: int
    shot: int
    shot_id: int
    start_frame: int
    end_frame: int
    start_tc: str
    end_tc: str
    keyframe: int
    thumbnail: str

    def to_json(self) -> dict:
        return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def library_model(catalog: Catalog) -> ModelPreset:
    """The preset the library was indexed with, as stored in the catalog."""
    model_id = catalog.meta_get("model")
    if not model_id:
        raise CatalogError(
            f"the library at {catalog.root} has no embeddings yet: run `dailies ingest` with a usable "
            f"model (see `dailies models`), or finish pending embedding with `dailies ingest` again"
        )
    row = catalog.model(model_id)
    data = json.loads(row["info_json"])
    data.pop("identity", None)
    preset = ModelPreset(**data, base_dir=str(MODELS_DIR))
    if preset.identity != model_id:
        raise CatalogError(
            f"the model files for {model_id} changed since indexing (now {preset.identity}); "
            f"re-ingest with --model {preset.name} or restore the model"
        )
    return preset


def rank_shots(
    catalog: Catalog, vi: index_stage.VectorIndex, query: np.ndarray, limit: int, oversample: int
) -> list[Hit]:
    """Pure-ish core: nearest keyframes, grouped by shot (best keyframe wins), top `limit` shots."""
    if vi.ntotal == 0:
        return []
    k = limit * max(1, oversample)
    while True:
        scores, ids = vi.search(query.reshape(1, -1), k)
        pairs = [(float(s), int(i)) for s, i in zip(scores[0], ids[0]) if i >= 0]
        rows = catalog.keyframe_hits([i for _, i in pairs])
        best: dict[int, tuple[float, int]] = {}
        for score, kid in pairs:
            row = rows.get(kid)
            if row is not None and row["shot_id"] not in best:
                best[row["shot_id"]] = (score, kid)
        if len(best) >= limit or k >= vi.ntotal:
            break
        k = min(vi.ntotal, k * 4)
    ordered = sorted(best.values(), key=lambda t: -t[0])[:limit]
    hits = []
    for rank, (score, kid) in enumerate(ordered, 1):
        r = rows[kid]
        hits.append(
            Hit(
                rank,
                score,
                r["clip"],
                r["clip_id"],
                r["shot"],
                r["shot_id"],
                r["start_frame"],
                r["end_frame"],
                r["start_tc"],
                r["end_tc"],
                r["frame"],
                str(catalog.root / r["thumb"]),
            )
        )
    return hits


def load_query_image(path: str | Path) -> Image.Image:
    try:
        with Image.open(path) as im:
            return im.convert("RGB")
    except FileNotFoundError:
        raise UsageError(f"--image {path}: file not found") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise UsageError(f"--image {path}: not an image Dailies can read ({exc}); use a JPEG or PNG") from None


def search(
    catalog: Catalog,
    embedder,
    text: str | None = None,
    image: str | Path | None = None,
    limit: int = 10,
    oversample: int = 4,
    index_settings=None,
) -> list[Hit]:
    if (text is None) == (image is None):
        raise UsageError("give a text query or --image FILE (one of the two)")
    query = embedder.embed_texts([text]) if text is not None else embedder.embed_images([load_query_image(image)])
    with catalog.snapshot():  # the index brought in line with, and hits read from, one committed state
        vi, _ = index_stage.sync(catalog, embedder.name, embedder.dim, save=False, settings=index_settings)
        return rank_shots(catalog, vi, query[0], limit, oversample)
