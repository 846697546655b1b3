"""Search: a query and filters -> ranked shots, a page at a time (`dailies search` and the web UI share it).

A query is a text, an example image, "more like" a keyframe (its own stored vector), or none: then the
library is browsed in clip order. Filters (ingest day, reel, clip name, scene, take, camera, tag, circled)
narrow the candidate keyframes before ranking, so a filtered search returns its best matches, not the
filtered top-k. Shots are ranked by their best keyframe.

The front ends differ only in where the model, the query vectors and the index come from (`Vectors`):
`LibraryVectors` loads them for one command; the web server keeps them for its lifetime. Nothing here
writes: the index is brought in line with the catalog in memory (`index.sync(save=False)`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np
from PIL import Image, UnidentifiedImageError

from models.base import Embedder
from models.presets import ModelPreset
from pipeline import index as index_stage
from pipeline import index_kinds as kinds
from pipeline.catalog import Catalog
from pipeline.embed import MODELS_DIR
from pipeline.errors import CatalogError, UsageError

NOT_SEMANTIC = (
    "this library was indexed with a random-init model ({name}): scores reflect "
    "nothing about content -- install real CLIP weights for semantic search"
)
FILTERS = ("day", "reel", "clip", "scene", "take", "camera", "tag", "circled")


@dataclass(frozen=True)
class Query:
    """What to look for and where. `take` is compared as stored: normalized by
    `pipeline.editorial.takes.normalize_take` ("03" -> "3"), which the front ends apply."""

    text: str = ""
    image: str = ""  # an example image: a file path (CLI) or the key of an uploaded image (web)
    like: int | None = None  # keyframe id: "more like this"
    day: str = ""  # YYYY-MM-DD the clip was catalogued (UTC date of added_at)
    reel: str = ""
    clip: str = ""  # a part of the clip's path, any case
    scene: str = ""
    take: str = ""
    camera: str = ""
    tag: str = ""  # on the take or on the shot
    circled: bool = False
    page: int = 1

    @property
    def kind(self) -> str:
        return "text" if self.text else "image" if self.image else "like" if self.like is not None else "browse"

    def filters(self) -> dict[str, str]:
        """The filters in use, by name ({} when none)."""
        values = {name: getattr(self, name) for name in FILTERS}
        values["circled"] = "1" if self.circled else ""
        return {k: v for k, v in values.items() if v}

    def params(self, **changes) -> dict:
        """The query as URL parameters (the web UI's links, the JSON of both front ends)."""
        d = {"q": self.text, "image": self.image, "like": self.like, **self.filters(), "page": self.page, **changes}
        return {k: v for k, v in d.items() if v not in ("", None) and not (k == "page" and v == 1)}


@dataclass
class Hit:
    """One shot of the results; `rank` and `score` are None in a browse (no query to rank by)."""

    rank: int | None
    score: float | None
    clip: str
    clip_id: int
    shot: int
    shot_id: int
    start_frame: int
    end_frame: int
    start_tc: str
    end_tc: str
    duration: float
    keyframe: int | None  # frame number of the shot's best keyframe (the middle one in a browse)
    keyframe_id: int | None
    thumbnail: str | None  # path of that keyframe's JPEG
    keyframes: list[int] = field(default_factory=list)  # ids of all the shot's keyframes, in frame order
    scene: str | None = None
    take: str | None = None
    camera: str | None = None
    circled: bool = False

    @property
    def clip_name(self) -> str:
        return Path(self.clip).name

    def to_json(self) -> dict:
        return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass
class Results:
    query: Query
    hits: list[Hit]
    model: str | None = None  # None in a browse
    semantic: bool | None = None
    warning: str | None = None
    has_more: bool = False


class Vectors(Protocol):
    """What a search needs from its front end: the library's model, query vectors and the index."""

    def model_info(self) -> tuple[str, str, bool, int]:
        """(model id, preset name, semantic, dim); CatalogError when nothing is embedded."""
        ...

    def text_vector(self, text: str) -> np.ndarray: ...

    def image_vector(self, image: str) -> np.ndarray: ...

    def index(self, model_id: str, dim: int): ...


def library_model(catalog: Catalog) -> ModelPreset:
    """The preset the library was indexed with, as stored in the catalog."""
    model_id = catalog.meta_get("model")
    if not model_id:
        raise CatalogError(
            f"the library at {catalog.root} has no embeddings yet: run `dailies ingest` with a usable "
            f"model (see `dailies models`), or finish pending embedding with `dailies ingest` again"
        )
    row = catalog.model(model_id)
    if row is None:
        raise CatalogError(
            f"the library at {catalog.root} names its model {model_id} but holds no record of it; "
            f"re-ingest with `dailies ingest` to record it again"
        )
    data = json.loads(row["info_json"])
    data.pop("identity", None)
    preset = ModelPreset(**data, base_dir=str(MODELS_DIR))
    if preset.identity != model_id:
        raise CatalogError(
            f"the model files for {model_id} changed since indexing (now {preset.identity}); "
            f"re-ingest with --model {preset.name} or restore the model"
        )
    return preset


def load_query_image(path: str | Path) -> Image.Image:
    try:
        with Image.open(path) as im:
            return im.convert("RGB")
    except FileNotFoundError:
        raise UsageError(f"--image {path}: file not found") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise UsageError(f"--image {path}: not an image Dailies can read ({exc}); use a JPEG or PNG") from None


class LibraryVectors:
    """`Vectors` for one command: the library's model (or `preset`), built by `make_embedder` on first
    need, and the index brought in line with the catalog in memory (nothing is written)."""

    def __init__(
        self,
        catalog: Catalog,
        make_embedder: Callable[[ModelPreset], Embedder],
        preset: ModelPreset | None = None,
        index_settings=None,
    ):
        self.catalog = catalog
        self._make_embedder = make_embedder
        self._preset = preset
        self._embedder: Embedder | None = None
        self.index_settings = index_settings

    def preset(self) -> ModelPreset:
        if self._preset is None:
            self._preset = library_model(self.catalog)
        return self._preset

    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._make_embedder(self.preset())
        return self._embedder

    def model_info(self) -> tuple[str, str, bool, int]:
        p = self.preset()
        return p.identity, p.name, p.semantic, self.embedder().dim

    def text_vector(self, text: str) -> np.ndarray:
        return self.embedder().embed_texts([text])[0]

    def image_vector(self, image: str) -> np.ndarray:
        return self.embedder().embed_images([load_query_image(image)])[0]

    def index(self, model_id: str, dim: int):
        return index_stage.sync(self.catalog, model_id, dim, save=False, settings=self.index_settings)[0]


class _Subset:
    """The index seen through a set of allowed keyframe ids (what `rank_shots` needs: ntotal, search)."""

    def __init__(self, vi, ids: list[int]):
        self._vi = vi
        self._selector = faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64))  # kept alive with the params
        self._params = kinds.search_params(vi.spec, vi.settings) or faiss.SearchParameters()
        self._params.sel = self._selector
        self.ntotal = min(len(ids), vi.ntotal)

    def search(self, queries: np.ndarray, k: int):
        k = max(1, min(k, self.ntotal))
        return self._vi.index.search(np.ascontiguousarray(queries, np.float32), k, params=self._params)


