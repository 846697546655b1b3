"""One source of truth for settings: a frozen dataclass per stage, defaults from configs/default.toml.

Precedence: CLI flags > the library's `dailies.toml` > configs/default.toml. Unknown keys are
errors that list the known ones, so a typo never passes silently.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError

# -- environment: every variable Dailies reads, read here and nowhere else ------------------------

ENVIRONMENT = {
    "DAILIES_LIBRARY": "library folder when --library is not given (default ./dailies-library)",
    "DAILIES_CONFIG_DIR": "folder of default.toml, models/, transcode/, tags/, reels.toml (default: the shipped configs)",
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


@dataclass(frozen=True)
class AnalysisSettings:
    short_side: int = 256
    max_long_side: int = 640
    detect_short_side: int = 64
    fast_decode: bool = True


@dataclass(frozen=True)
class ShotSettings:
    detector: str = "content"
    threshold: float = 27.0
    adaptive_threshold: float = 3.0
    min_scene_len: int = 15
    motion_ratio: float = 2.0
    motion_window: int = 2
    flash_frames: int = 3
    flash_similarity: float = 0.5
    gradual: bool = True
    dissolve_min_frames: int = 8
    dissolve_max_frames: int = 48
    dissolve_threshold: float = 20.0
    blend_ratio: float = 0.25
    dissolve_edge: float = 0.1
    dissolve_rise: float = 0.6
    fade_min_frames: int = 8
    fade_min_step: float = 0.5
    fade_max_step: float = 40.0
    fade_min_change: float = 40.0
    black_level: float = 24.0
    white_level: float = 230.0
    fade_floor: float = 2.0
    dip_max_seconds: float = 0.5
    min_contrast: float = 10.0

    def __post_init__(self):
        if self.detector not in ("content", "adaptive"):
            raise ConfigError(f"shots.detector must be 'content' or 'adaptive', not {self.detector!r}")
        if self.dissolve_min_frames < 4 or self.dissolve_max_frames < self.dissolve_min_frames:
            raise ConfigError("shots.dissolve_min_frames must be >= 4 and <= shots.dissolve_max_frames")
        if self.flash_frames < 1 or self.motion_window < 1:
            raise ConfigError("shots.flash_frames and shots.motion_window must be >= 1")


@dataclass(frozen=True)
class KeyframeSettings:
    seconds_per_keyframe: float = 4.0
    max_per_shot: int = 8
    jpeg_quality: int = 90


@dataclass(frozen=True)
class EmbedSettings:
    model: str = "vit-b-32"
    device: str = "auto"
    batch_size: int = 0
    allow_download: bool = False
    precision: str = "auto"
    decode_workers: int = 0
    cpu_threads: int = 0

    def __post_init__(self):
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"embed.device must be one of auto, cpu, cuda; got {self.device!r}")
        if self.precision not in ("auto", "fp32", "fp16"):
            raise ConfigError(f"embed.precision must be one of auto, fp32, fp16; got {self.precision!r}")
        if self.decode_workers < 0 or self.cpu_threads < 0 or self.batch_size < 0:
            raise ConfigError("[embed] batch_size, decode_workers and cpu_threads must be >= 0 (0 = automatic)")


@dataclass(frozen=True)
class IndexSettings:
    exact_max: int = 50_000
    large_encoding: str = "sq8"
    nlist: int = 0
    nprobe: int = 0
    pq_m: int = 64
    train_per_list: int = 64
    retrain_growth: float = 4.0

    def __post_init__(self):
        if self.large_encoding not in ("flat", "sq8", "pq"):
            raise ConfigError(f"index.large_encoding must be one of flat, sq8, pq; got {self.large_encoding!r}")
        if self.exact_max < 1 or self.nlist < 0 or self.nprobe < 0 or self.train_per_list < 1:
            raise ConfigError("[index] exact_max and train_per_list must be >= 1, nlist and nprobe >= 0 (0 = auto)")
        if self.retrain_growth <= 1.0:
            raise ConfigError(f"index.retrain_growth must be > 1.0; got {self.retrain_growth}")


@dataclass(frozen=True)
class SearchSettings:
    limit: int = 10
    oversample: int = 4


@dataclass(frozen=True)
class ReliabilitySettings:
    min_decoded_fraction: float = 0.98
    lock_wait: bool = False

    def __post_init__(self):
        if not 0 < self.min_decoded_fraction <= 1:
            raise ConfigError(f"reliability.min_decoded_fraction must be in (0, 1], got {self.min_decoded_fraction}")


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8765
    results: int = 48
    max_upload_mb: int = 10
    max_image_pixels: int = 40_000_000
    query_cache: int = 256
    threads: int = 1

    def __post_init__(self):
        if self.threads < 0:
            raise ConfigError(f"web.threads must be 0 (library defaults) or more, not {self.threads}")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"web.port must be between 1 and 65535, not {self.port}")
        if not 1 <= self.results <= 500:
            raise ConfigError(f"web.results must be between 1 and 500, not {self.results}")
        if self.max_upload_mb < 1:
            raise ConfigError(f"web.max_upload_mb must be at least 1, not {self.max_upload_mb}")


@dataclass(frozen=True)
class VerifySettings:
    checksum: str = "xxh64"
    write_mhl: bool = True

    def __post_init__(self):
        if self.checksum not in ("xxh64", "md5"):
            raise ConfigError(f"verify.checksum must be 'xxh64' or 'md5', not {self.checksum!r}")


@dataclass(frozen=True)
class ProxySettings:
    presets: str = ""
    burnin: bool = False
    burnin_items: str = "tc,clip,scene_take"
    font: str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

    def preset_names(self) -> list[str]:
        return [p.strip() for p in self.presets.split(",") if p.strip()]


@dataclass(frozen=True)
class BatchSettings:
    workers: int = 2
    watch_interval: float = 10.0
    settle_seconds: float = 5.0

    def __post_init__(self):
        if self.workers < 1:
            raise ConfigError(f"batch.workers must be at least 1, not {self.workers}")


@dataclass(frozen=True)
class ReportSettings:
    day_start_hour: int = 12

    def __post_init__(self):
        if not 0 <= self.day_start_hour <= 23:
            raise ConfigError(f"report.day_start_hour must be 0..23 (an hour of local time), not {self.day_start_hour}")


@dataclass(frozen=True)
class RaySettings:
    address: str = ""
    local_cpus: int = 0
    task_cpus: float = 1.0
    embed_actors: int = 0

    def __post_init__(self):
        if self.local_cpus < 0 or self.embed_actors < 0 or self.task_cpus <= 0:
            raise ConfigError("[ray] local_cpus and embed_actors must be >= 0 (0 = automatic), task_cpus > 0")


@dataclass(frozen=True)
class TakeSettings:
    # Regular expressions tried in order on the file name (no extension); named groups scene, setup,
    # take, camera, roll fill the take. The first pattern that sets a field wins.
    patterns: tuple = (
        r"(?i)(?:^|[^A-Z0-9])Sc(?:ene)?[-_ ]?(?P<scene>\d{1,4}[A-Z]{0,2})[-_ ]?(?:Tk|Take|T)[-_ ]?(?P<take>\d{1,3})(?![0-9])",
        r"(?:^|[^A-Z0-9])(?P<scene>\d{1,4}[A-Z]{0,2})[-_](?:T|TK)(?P<take>\d{1,3})(?![0-9])",
        r"^(?P<roll>(?P<camera>[A-Z])\d{3})_?C\d{3}",
    )


@dataclass(frozen=True)
class TagSettings:
    vocabulary: str = "default"
    short_side: int = 256
    frame_step: int = 2
    static_motion: float = 0.15
    move_motion: float = 0.6
    handheld_jitter: float = 0.35
    zoom_divergence: float = 0.004
    dark_luma: float = 0.22
    bright_luma: float = 0.62
    soft_sharpness: float = 60.0
    face_min_fraction: float = 0.06
    clip_min_margin: float = 0.02


@dataclass(frozen=True)
class SelectSettings:
    focus_weight: float = 1.0
    exposure_weight: float = 1.0
    stability_weight: float = 1.0
    completeness_weight: float = 1.0
    circled_weight: float = 0.5
    false_start_fraction: float = 0.5
    framing_similarity: float = 0.6


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

    def replace(self, section: str, **changes: Any) -> Settings:
        """A copy with some keys of one section changed (None values are ignored: 'unset')."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        current = getattr(self, section)
        return dataclasses.replace(
            self, **{section: _build(type(current), {**dataclasses.asdict(current), **changes}, section)}
        )


