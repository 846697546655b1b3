"""One source of truth for settings: a frozen dataclass per stage, defaults from configs/default.toml.

Precedence: CLI flags > the library's `dailies.toml` > configs/default.toml. Unknown keys are
errors that list the known ones, so a typo never passes silently.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pipeline.errors import ConfigError

# -- environment: every variable Dailies reads, read here and nowhere else ------------------------

ENVIRONMENT = {
    "DAILIES_LIBRARY": "library folder when --library is not given (default ./dailies-library)",
    "DAILIES_CONFIG_DIR": "folder of default.toml, models/, transcode/, tags/, reels.toml (default: shipped configs)",
    "DAILIES_DEBUG": "1: show tracebacks instead of one-line errors",
    "DAILIES_ALLOW_DOWNLOAD": "1: model weights may be downloaded (same as [embed] allow_download)",
    "DAILIES_FFMPEG": "path of the ffmpeg binary (default: PATH, then the imageio-ffmpeg wheel)",
    "DAILIES_FFPROBE": "path of the ffprobe binary (default: PATH)",
    "DAILIES_ASCMHL": "path of the ascmhl command (default: .venv-mhl, PATH, beside this Python)",
    "DAILIES_HAARCASCADES": "folder holding haarcascade_frontalface_default.xml (default: Debian's opencv-data)",
    "DAILIES_WEB_TOKEN": "access token of `dailies serve` when --token is not given",
}


def env(name: str) -> str:
    """The value of one of Dailies' environment variables ("" when unset); only names in ENVIRONMENT."""
    if name not in ENVIRONMENT:
        raise KeyError(f"{name} is not one of Dailies' environment variables: {', '.join(ENVIRONMENT)}")
    return os.environ.get(name, "")


def env_library() -> str:
    return env("DAILIES_LIBRARY")


def env_debug() -> bool:
    return bool(env("DAILIES_DEBUG"))


def env_allow_download() -> bool:
    return env("DAILIES_ALLOW_DOWNLOAD") == "1"


