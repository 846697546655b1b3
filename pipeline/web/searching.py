"""A query from the search page -> result cards (shot, clip, TC in/out, score, keyframes to scrub).

Queries: text, an uploaded image (kept in memory under a key), "more like this" (a keyframe's own
stored vector), or none (browse the library in clip order). Filters narrow the candidate keyframes
before ranking, so a filtered search still returns its best matches, not the filtered top-k.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
from PIL import Image, UnidentifiedImageError

from pipeline import index_kinds as kinds
from pipeline.errors import DailiesError, UsageError
from pipeline.search import NOT_SEMANTIC, rank_shots
from pipeline.web.state import WebState

IMAGE_FORMATS = {"JPEG", "PNG", "WEBP"}


@dataclass
class Query:
    text: str = ""
    image: str = ""  # key of an uploaded image held in memory
    like: int | None = None  # keyframe id: "more like this"
    day: str = ""
    reel: str = ""
    clip: str = ""
    scene: str = ""
    take: str = ""
    camera: str = ""
    tag: str = ""
    circled: bool = False
    page: int = 1

    @property
    def kind(self) -> str:
        return "text" if self.text else "image" if self.image else "like" if self.like is not None else "browse"

    def filters(self) -> dict[str, str]:
        pairs = (
            ("day", self.day),
            ("reel", self.reel),
            ("clip", self.clip),
            ("scene", self.scene),
            ("take", self.take),
            ("camera", self.camera),
            ("tag", self.tag),
            ("circled", "1" if self.circled else ""),
        )
        return {k: v for k, v in pairs if v}

    def params(self, **changes) -> dict:
        d = {"q": self.text, "image": self.image, "like": self.like, **self.filters(), "page": self.page, **changes}
        return {k: v for k, v in d.items() if v not in ("", None) and not (k == "page" and v == 1)}


@dataclass
class Card:
    rank: int | None
    score: float | None
    shot_id: int
    shot: int
    clip_id: int
    clip: str
    clip_name: str
    start_frame: int
    end_frame: int
    start_tc: str
    end_tc: str
    duration: float
    keyframe_id: int | None
    keyframes: list[int] = field(default_factory=list)
    scene: str | None = None
    take: str | None = None
    camera: str | None = None
    circled: bool = False

    def to_json(self) -> dict:
        d = dict(self.__dict__)
        d["score"] = None if self.score is None else round(self.score, 5)
        d["thumbnail"] = f"/media/keyframe/{self.keyframe_id}" if self.keyframe_id else None
        d["url"] = f"/shot/{self.shot_id}"
        return d


@dataclass
class Results:
    query: Query
    cards: list[Card]
    model: str | None = None
    semantic: bool | None = None
    warning: str | None = None
    error: str | None = None
    has_more: bool = False

    def to_json(self) -> dict:
        return {
            "query": self.query.params(),
            "kind": self.query.kind,
            "model": self.model,
            "semantic": self.semantic,
            "warning": self.warning,
            "error": self.error,
            "has_more": self.has_more,
            "hits": [c.to_json() for c in self.cards],
        }


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


def read_query_image(data: bytes, max_pixels: int) -> Image.Image:
    """Decode an uploaded query image; UsageError (shown to the user) for anything else."""
    if not data:
        raise UsageError("the uploaded file is empty; choose a JPEG, PNG or WebP still")
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format not in IMAGE_FORMATS:
                raise UsageError(f"{im.format or 'this'} images are not accepted; upload a JPEG, PNG or WebP still")
            if im.width * im.height > max_pixels:
                raise UsageError(f"the image is {im.width}x{im.height}; images over {max_pixels:,} pixels are refused")
            return im.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise UsageError(
            f"the uploaded file is not an image Dailies can read ({type(exc).__name__}); "
            f"upload a JPEG, PNG or WebP still"
        ) from None


def _cards_from_rows(state: WebState, rows: list, scores: dict[int, tuple[float, int]] | None) -> list[Card]:
    kfs = state.reader().keyframes_of_shots([r["shot_id"] for r in rows])
    takes = state.reader().takes_of_clips({r["clip_id"] for r in rows})
    cards = []
    for r in rows:
        frames = kfs.get(r["shot_id"], [])
        ids = [k["id"] for k in frames]
        best = ids[len(ids) // 2] if ids else None
        score = rank = None
        if scores is not None:
            score, frame, rank = scores[r["shot_id"]]
            best = next((k["id"] for k in frames if k["frame"] == frame), best)
        t = takes.get(r["clip_id"])
        cards.append(
            Card(
                rank,
                score,
                r["shot_id"],
                r["shot"],
                r["clip_id"],
                r["clip"],
                Path(r["clip"]).name,
                r["start_frame"],
                r["end_frame"],
                r["start_tc"],
                r["end_tc"],
                round(r["end_time"] - r["start_time"], 3),
                best,
                ids,
                t["scene"] if t else None,
                t["take"] if t else None,
                t["camera"] if t else None,
                bool(t and t["circled"]),
            )
        )
    return cards


def _query_vector(state: WebState, q: Query, model_id: str) -> np.ndarray:
    if q.text:
        return state.text_vector(q.text)
    if q.image:
        held = state.image_queries.get(q.image)
        if held is None:
            raise UsageError(
                "that uploaded image is no longer held by the server (it keeps the last 64); upload it again"
            )
        return held[0]
    vec = state.reader().vector_of(int(q.like), model_id)
    if vec is None:
        raise UsageError(f"keyframe {q.like} has no vector of the library's model; pick another result")
    return vec


def run_query(state: WebState, q: Query) -> Results:
    per_page = state.settings.web.results
    res = Results(q, [])
    cat = state.reader()
    allowed = None
    if q.filters():
        allowed = cat.filter_keyframe_ids(
            q.day or None,
            q.reel or None,
            q.clip or None,
            q.scene or None,
            q.take or None,
            q.camera or None,
            q.tag or None,
            q.circled,
        )
    try:
        if q.kind == "browse":
            rows = cat.browse_shots(per_page + 1, (q.page - 1) * per_page, allowed)
            res.has_more = len(rows) > per_page
            res.cards = _cards_from_rows(state, rows[:per_page], None)
            return res
        model_id, name, res.semantic, dim = state.model_info()
        res.model = model_id
        if not res.semantic:
            res.warning = NOT_SEMANTIC.format(name=name)
        vec = _query_vector(state, q, model_id)
        vi = state.index(model_id, dim)
        if allowed is not None:
            if not allowed:
                return res
            vi = _Subset(vi, allowed)
        want = per_page * q.page
        hits = rank_shots(cat, vi, vec, want + 1, state.settings.search.oversample)
        res.has_more = len(hits) > want
        hits = hits[(q.page - 1) * per_page : want]
        rows = cat.shots_with_clip([h.shot_id for h in hits])
        scores = {h.shot_id: (h.score, h.keyframe, h.rank) for h in hits}
        res.cards = _cards_from_rows(state, [rows[h.shot_id] for h in hits if h.shot_id in rows], scores)
    except DailiesError as exc:
        res.error = str(exc)
    return res
