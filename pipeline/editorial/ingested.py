"""What the editorial readers need from the ingest: the takes stage (scene, take, camera, roll from file
names and tags) and the measure stage (take measurements). Readers only read them; a library ingested
before they were stages of `dailies ingest` lacks them, and the readers say which stage, which clips,
and that `dailies ingest` on the same folders fills it in.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import DailiesError

WHAT_IS_LOST = {
    "takes": "their scene, take and camera from the file name may be missing or out of date",
    "measure": "they are left out of selects and automatic tags",
}


class StageMissing(DailiesError):
    """A reader needs a stage of the ingest that the library's clips lack."""


def missing(catalog, stages=("takes", "measure")) -> dict[str, list[str]]:
    """stage -> paths of the ok clips that lack it (for their current content); stages no clip lacks are left out."""
    out = {}
    for stage in stages:
        rows = catalog.clips_lacking(stage)
        if rows:
            out[stage] = [r["path"] for r in rows]
    return out


def message(stage: str, paths: list[str]) -> str:
    """One line for the person: which stage, which clips, what it means, what to do."""
    names = ", ".join(Path(p).name for p in paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    return (
        f"{len(paths)} clip(s) lack the {stage} stage ({names}): they were ingested before {stage} was part of "
        f"`dailies ingest`, so {WHAT_IS_LOST.get(stage, 'what it gives is missing')}; run `dailies ingest` on the "
        f"same folders to fill it in (it does only the missing work)"
    )


def warnings(gaps: dict[str, list[str]]) -> list[str]:
    return [message(stage, paths) for stage, paths in gaps.items()]
