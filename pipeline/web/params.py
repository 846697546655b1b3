"""Request parameters that several routes share: ids in paths, the search query and its filters (the
search page, its JSON twin, the exports), the selects' scene and takes per setup.

Each is a FastAPI-annotated type, so its limits are checked before a route runs (a 400 otherwise).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path as P
from fastapi import Query as Q
from pydantic import BaseModel, Field

from pipeline.editorial.takes import normalize_scene, normalize_take
from pipeline.search import Query

MAX_QUERY = 500
Short = Annotated[str, Field(max_length=100)]

Id = Annotated[int, P(ge=1)]  # a catalog id in a path: /shot/{shot_id}, /media/clip/{clip_id}, ...

Text = Annotated[str, Q(max_length=MAX_QUERY)]
ImageKey = Annotated[str, Q(max_length=32, pattern=r"^[0-9a-f]*$")]  # an uploaded image held by the server
Page = Annotated[int, Q(ge=1, le=1000)]
Like = Annotated[int | None, Q(ge=1)]  # a keyframe id: "more like this"

Scene = Annotated[str, Q(max_length=16, pattern=r"^[0-9A-Za-z]*$")]  # the selects' scene
PerSetup = Annotated[int, Q(ge=1, le=20)]  # takes per setup in a selects export


class Filters(BaseModel):
    """The search filters (`pipeline.search.Query`), as query parameters of the same names."""

    day: Short = ""
    reel: Short = ""
    clip: Short = ""
    scene: Short = ""
    take: Short = ""
    camera: Short = ""
    tag: Short = ""
    circled: bool = False


def make_query(q: str, image: str, like: int | None, f: Filters, page: int) -> Query:
    """The search of a request; scene and take as `dailies search` reads them (012a is 12A, 03 is 3)."""
    return Query(
        text=q.strip(),
        image=image,
        like=like,
        day=f.day,
        reel=f.reel,
        clip=f.clip.strip(),
        scene=normalize_scene(f.scene),
        take=normalize_take(f.take),
        camera=f.camera,
        tag=f.tag,
        circled=f.circled,
        page=page,
    )
