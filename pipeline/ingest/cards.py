"""Cards (the folders a camera card was copied into): each is verified against the ASC MHL it carries
as its files are read, and gets a new MHL generation once all its files are done."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.catalog import Catalog
from pipeline.config import Settings
from pipeline.ingest import verify
from pipeline.ingest.discover import Candidate

log = logging.getLogger("dailies.batch")  # into the batch's run log


@dataclass
class CardState:
    path: Path
    history: dict
    had_history: bool
    missing: list[str]
    pending: int = 0
    checks: dict = field(default_factory=dict)  # clip_id -> (rel, FileCheck, hashes)


def card_folders(paths: list, candidates: list[Candidate]) -> dict[Path, Path]:
    """candidate path -> its card folder."""
    roots = [Path(p).absolute() for p in paths]
    out = {}
    for cand in candidates:
        root = next((r for r in roots if r.is_dir() and (r == cand.path or r in cand.path.parents)), cand.path.parent)
        out[cand.path] = verify.find_card(cand.path, root)
    return out


def open_card(path: Path) -> CardState:
    """A card's MHL history (if it has one) and the files it lists that are not there."""
    had = verify.has_history(path)
    history = verify.read_history(path) if had else {}
    missing = verify.missing_files(history, path)
    if missing:
        log.error("card %s: %d file(s) its MHL lists are missing: %s", path, len(missing), ", ".join(missing))
    return CardState(path, history, had, missing)


def set_mhl(catalog: Catalog, clip, card: str, status: str, detail: str) -> None:
    if (clip["card"], clip["mhl_status"], clip["mhl_detail"]) != (card, status, detail):
        catalog.set_clip_mhl(clip["id"], card, status, detail)


def finish_card(catalog: Catalog, card: CardState, settings: Settings) -> dict:
    """After all files of a card are done: write a new MHL generation when there is something to record."""
    checks = card.checks
    mismatched = [rel for rel, c, _ in checks.values() if c.status == "mismatch"]
    unrecorded = [cid for cid, (_, c, _) in checks.items() if c.status in ("new", "unchecked")]
    alg = settings.verify.checksum
    status, message, generation = "verified", "", None
    if mismatched or card.missing:
        status = "mismatch" if mismatched else "missing"
        message = (
            "; ".join(
                filter(
                    None,
                    [
                        f"{len(mismatched)} file(s) differ from the card's MHL: {', '.join(mismatched[:5])}"
                        if mismatched
                        else "",
                        f"{len(card.missing)} file(s) listed in the card's MHL are missing: "
                        f"{', '.join(card.missing[:5])}"
                        if card.missing
                        else "",
                    ],
                )
            )
            + " -- no new MHL generation written; copy the card again from the camera original"
        )
    elif unrecorded and settings.verify.write_mhl:
        try:
            run = verify.write_generation(card.path, alg)
        except verify.ToolMissing as exc:
            run = verify.MhlRun(False, None, message=str(exc))
        generation = run.generation
        if run.ok:
            status, message = "written", f"MHL generation {run.generation} written ({alg})"
            history = verify.read_history(card.path)
            with catalog.transaction():
                for cid in unrecorded:
                    rel, _, hashes = checks[cid]
                    c = verify.check_file(rel, hashes, history)  # ascmhl's own read against ours
                    set_mhl(catalog, catalog.clip(cid), str(card.path), c.status, c.detail)
        else:
            status, message = "failed", f"MHL not written for {card.path}: {run.message}"
    elif unrecorded:
        status, message = "off", "MHL writing is off ([verify] write_mhl = false)"
        with catalog.transaction():
            for cid in unrecorded:
                set_mhl(catalog, catalog.clip(cid), str(card.path), "not-recorded", message)
    with catalog.transaction():
        catalog.set_card(str(card.path), status, alg, generation, message, card.missing)
        if status in ("mismatch", "missing"):
            catalog.log_event("error", f"{card.path}: {message}", str(card.path), "mhl")
        elif status == "failed":
            catalog.log_event("warning", message, str(card.path), "mhl")
    (log.error if status in ("mismatch", "missing", "failed") else log.info)(
        "card %s: %s %s", card.path, status, message
    )
    return {"card": str(card.path), "status": status, "message": message, "generation": generation}
