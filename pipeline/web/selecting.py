"""The web glue of selects (`pipeline.editorial.selects` does the work): the proposals the selects
page, its JSON twin and the selects exports show."""

from __future__ import annotations

from fastapi import HTTPException

from pipeline.editorial.ingested import StageMissing
from pipeline.editorial.selects import propose
from pipeline.web.state import WebState


def proposals(state: WebState, scene: str) -> dict:
    """{setup: ranked proposals} of one scene ('' for every scene), from what the ingest stored (a reader: it
    writes nothing). A library without measurements (ingested before measure was a stage): 409, saying so."""
    try:
        return propose(state.reader(), state.settings, scene or None)
    except StageMissing as exc:
        raise HTTPException(409, str(exc)) from None