def settings_hash(*parts: Any) -> str:
    """Stable short hash of settings dataclasses / plain values: the key of derived work."""
    payload = json.dumps(
        [dataclasses.asdict(p) if dataclasses.is_dataclass(p) else p for p in parts],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _build(cls, values: dict, section: str):
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown key(s) in [{section}]: {', '.join(unknown)}; known keys: {', '.join(sorted(known))}"
        )
    typed = {}
    for name, value in values.items():
        want = type(known[name].default)
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if want is tuple and isinstance(value, list):
            value = tuple(value)
        if not isinstance(value, want):
            raise ConfigError(f"[{section}] {name} must be {want.__name__}, got {value!r}")
        typed[name] = value
    return cls(**typed)


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file or remove it") from None


def load_settings(*files: Path) -> Settings:
    """Defaults from configs/default.toml, then each existing file in order."""
    merged: dict[str, dict] = {}
    sources = [CONFIG_DIR / "default.toml", *[Path(f) for f in files if f and Path(f).exists()]]
    for path in sources:
        for section, values in _read_toml(path).items():
            if not isinstance(values, dict):
                raise ConfigError(f"{path}: top-level key {section!r} must be a [section]")
            merged.setdefault(section, {}).update(values)
    sections = {f.name: f.type for f in dataclasses.fields(Settings)}
    unknown = sorted(set(merged) - set(sections))
    if unknown:
        raise ConfigError(f"unknown section(s): {', '.join(unknown)}; known: {', '.join(sorted(sections))}")
    built = {}
    for f in dataclasses.fields(Settings):
        cls = type(getattr(Settings(), f.name))
        built[f.name] = _build(cls, merged.get(f.name, {}), f.name)
    return Settings(**built)
