"""The stages of the ingest, written once (`STAGES`): in order, what each reads and writes, and which
settings invalidate it. The runner keys its work from this list, `dailies clips` orders and names stages
by it, and `scripts/stages_table.py` prints the README's stage table from it.

Each unit of work is keyed by (source content hash, stage, stage key): a rerun does only what is new or
what a changed setting invalidates. A stage's key hashes its version, the identity it is run for (the
proxy preset, the embedding model), the settings listed for it and the keys of the stages it builds on
(`after`); a stage that no setting invalidates is keyed by its version alone. A setting is named
"section" (the whole section) or "section.key"; "section.key if section.other" counts only while the
other setting is on (burn-in items matter only when burn-ins are).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.config import Settings, settings_hash

if TYPE_CHECKING:
    from pipeline import transcode


@dataclass(frozen=True)
class Stage:
    name: str
    about: str  # one line: what it does
    reads: tuple[str, ...]
    writes: tuple[str, ...]  # catalog tables, folders of the library
    settings: tuple[str, ...] = ()  # the settings whose change redoes it (see the module's docstring)
    version: str | int = ""  # changed when the stage's own work changes
    after: tuple[str, ...] = ()  # stages whose key is part of this one's: redoing them redoes this one
    per: str = ""  # the identity it is run for, hashed into its key: "preset" (proxy), "model" (embed)
    where: str = "worker"  # worker: in process_file, on any executor; driver: where the catalog is written
    recorded: bool = True  # done per clip in stage_runs (hash is keyed by size and mtime, index per library)
    also: str = ""  # what else redoes it, beyond its key

    def key(self, settings: Settings, identity: Any = None) -> str:
        """This stage's key under these settings (and for this preset or model, when it has one)."""
        if self.per and identity is None:
            raise ValueError(f"the {self.name} stage is keyed per {self.per}: give one")
        parts = [] if identity is None else [identity]
        parts += [setting_value(settings, s) for s in self.settings]
        parts += [stage(a).key(settings) for a in self.after]
        return settings_hash(self.version, *parts) if parts else str(self.version)


STAGES: tuple[Stage, ...] = (
    Stage(
        "hash",
        "xxh64 (+ `[verify] checksum`, the card MHL's algorithms) of the whole file in one read, "
        "checked against the card's ASC MHL",
        reads=("source file", "card MHL"),
        writes=("clips (content hash, checksums, MHL status)", "cards", "card MHL (a new generation)"),
        settings=("verify.checksum",),
        recorded=False,
        also="the file's size or mtime changes; `--reverify`",
    ),
    Stage(
        "probe",
        "ffprobe -> fps (rational), frame count, duration, start TC, reel, rotation, SAR, VFR, take tags",
        reads=("source file",),
        writes=("clips (probe, reel, drop frame)",),
        version="probe-1",
    ),
    Stage(
        "analyze",
        "one ffmpeg decode at analysis size -> shots, transitions, keyframe JPEGs "
        "(and the proxies, in the same decode)",
        reads=("source file", "probe"),
        writes=("shots", "transitions", "keyframes", "thumbs/"),
        settings=("analysis", "shots", "keyframes"),
        version="analyze-1",
    ),
    Stage(
        "proxy",
        "an editorial proxy per `--proxies` preset (burn-ins optional), "
        "encoded from the analysis decode when that is due",
        reads=("source file", "probe", "file name ([takes] patterns, for the burn-in)"),
        writes=("proxies", "proxies/"),
        settings=("proxies.burnin", "proxies.burnin_items if proxies.burnin", "proxies.font if proxies.burnin"),
        version="proxy-1",
        per="preset",
        also="its file is missing",
    ),
    Stage(
        "takes",
        "scene, take, camera, roll from the file name and the clip's tags; never over a field an ALE or the editor set",
        reads=("file name", "probe (take tags)"),
        writes=("takes",),
        settings=("takes.patterns",),
        version="takes-1",
        after=("probe",),
        where="driver",
    ),
    Stage(
        "measure",
        "one more decode at `[tags] short_side` -> level, clipping, sharpness, camera motion, framing "
        "(for selects and tags)",
        reads=("source file", "probe"),
        writes=("take_metrics",),
        settings=("tags.short_side", "tags.frame_step"),
        version=4,
    ),
    Stage(
        "embed",
        "keyframe JPEGs -> normalised CLIP vectors in the catalog",
        reads=("thumbs/",),
        writes=("vectors",),
        version="embed-2",  # frames preprocessed as tensors (models/preprocess.py), not open_clip's PIL transform
        after=("analyze",),
        per="model",
        where="driver",
    ),
    Stage(
        "index",
        "FAISS index of the model brought in line with the catalog's vectors",
        reads=("vectors",),
        writes=("index/",),
        where="driver",
        recorded=False,
        also="vectors were added or removed, or their count calls for another `[index]` kind (checked every run)",
    ),
)

