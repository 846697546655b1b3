"""Verification of camera cards: checksums read with the source, and ASC MHL manifests per card.

- Every source file is hashed while it is read (hashing.hash_many: xxh64, and md5 on request, plus
  whatever the card's MHL uses) -- every digest from one read of the file, before the decode.
- A card (a folder given to ingest, or any folder below it that carries an `ascmhl/` history) that
  already has an MHL is verified against it first: `read_history` parses its generations and
  `compare` says, per file, verified / mismatch / new, and lists the files the MHL has that are gone.
- `write_generation` records a new MHL generation with the `ascmhl` tool (the ASC's reference
  implementation). It runs from its own small virtualenv (.venv-mhl, made by scripts/setup.sh):
  ascmhl pins click 8.1, which the model stack's huggingface_hub 2.x refuses. ascmhl hashes the card
  itself when it records a generation, so its verdict is a second, independent read.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import env
from pipeline.errors import ToolMissing
from pipeline.ingest.hashing import MHL_ALGORITHMS

MHL_DIR = "ascmhl"
_NS = "{urn:ASC:MHL:v2.0}"
REPO = Path(__file__).resolve().parents[2]  # the checkout (for its .venv-mhl)


def ascmhl_bin() -> str:
    """The ascmhl command: $DAILIES_ASCMHL, the project's .venv-mhl, PATH, or beside this Python."""
    explicit = env("DAILIES_ASCMHL")
    if explicit:
        if not Path(explicit).is_file():
            raise ToolMissing(f"DAILIES_ASCMHL={explicit} does not exist; fix the variable or unset it")
        return explicit
    for candidate in (
        REPO / ".venv-mhl" / "bin" / "ascmhl",
        shutil.which("ascmhl"),
        Path(sys.executable).parent / "ascmhl",
    ):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    raise ToolMissing(
        "ascmhl not found: run scripts/setup.sh (it makes .venv-mhl with `pip install ascmhl`), "
        "or set DAILIES_ASCMHL, or turn MHL writing off with [verify] write_mhl = false"
    )


def find_card(path: Path, root: Path) -> Path:
    """The card a file belongs to: the nearest folder from the file up to `root` that has an MHL history,
    else `root` itself (the folder given to ingest)."""
    root = root.absolute()
    for parent in path.absolute().parents:
        if (parent / MHL_DIR).is_dir():
            return parent
        if parent == root:
            break
    return root


def has_history(card: Path) -> bool:
    return any((card / MHL_DIR).glob("*.mhl"))


def read_history(card: Path) -> dict[str, dict[str, str]]:
    """{relative path: {algorithm: hex}} from every generation of the card's MHL history, later ones winning."""
    out: dict[str, dict[str, str]] = {}
    for mhl in sorted((card / MHL_DIR).glob("*.mhl")):
        try:
            tree = ET.parse(mhl)
        except ET.ParseError as exc:
            raise ToolMissing(f"{mhl}: not a readable ASC MHL file ({exc}); the card's MHL history is damaged") from exc
        for h in tree.getroot().iter(f"{_NS}hash"):
            path_el = h.find(f"{_NS}path")
            if path_el is None or not path_el.text:
                continue
            digests = {}
            for child in h:
                alg = child.tag.replace(_NS, "")
                # action="failed": ascmhl found a different hash; the recorded one stays the reference
                if alg != "path" and child.text and child.get("action") != "failed":
                    digests[alg] = child.text.strip().lower()
            if digests:
                out.setdefault(path_el.text, {}).update(digests)
    return out


def algorithms_needed(history: dict[str, dict[str, str]]) -> list[str]:
    """Algorithms of the history that can be computed here (one per file is enough)."""
    algs = []
    for digests in history.values():
        alg = next((a for a in digests if a in MHL_ALGORITHMS), None)
        if alg and alg not in algs:
            algs.append(alg)
    return algs


@dataclass
class FileCheck:
    status: str  # verified | mismatch | new | unchecked
    detail: str = ""


def check_file(rel: str, hashes: dict[str, str], history: dict[str, dict[str, str]]) -> FileCheck:
    """Compare the digests read from one file with what the card's MHL recorded for it."""
    recorded = history.get(rel)
    if recorded is None:
        return FileCheck("new", "not in the card's MHL yet")
    common = [a for a in recorded if a in hashes]
    if not common:
        return FileCheck("unchecked", f"MHL has only {', '.join(recorded)}; ascmhl verifies it when it writes")
    bad = [a for a in common if hashes[a] != recorded[a]]
    if bad:
        a = bad[0]
        return FileCheck(
            "mismatch",
            f"{a} {hashes[a]} read, MHL recorded {recorded[a]}: the file changed since "
            f"the card was verified -- copy it again from the camera original",
        )
    return FileCheck("verified", f"{common[0]} matches the MHL")


def missing_files(history: dict[str, dict[str, str]], card: Path) -> list[str]:
    return sorted(rel for rel in history if not (card / rel).exists())


@dataclass
class MhlRun:
    ok: bool
    generation: str | None
    mismatches: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    message: str = ""


_MISMATCH = re.compile(r"hash mismatch for\s+(.+?)\s+\w+ \(old\)")


def write_generation(card: Path, algorithm: str, timeout: float | None = None) -> MhlRun:
    """`ascmhl create -h ALG CARD`: hash the card, compare with its history, record a new generation."""
    links = _symlinks(card)
    if links:
        return MhlRun(
            False,
            None,
            message=f"{card} holds symbolic links ({', '.join(links[:3])}); ascmhl would record "
            f"them in the MHL history of the folders they point to -- copy the files "
            f"onto the card folder instead; no MHL written",
        )
    mhl_dir = card / MHL_DIR
    before = set(mhl_dir.glob("*.mhl")) if mhl_dir.is_dir() else set()
    argv = [ascmhl_bin(), "create", "-h", algorithm, str(card)]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return MhlRun(False, None, message=f"ascmhl timed out after {timeout:.0f}s on {card}")
    except OSError as exc:  # not executable, not there any more: the night goes on without an MHL
        return MhlRun(
            False,
            None,
            message=f"cannot run ascmhl ({exc}); no MHL written for {card} -- check the "
            f"ascmhl install (scripts/setup.sh)",
        )
    after = set(mhl_dir.glob("*.mhl")) if mhl_dir.is_dir() else set()
    new = sorted(after - before)
    generation = str(new[-1].relative_to(card)) if new else None
    text = proc.stdout + proc.stderr
    mismatches = [m.strip() for m in _MISMATCH.findall(text)]
    missing = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "missing file(s)" in line:
            missing += [ln.strip() for ln in lines[i + 1 :] if ln.startswith("  ") and ln.strip()]
    if proc.returncode == 0:
        return MhlRun(True, generation)
    tail = " | ".join(ln.strip() for ln in lines if ln.strip().startswith(("ERROR", "Error")))[-400:]
    return MhlRun(
        False, generation, mismatches, sorted(set(missing)), f"ascmhl exit {proc.returncode}: {tail or 'no message'}"
    )


def _symlinks(card: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(card):
        dirnames[:] = [d for d in dirnames if d != MHL_DIR]
        for name in dirnames + filenames:
            if os.path.islink(os.path.join(dirpath, name)):
                out.append(os.path.relpath(os.path.join(dirpath, name), card))
    return sorted(out)
