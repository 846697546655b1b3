"""The stages of the ingest and their keys: hash -> probe -> analyze (shots + keyframes, + proxies in the
same decode) -> embed -> index.

Each unit of work is keyed by (source content hash, stage, settings hash): a rerun does only what is
new or what a changed setting invalidates.
"""

from __future__ import annotations

from pipeline import transcode
from pipeline.config import Settings, settings_hash

PROBE_VERSION = "probe-1"
ANALYZE_VERSION = "analyze-1"


def analyze_key(settings: Settings) -> str:
    return settings_hash(ANALYZE_VERSION, settings.analysis, settings.shots, settings.keyframes)


def embed_key(settings: Settings, model_id: str) -> str:
    # embed-2: frames preprocessed as tensors (models/preprocess.py) instead of open_clip's PIL transform
    return settings_hash("embed-2", model_id, analyze_key(settings))


def proxy_key(preset: transcode.Preset, settings: Settings) -> str:
    p = settings.proxies
    return settings_hash(
        "proxy-1", preset.to_json(), p.burnin, p.burnin_items if p.burnin else "", p.font if p.burnin else ""
    )


def thumbs_dir(clip_id: int, key: str) -> str:
    """Where the analyze stage writes a clip's keyframes (relative to the library), by its key."""
    return f"thumbs/{clip_id}/{key}"
