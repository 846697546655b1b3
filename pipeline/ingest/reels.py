"""Reel / tape names: from the file's metadata, else from camera file-naming conventions.

The conventions are data (configs/reels.toml, and a library's own reels.toml tried first), so a
show with its own naming adds a pattern instead of code. Pure: no I/O beyond reading the TOML.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import CONFIG_DIR
from pipeline.errors import ConfigError


@dataclass(frozen=True)
class ReelPattern:
    camera: str
    regex: re.Pattern
    reel_from: str = "name"  # name: the regex's `reel` group | folder: the name of the clip's folder


def load_patterns(*files: Path) -> list[ReelPattern]:
    """Patterns of `files` (those that exist) in order, then configs/reels.toml."""
    out: list[ReelPattern] = []
    for path in [*[Path(f) for f in files], CONFIG_DIR / "reels.toml"]:
        if not path.exists():
            continue
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file") from None
        for i, entry in enumerate(data.get("pattern", [])):
            unknown = set(entry) - {"camera", "regex", "reel_from"}
            if unknown or "regex" not in entry:
                raise ConfigError(
                    f"{path}: [[pattern]] #{i + 1} needs `regex` (and may have camera, reel_from); "
                    f"unknown: {', '.join(sorted(unknown)) or '-'}"
                )
            try:
                rx = re.compile(entry["regex"])
            except re.error as exc:
                raise ConfigError(f"{path}: [[pattern]] #{i + 1}: bad regex ({exc})") from None
            reel_from = entry.get("reel_from", "name")
            if reel_from not in ("name", "folder"):
                raise ConfigError(f"{path}: [[pattern]] #{i + 1}: reel_from must be 'name' or 'folder'")
            if reel_from == "name" and "reel" not in rx.groupindex:
                raise ConfigError(f"{path}: [[pattern]] #{i + 1}: the regex needs a named group (?P<reel>...)")
            out.append(ReelPattern(entry.get("camera", f"pattern {i + 1}"), rx, reel_from))
    return out


def reel_from_name(path: str | Path, patterns: list[ReelPattern]) -> tuple[str, str] | None:
    """(reel, camera) from the file name, or None when no convention matches."""
    p = Path(path)
    for pat in patterns:
        m = pat.regex.search(p.stem)
        if m:
            reel = p.parent.name if pat.reel_from == "folder" else m.group("reel")
            if reel:
                return reel, pat.camera
    return None


def resolve_reel(
    path: str | Path, metadata_reel: str | None, patterns: list[ReelPattern]
) -> tuple[str | None, str | None]:
    """(reel, source): the metadata's reel when the file carries one, else the naming convention's."""
    if metadata_reel:
        return metadata_reel, "metadata"
    found = reel_from_name(path, patterns)
    if found:
        return found[0], "filename"
    return None, None