def rank_shots(catalog: Catalog, vi, query: np.ndarray, limit: int, oversample: int) -> list[tuple[int, float, int]]:
    """Pure-ish core: nearest keyframes grouped by shot (best keyframe wins), the top `limit` shots as
    (shot id, score, keyframe id), best first. `vi` needs only `ntotal` and `search`."""
    if vi.ntotal == 0:
        return []
    k = limit * max(1, oversample)
    while True:
        scores, ids = vi.search(query.reshape(1, -1), k)
        pairs = [(float(s), int(i)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]
        rows = catalog.keyframe_hits([i for _, i in pairs])
        best: dict[int, tuple[float, int]] = {}
        for score, kid in pairs:
            row = rows.get(kid)
            if row is not None and row["shot_id"] not in best:
                best[row["shot_id"]] = (score, kid)
        if len(best) >= limit or k >= vi.ntotal:
            break
        k = min(vi.ntotal, k * 4)
    ordered = sorted(best.items(), key=lambda t: -t[1][0])[:limit]
    return [(shot_id, score, kid) for shot_id, (score, kid) in ordered]


def _hits(catalog: Catalog, rows: list, ranked: list[tuple[int, float, int]] | None, first_rank: int) -> list[Hit]:
    """Result records for shot rows (browse_shots / shots_with_clip), with rank and score when ranked."""
    kfs = catalog.keyframes_of_shots([r["shot_id"] for r in rows])
    takes = catalog.takes_of_clips({r["clip_id"] for r in rows})
    by_shot = {shot_id: (rank, score, kid) for rank, (shot_id, score, kid) in enumerate(ranked or [], first_rank)}
    hits = []
    for r in rows:
        frames = kfs.get(r["shot_id"], [])
        best = frames[len(frames) // 2] if frames else None
        rank = score = None
        if ranked is not None:
            rank, score, kid = by_shot[r["shot_id"]]
            best = next((k for k in frames if k["id"] == kid), best)
        t = takes.get(r["clip_id"])
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
                round(r["end_time"] - r["start_time"], 3),
                best["frame"] if best else None,
                best["id"] if best else None,
                str(catalog.root / best["thumb"]) if best else None,
                [k["id"] for k in frames],
                t["scene"] if t else None,
                t["take"] if t else None,
                t["camera"] if t else None,
                bool(t and t["circled"]),
            )
        )
    return hits


