"""The web glue of selects (`pipeline.editorial.selects` does the work): the proposals the selects
page, its JSON twin and the selects exports show."""

from __future__ import annotations

from pipeline.editorial.selects import propose
from pipeline.editorial.takes import takes_from_names
from pipeline.web.state import WebState


def proposals(state: WebState, scene: str) -> dict:
    """{setup: ranked proposals} of one scene ('' for every scene)."""
    with state.writer() as cat:
        takes_from_names(cat, state.settings.takes.patterns)
        return propose(cat, state.settings, scene or None)