def _config_dir() -> Path:
    """The configs folder: $DAILIES_CONFIG_DIR, the repository's configs/ (a checkout or an editable
    install), else the copy carried inside the wheel (pipeline/_configs)."""
    explicit = env("DAILIES_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "configs", here / "_configs"):
        if (candidate / "default.toml").is_file():
            return candidate
    return here.parent / "configs"


CONFIG_DIR = _config_dir()


# -- one definition per setting: default, meaning, unit, valid values -----------------------------

T = TypeVar("T")

_TYPE_WORDS = {
    bool: "bool (true or false)",
    int: "int (a whole number)",
    float: "float (a number)",
    str: "str (text in quotes)",
    tuple: "a list of text",
}


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


@dataclass(frozen=True)
class Spec:
    """What one setting means and which values it takes. Numbers: `min`/`max` inclusive, `above`/`below`
    exclusive. Text: one of `choices` (with `items`: a comma-separated list of them), never empty unless
    `empty` says what an empty text means."""

    meaning: str
    type: type
    unit: str = ""
    min: float | None = None
    max: float | None = None
    above: float | None = None
    below: float | None = None
    choices: tuple[str, ...] = ()
    items: bool = False
    empty: str = ""

    def valid(self) -> str:
        """The valid values in words: "0 to 255", "more than 0, at most 1", "one of: content, adaptive"."""
        if self.type is bool:
            return "true or false"
        if self.type is tuple:
            return "a list of non-empty texts (the list may be empty)"
        if self.type is str:
            if self.choices and not self.items:
                return "one of: " + ", ".join(self.choices)
            text = "a comma-separated list of: " + ", ".join(self.choices) if self.choices else "any text"
            return text + (f" (empty: {self.empty})" if self.empty else ", not empty")
        if self.min is not None and self.max is not None:
            return f"{_number(self.min)} to {_number(self.max)}"
        bounds = [
            (self.min, "at least"),
            (self.above, "more than"),
            (self.max, "at most"),
            (self.below, "less than"),
        ]
        return ", ".join(f"{word} {_number(b)}" for b, word in bounds if b is not None)

    def _has_type(self, value: Any) -> bool:
        if isinstance(value, bool):
            return self.type is bool
        if self.type is float:
            return isinstance(value, int | float)
        return isinstance(value, self.type)

    def _in_range(self, value: Any) -> bool:
        if self.type is bool:
            return True
        if self.type is tuple:
            return all(isinstance(v, str) and v for v in value)
        if self.type is str:
            if value == "":
                return bool(self.empty)
            given = [v.strip() for v in value.split(",") if v.strip()] if self.items else [value]
            return not self.choices or all(v in self.choices for v in given)
        if math.isnan(value):  # TOML has nan; no comparison would refuse it
            return False
        return not (
            (self.min is not None and value < self.min)
            or (self.max is not None and value > self.max)
            or (self.above is not None and value <= self.above)
            or (self.below is not None and value >= self.below)
        )

    def check(self, key: str, value: Any) -> None:
        """Raise ConfigError naming `key`, the value and the valid values unless `value` is one of them."""
        if not self._has_type(value):
            raise ConfigError(f"{key} must be {_TYPE_WORDS[self.type]}, got {value!r}")
        if not self._in_range(value):
            unit = f" {self.unit}" if self.unit and self.type in (int, float) else ""
            raise ConfigError(f"{key} = {value!r} is not valid: use {self.valid()}{unit} -- {self.meaning}")


def setting(default: T, meaning: str, unit: str = "", **valid: Any) -> T:
    """A settings field: its default and its Spec (kept in the field's metadata, which settings_hash never reads)."""
    return field(default=default, metadata={"setting": Spec(meaning, type(default), unit, **valid)})


def spec_of(f: dataclasses.Field) -> Spec:
    return f.metadata["setting"]


class _Section:
    """Base of the settings sections: every value is checked against its Spec when a section is made.
    A section with rules between its keys adds them in its own __post_init__, after super().__post_init__()."""

    def __post_init__(self) -> None:
        section = _section_name(type(self))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            spec_of(f).check(f"{section}.{f.name}", getattr(self, f.name))


@dataclass(frozen=True)
class AnalysisSettings(_Section):
    short_side: int = setting(256, "short side of the analysis frames (shots, keyframes)", "pixels", min=32, max=4320)
    max_long_side: int = setting(
        640, "long side of the analysis frames at most (wider sources)", "pixels", min=32, max=8640
    )
    detect_short_side: int = setting(
        64, "short side shot detection reduces the analysis frames to (integer factor)", "pixels", min=8, max=4320
    )
    fast_decode: bool = setting(True, "skip H.264/HEVC deblocking when decoding for analysis only")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.short_side > self.max_long_side:
            raise ConfigError(
                f"analysis.short_side ({self.short_side}) must be <= analysis.max_long_side ({self.max_long_side})"
            )


@dataclass(frozen=True)
class ShotSettings(_Section):
    detector: str = setting("content", "PySceneDetect detector proposing hard cuts", choices=("content", "adaptive"))
    threshold: float = setting(
        27.0,
        "ContentDetector threshold on the mean HSV change between frames",
        "HSV distance",
        above=0,
        max=255,
    )
    adaptive_threshold: float = setting(
        3.0, "AdaptiveDetector: a frame's score over its neighbours' rolling average", "ratio", above=0, max=255
    )
    min_scene_len: int = setting(15, "cuts closer than this are merged (PySceneDetect min_scene_len)", "frames", min=0)
    motion_ratio: float = setting(
        2.0, "a cut changes at least this many times the mean change around it", "ratio", above=0, max=100
    )
    motion_window: int = setting(2, "frames on each side of a cut averaged for motion_ratio", "frames", min=1, max=100)
    flash_frames: int = setting(
        3, "a flash: frames this close before and after a jump look alike", "frames", min=1, max=100
    )
    flash_similarity: float = setting(
        0.5, "a flash: their distance below this fraction of the jump", "fraction", min=0, max=1
    )
    gradual: bool = setting(True, "detect dissolves and fades (reported in `gradual`)")
    dissolve_min_frames: int = setting(8, "shortest dissolve looked for", "frames", min=4)
    dissolve_max_frames: int = setting(48, "longest dissolve looked for", "frames", min=4, max=1000)
    dissolve_threshold: float = setting(
        20.0, "a dissolve's two ends differ at least this much", "HSV distance", above=0, max=255
    )
    blend_ratio: float = setting(
        0.25,
        "a dissolve's middle frames match the blend of its ends within this",
        "error / end difference",
        above=0,
        max=1,
    )
    dissolve_edge: float = setting(
        0.1,
        "a dissolve starts (ends) this fraction of the way from its first (to its last) picture",
        "fraction",
        min=0,
        below=0.5,
    )
    dissolve_rise: float = setting(
        0.6, "frames around a dissolve change less than this times as fast as inside it", "ratio", above=0, max=1
    )
    fade_min_frames: int = setting(8, "shortest fade", "frames", min=2)
    fade_min_step: float = setting(0.5, "a fade's mean luma moves at least this per frame", "luma", above=0, max=255)
    fade_max_step: float = setting(40.0, "a step above this that is also a cut ends a fade", "luma", above=0, max=255)
    fade_min_change: float = setting(40.0, "a fade's mean luma changes at least this in all", "luma", above=0, max=255)
    black_level: float = setting(24.0, "mean luma at or below which a fade has reached black", "luma", min=0, max=255)
    white_level: float = setting(230.0, "mean luma at or above which a fade has reached white", "luma", min=0, max=255)
    fade_floor: float = setting(2.0, "frames this close to the black/white end are the slug", "luma", min=0, max=255)
    dip_max_seconds: float = setting(
        0.5, "fade out + slug + fade in is one dip when the slug is at most this long", "seconds", min=0, max=60
    )
    min_contrast: float = setting(
        10.0, "luma deviation a fade's picture end or a dissolve's end needs at least", "luma", min=0, max=255
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.dissolve_max_frames < self.dissolve_min_frames:
            raise ConfigError(
                f"shots.dissolve_min_frames ({self.dissolve_min_frames}) must be <= "
                f"shots.dissolve_max_frames ({self.dissolve_max_frames})"
            )
        if self.black_level >= self.white_level:
            raise ConfigError(
                f"shots.black_level ({self.black_level}) must be below shots.white_level ({self.white_level})"
            )


@dataclass(frozen=True)
class KeyframeSettings(_Section):
    seconds_per_keyframe: float = setting(
        4.0, "one keyframe per this many seconds of shot (at least one per shot)", "seconds", above=0, max=3600
    )
    max_per_shot: int = setting(8, "keyframes of one shot at most", "keyframes", min=1, max=1000)
    jpeg_quality: int = setting(90, "JPEG quality of the keyframe thumbnails", "JPEG quality", min=1, max=100)


@dataclass(frozen=True)
class EmbedSettings(_Section):
    model: str = setting("vit-b-32", "model preset (configs/models/NAME.toml) or a local open_clip checkpoint file")
    device: str = setting("auto", "where the model runs (auto: CUDA when available)", choices=("auto", "cpu", "cuda"))
    batch_size: int = setting(0, "images per forward pass; 0 = the preset's", "images", min=0, max=4096)
    allow_download: bool = setting(False, "model weights may be downloaded (else local files only)")
    precision: str = setting(
        "auto", "model precision (auto: fp16 on CUDA, fp32 on the CPU)", choices=("auto", "fp32", "fp16")
    )
    decode_workers: int = setting(
        0, "threads decoding keyframe JPEGs; 0 = min(8, CPU cores)", "threads", min=0, max=256
    )
    cpu_threads: int = setting(
        0, "PyTorch threads when the model runs on the CPU; 0 = every core", "threads", min=0, max=1024
    )


@dataclass(frozen=True)
class IndexSettings(_Section):
    exact_max: int = setting(50_000, "up to this many vectors the index is exact (Flat), IVF above", "vectors", min=1)
    large_encoding: str = setting("sq8", "how an IVF index stores each vector", choices=("flat", "sq8", "pq"))
    nlist: int = setting(0, "IVF lists; 0 = auto (about sqrt(n), a power of two)", "lists", min=0)
    nprobe: int = setting(0, "IVF lists visited per query; 0 = auto (nlist/16, at least 16)", "lists", min=0)
    pq_m: int = setting(64, "bytes per vector with large_encoding pq (divides the dimension)", "bytes", min=1, max=4096)
    train_per_list: int = setting(64, "k-means training vectors per IVF list", "vectors", min=1, max=100_000)
    retrain_growth: float = setting(
        4.0, "retrain an IVF index once it holds this many times its training vectors", "times", above=1, max=1000
    )


@dataclass(frozen=True)
class SearchSettings(_Section):
    limit: int = setting(10, "shots returned by a search", "shots", min=1, max=10_000)
    oversample: int = setting(4, "keyframes fetched from the index per requested shot", "keyframes", min=1, max=1000)


@dataclass(frozen=True)
class ReliabilitySettings(_Section):
    min_decoded_fraction: float = setting(
        0.98, "a clip decoding fewer of its promised frames than this is truncated", "fraction", above=0, max=1
    )
    lock_wait: bool = setting(False, "a second ingest on a busy library waits (true) or is refused (false)")


@dataclass(frozen=True)
class WebSettings(_Section):
    host: str = setting("127.0.0.1", "address `dailies serve` binds (other than 127.0.0.1: a token is required)")
    port: int = setting(8765, "port `dailies serve` listens on", "TCP port", min=1, max=65535)
    results: int = setting(48, "shots per page of search results and of the browse view", "shots", min=1, max=500)
    max_upload_mb: int = setting(10, "largest image upload of an image query", "MiB", min=1, max=1024)
    max_image_pixels: int = setting(
        40_000_000, "largest image (width x height) decoded for an image query", "pixels", min=1, max=1_000_000_000
    )
    query_cache: int = setting(256, "text query embeddings kept in memory", "queries", min=1, max=1_000_000)
    threads: int = setting(
        1, "PyTorch/FAISS threads per query; 0 = the libraries' defaults", "threads", min=0, max=1024
    )


@dataclass(frozen=True)
class VerifySettings(_Section):
    checksum: str = setting(
        "xxh64", "checksum recorded per source file and written to the MHL", choices=("xxh64", "md5")
    )
    write_mhl: bool = setting(True, "write an ASC MHL generation into each card after its files are done")


@dataclass(frozen=True)
class ProxySettings(_Section):
    presets: str = setting(
        "", "editorial proxy presets (configs/transcode/NAME.toml), comma-separated", empty="no proxies"
    )
    burnin: bool = setting(False, "burn source timecode, clip name, scene/take into the proxies")
    burnin_items: str = setting(
        "tc,clip,scene_take", "what is burnt in", choices=("tc", "clip", "scene_take"), items=True, empty="nothing"
    )
    font: str = setting("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", "TrueType font file of the burn-ins")

    def preset_names(self) -> list[str]:
        return [p.strip() for p in self.presets.split(",") if p.strip()]

    def burnin_item_names(self) -> tuple[str, ...]:
        """The burn-in items, in order (each one of the choices: every section is checked when it is made)."""
        return tuple(i.strip() for i in self.burnin_items.split(",") if i.strip())


@dataclass(frozen=True)
class BatchSettings(_Section):
    workers: int = setting(2, "files worked on at the same time by the local executor", "files", min=1, max=256)
    watch_interval: float = setting(10.0, "--watch: time between two looks at the folders", "seconds", min=0, max=86400)
    settle_seconds: float = setting(
        5.0, "--watch: a file is taken once its size and mtime are unchanged this long", "seconds", min=0, max=86400
    )


@dataclass(frozen=True)
class ReportSettings(_Section):
    day_start_hour: int = setting(
        12, "a dailies day starts at this hour of local time; 0 = calendar days", "hour", min=0, max=23
    )


@dataclass(frozen=True)
class RaySettings(_Section):
    address: str = setting(
        "", "Ray cluster to join (ray://head:10001, head:6379, auto)", empty="a Ray instance on this machine"
    )
    local_cpus: int = setting(0, "CPUs of the local Ray instance; 0 = every core", "CPUs", min=0)
    task_cpus: float = setting(1.0, "CPUs each per-file task reserves", "CPUs", above=0, max=1024)
    embed_actors: int = setting(0, "embedding actors; 0 = one per GPU (one on CPUs without a GPU)", "actors", min=0)


@dataclass(frozen=True)
class TakeSettings(_Section):
    # Regular expressions tried in order on the file name (no extension); named groups scene, setup,
    # take, camera, roll fill the take. The first pattern that sets a field wins.
    patterns: tuple = setting(
        (
            r"(?i)(?:^|[^A-Z0-9])Sc(?:ene)?[-_ ]?(?P<scene>\d{1,4}[A-Z]{0,2})[-_ ]?(?:Tk|Take|T)[-_ ]?(?P<take>\d{1,3})(?![0-9])",  # noqa: E501
            r"(?:^|[^A-Z0-9])(?P<scene>\d{1,4}[A-Z]{0,2})[-_](?:T|TK)(?P<take>\d{1,3})(?![0-9])",
            r"^(?P<roll>(?P<camera>[A-Z])\d{3})_?C\d{3}",
        ),
        "file-name regular expressions (groups scene, setup, take, camera, roll), tried in order",
    )


@dataclass(frozen=True)
class TagSettings(_Section):
    vocabulary: str = setting("default", "tag vocabulary (configs/tags/NAME.toml)")
    short_side: int = setting(256, "short side of the frames measured for tags", "pixels", min=32, max=4320)
    frame_step: int = setting(2, "every Nth frame is measured", "frames", min=1, max=1000)
    static_motion: float = setting(
        0.15, "median global motion below which a shot is static", "% of frame width per frame", above=0, max=100
    )
    move_motion: float = setting(
        0.6, "global motion above which a pan/tilt is reported", "% of frame width per frame", above=0, max=100
    )
    handheld_jitter: float = setting(
        0.35, "jitter above which a shot is handheld", "% of frame width per frame", above=0, max=100
    )
    zoom_divergence: float = setting(
        0.004, "mean flow divergence above which a shot is a zoom", "per pixel", above=0, max=1
    )
    dark_luma: float = setting(0.22, "mean luma below which a shot is dark", "luma", above=0, max=1)
    bright_luma: float = setting(0.62, "mean luma above which a shot is bright", "luma", min=0, below=1)
    soft_sharpness: float = setting(
        60.0, "variance of the Laplacian below which a shot is soft", "Laplacian variance", above=0, max=1_000_000
    )
    face_min_fraction: float = setting(
        0.06, "smallest face counted, as a fraction of the frame height", "fraction", above=0, max=1
    )
    clip_min_margin: float = setting(
        0.02, "CLIP zero-shot: the best prompt beats the runner-up by this much", "cosine", min=0, max=1
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.dark_luma >= self.bright_luma:
            raise ConfigError(f"tags.dark_luma ({self.dark_luma}) must be below tags.bright_luma ({self.bright_luma})")


@dataclass(frozen=True)
class SelectSettings(_Section):
    focus_weight: float = setting(1.0, "weight of focus in a take's score (0 disables it)", "weight", min=0, max=100)
    exposure_weight: float = setting(1.0, "weight of exposure in a take's score", "weight", min=0, max=100)
    stability_weight: float = setting(1.0, "weight of camera stability in a take's score", "weight", min=0, max=100)
    completeness_weight: float = setting(1.0, "weight of length vs the longest sibling", "weight", min=0, max=100)
    circled_weight: float = setting(0.5, "weight of the script supervisor's circle", "weight", min=0, max=100)
    false_start_fraction: float = setting(
        0.5, "a take shorter than this fraction of its longest sibling is a false start", "fraction", min=0, max=1
    )
    framing_similarity: float = setting(
        0.6, "takes whose framing correlates at least this much are one setup", "correlation", min=-1, max=1
    )


_TC = re.compile(r"^\d\d:\d\d:\d\d[:;]\d\d$")


@dataclass(frozen=True)
class ExportSettings(_Section):
    tape: str = setting(
        "name",
        "tape name exports write: name = the camera file's name (as Avid), reel = the camera roll",
        choices=("name", "reel"),
    )
    record_start: str = setting("01:00:00:00", "record timecode of the first event of an EDL/XML sequence")
    edl_format: str = setting(
        "cmx3600",
        "EDL written: cmx3600 (8-character reels), file32 / file128 (Avid's lists with longer reels)",
        choices=("cmx3600", "file32", "file128"),
    )
    path_map: tuple = setting(
        (), "FROM=TO prefixes: a source path under FROM is written under TO (the edit bay's mounts)"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        hh, mm, ss, ff = (
            (int(x) for x in re.split(r"[:;]", self.record_start)) if _TC.match(self.record_start) else [99] * 4
        )
        if hh > 23 or mm > 59 or ss > 59 or ff > 59:
            raise ConfigError(
                f"export.record_start = {self.record_start!r} is not a timecode HH:MM:SS:FF (e.g. 01:00:00:00)"
            )
        bad = [m for m in self.path_map if "=" not in m or not m.split("=", 1)[0]]
        if bad:
            raise ConfigError(f"export.path_map: {bad[0]!r} is not FROM=TO (e.g. /Volumes/RAID=/mnt/show)")


@dataclass(frozen=True)
class Settings:
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    shots: ShotSettings = field(default_factory=ShotSettings)
    keyframes: KeyframeSettings = field(default_factory=KeyframeSettings)
    embed: EmbedSettings = field(default_factory=EmbedSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    reliability: ReliabilitySettings = field(default_factory=ReliabilitySettings)
    web: WebSettings = field(default_factory=WebSettings)
    verify: VerifySettings = field(default_factory=VerifySettings)
    proxies: ProxySettings = field(default_factory=ProxySettings)
    batch: BatchSettings = field(default_factory=BatchSettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    ray: RaySettings = field(default_factory=RaySettings)
    takes: TakeSettings = field(default_factory=TakeSettings)
    tags: TagSettings = field(default_factory=TagSettings)
    selects: SelectSettings = field(default_factory=SelectSettings)
    export: ExportSettings = field(default_factory=ExportSettings)

    def replace(self, section: str, **changes: Any) -> Settings:
        """A copy with some keys of one section changed (None values are ignored: 'unset')."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        current = getattr(self, section)
        return dataclasses.replace(
            self, **{section: _build(type(current), {**dataclasses.asdict(current), **changes}, section)}
        )


def _section_name(cls: Callable[[], _Section]) -> str:
    """The name of a section in Settings, from its class (each field is `field(default_factory=TheClass)`)."""
    for f in dataclasses.fields(Settings):
        if f.default_factory is cls:
            return f.name
    raise TypeError(f"{cls.__name__} is not a section of Settings")


def definitions() -> list[tuple[str, Any, Spec]]:
    """Every setting as ("section.key", default, Spec), in the order of the sections and their fields."""
    return [
        (f"{section.name}.{f.name}", f.default, spec_of(f))
        for section in dataclasses.fields(Settings)
        for f in dataclasses.fields(section.default_factory)  # type: ignore[arg-type]
    ]


def spec(key: str) -> Spec:
    """The Spec of one setting, by its "section.key" name."""
    section, _, name = key.partition(".")
    sections = {f.name: f.default_factory for f in dataclasses.fields(Settings)}
    fields = {f.name: f for f in dataclasses.fields(sections[section])} if section in sections else {}  # type: ignore[arg-type]
    if name not in fields:
        raise KeyError(f"{key} is not a setting; settings are section.key, e.g. shots.threshold")
    return spec_of(fields[name])


def choices_of(key: str) -> tuple[str, ...]:
    """The valid values of a setting that has choices ("embed.device" -> ("auto", "cpu", "cuda")): CLI flags use it."""
    choices = spec(key).choices
    if not choices:
        raise KeyError(f"{key} has no choices")
    return choices


def settings_hash(*parts: Any) -> str:
    """Stable short hash of settings dataclasses / plain values: the key of derived work."""
    payload = json.dumps(
        [dataclasses.asdict(p) if dataclasses.is_dataclass(p) and not isinstance(p, type) else p for p in parts],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _build(cls, values: dict, section: str, origin: dict[str, Path] | None = None):
    """A section from plain values (a TOML file, CLI flags): int -> float and list -> tuple where the setting
    wants one, every value checked against its Spec. `origin` (key -> file) puts the file in the error."""
    known = {f.name: f for f in dataclasses.fields(cls)}
    origin = origin or {}
    unknown = sorted(set(values) - set(known))
    if unknown:
        files = sorted({str(origin[k]) for k in unknown if k in origin})
        raise ConfigError(
            f"{''.join(f + ': ' for f in files)}unknown key(s) in [{section}]: {', '.join(unknown)}; "
            f"known keys: {', '.join(sorted(known))}"
        )
    typed = {}
    for name, value in values.items():
        rule = spec_of(known[name])
        if rule.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if rule.type is tuple and isinstance(value, list):
            value = tuple(value)
        try:
            rule.check(f"{section}.{name}", value)
        except ConfigError as exc:
            if name in origin:
                raise ConfigError(f"{origin[name]}: {exc}; fix it in that file") from None
            raise
        typed[name] = value
    try:
        return cls(**typed)
    except ConfigError as exc:  # a rule between keys: name the files that set them
        files = sorted({str(path) for name, path in origin.items() if f"{section}.{name} " in f"{exc} "})
        if files:
            raise ConfigError(f"{', '.join(files)}: {exc}") from None
        raise


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        hint = (
            "set DAILIES_CONFIG_DIR to a folder holding Dailies' configs, or reinstall Dailies (its wheel carries them)"
            if path == CONFIG_DIR / "default.toml"
            else "check the path"
        )
        raise ConfigError(f"configuration file not found: {path}; {hint}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file or remove it") from None


def load_settings(*files: Path) -> Settings:
    """Defaults from configs/default.toml, then each existing file in order."""
    merged: dict[str, dict] = {}
    origin: dict[str, dict[str, Path]] = {}  # section -> key -> the file its value comes from
    sources = [CONFIG_DIR / "default.toml", *[Path(f) for f in files if f and Path(f).exists()]]
    for path in sources:
        for section, values in _read_toml(path).items():
            if not isinstance(values, dict):
                raise ConfigError(f"{path}: top-level key {section!r} must be a [section]")
            merged.setdefault(section, {}).update(values)
            origin.setdefault(section, {}).update(dict.fromkeys(values, path))
    sections = [f.name for f in dataclasses.fields(Settings)]
    unknown = sorted(set(merged) - set(sections))
    if unknown:
        named = sorted({str(p) for section in unknown for p in origin[section].values()})
        raise ConfigError(
            f"{''.join(f + ': ' for f in named)}unknown section(s): {', '.join(unknown)}; "
            f"known: {', '.join(sorted(sections))}"
        )
    return Settings(
        **{
            f.name: _build(f.default_factory, merged.get(f.name, {}), f.name, origin.get(f.name))
            for f in dataclasses.fields(Settings)
        }
    )