def _allowed(catalog: Catalog, q: Query) -> list[int] | None:
    """Keyframe ids that pass the filters; None when no filter is set."""
    if not q.filters():
        return None
    return catalog.filter_keyframe_ids(
        q.day or None,
        q.reel or None,
        q.clip or None,
        q.scene or None,
        q.take or None,
        q.camera or None,
        q.tag or None,
        q.circled,
    )


def _query_vector(catalog: Catalog, q: Query, vectors: Vectors, model_id: str) -> np.ndarray:
    if q.text:
        return vectors.text_vector(q.text)
    if q.image:
        return vectors.image_vector(q.image)
    assert q.like is not None  # the kind is "like"
    vec = catalog.vector_of(q.like, model_id)
    if vec is None:
        raise UsageError(f"keyframe {q.like} has no vector of the library's model; pick another result")
    return vec


def find(catalog: Catalog, q: Query, vectors: Vectors, per_page: int, oversample: int = 4) -> Results:
    """Page `q.page` of the results (`per_page` shots). A browse needs no model; a query raises
    CatalogError when nothing is embedded, UsageError for a query it cannot embed."""
    if per_page < 1 or q.page < 1:
        raise UsageError(f"results per page ({per_page}) and the page ({q.page}) start at 1")
    res = Results(q, [])
    skip, want = (q.page - 1) * per_page, q.page * per_page
    if q.kind == "browse":
        with catalog.snapshot():  # one committed state, even while an ingest writes
            rows = catalog.browse_shots(per_page + 1, skip, _allowed(catalog, q))
            res.has_more = len(rows) > per_page
            res.hits = _hits(catalog, rows[:per_page], None, 0)
        return res
    model_id, name, res.semantic, dim = vectors.model_info()
    res.model = model_id
    if not res.semantic:
        res.warning = NOT_SEMANTIC.format(name=name)
    vec = _query_vector(catalog, q, vectors, model_id)  # the model runs outside the read transaction
    with catalog.snapshot():  # the index brought in line with, and hits read from, one committed state
        allowed = _allowed(catalog, q)
        vi = vectors.index(model_id, dim)
        if allowed is not None:
            if not allowed:
                return res
            vi = _Subset(vi, allowed)
        ranked = rank_shots(catalog, vi, vec, want + 1, oversample)
        res.has_more = len(ranked) > want
        ranked = ranked[skip:want]
        by_id = catalog.shots_with_clip([shot_id for shot_id, _, _ in ranked])
        res.hits = _hits(catalog, [by_id[s] for s, _, _ in ranked if s in by_id], ranked, skip + 1)
    return res


def search(
    catalog: Catalog,
    embedder,
    text: str | None = None,
    image: str | Path | None = None,
    limit: int = 10,
    oversample: int = 4,
    index_settings=None,
) -> list[Hit]:
    """The best `limit` shots for a text or an image file, with `embedder`'s model (no filters)."""
    if (text is None) == (image is None):
        raise UsageError("give a text query or --image FILE (one of the two)")
    q = Query(text=text or "", image="" if image is None else str(image))
    vectors = LibraryVectors(catalog, lambda _preset: embedder, embedder.preset, index_settings)
    return find(catalog, q, vectors, limit, oversample).hits