_BY_NAME = {s.name: s for s in STAGES}


def stage(name: str) -> Stage:
    """A stage by name; a recorded name such as "proxy:h264" is its stage ("proxy")."""
    try:
        return _BY_NAME[name.partition(":")[0]]
    except KeyError:
        raise KeyError(f"no stage {name!r}; stages: {', '.join(_BY_NAME)}") from None


def order(name: str) -> int:
    """Where a (recorded) stage name comes in STAGES; for sorting stage runs."""
    return STAGES.index(stage(name))


def setting_value(settings: Settings, name: str) -> Any:
    """The value of "section", "section.key" or "section.key if section.other" ("" while the other is off)."""
    name, _, condition = name.partition(" if ")
    if condition and not setting_value(settings, condition):
        return ""
    value: Any = settings
    for part in name.split("."):
        value = getattr(value, part)
    return value


def every_clip() -> list[str]:
    """The recorded stages every ingested clip goes through (proxies and embedding depend on the options)."""
    return [s.name for s in STAGES if s.recorded and not s.per]


def in_order(runs: dict) -> list[tuple[str, Any]]:
    """A clip's stage runs ({name: row}) in the order of STAGES; a name no stage has (a library written by a
    later version) goes last."""

    def rank(name: str) -> tuple[int, str]:
        try:
            return (order(name), name)
        except KeyError:
            return (len(STAGES), name)

    return sorted(runs.items(), key=lambda kv: rank(kv[0]))


def missing(clip_status: str, runs: dict) -> list[str]:
    """The stages an ingested clip lacks (a library ingested before the stage was part of `dailies ingest`)."""
    return [s for s in every_clip() if clip_status == "ok" and s not in runs]


def clip_stages(clip_status: str, runs: dict) -> dict[str, str]:
    """{stage: status} of one clip in the order of STAGES, its missing stages as "missing": what `dailies clips`
    and the morning report show."""
    out = {name: run["status"] for name, run in in_order(runs)}
    return out | {name: "missing" for name in missing(clip_status, runs)}


def stage_keys(settings: Settings) -> dict[str, str]:
    """The key of every recorded stage that is not run per preset or model, under these settings."""
    return {s.name: s.key(settings) for s in STAGES if s.recorded and not s.per}


def embed_key(settings: Settings, model_id: str) -> str:
    return stage("embed").key(settings, model_id)


def proxy_key(preset: transcode.Preset, settings: Settings) -> str:
    return stage("proxy").key(settings, preset.to_json())


def thumbs_dir(clip_id: int, key: str) -> str:
    """Where the analyze stage writes a clip's keyframes (relative to the library), by its key."""
    return f"thumbs/{clip_id}/{key}"


def redone_when(s: Stage) -> list[str]:
    """What redoes a stage, in words: its content hash, settings, preset or model, the stages it builds on."""
    out = ["the source changes"] if s.recorded else []
    out += [f"`{n}`" for n in settings_named(s)]
    out += [f"the {s.per}" for _ in [s.per] if s.per]
    out += [f"{a} is redone" for a in s.after]
    return out + ([s.also] if s.also else [])


def settings_named(stage_: Stage) -> list[str]:
    """The settings of a stage as the config file names them: "[analysis]", "[tags] short_side", ..."""
    out = []
    for s in stage_.settings:
        name, _, condition = s.partition(" if ")
        section, _, key = name.partition(".")
        text = f"[{section}] {key}".strip()
        if condition:
            text += f" (when {condition.partition('.')[2]})"
        out.append(text)
    return out
