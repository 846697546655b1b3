"""Editorial proxies: presets as data (configs/transcode/NAME.toml) -> ffmpeg output arguments.

Every proxy keeps the three relink keys -- clip name (the file name), source start timecode and
reel/tape name (in the container's metadata) -- plus the display aspect (square pixels at the
display size), the rotation (applied, so the proxy plays upright) and the audio. The arguments
are one ffmpeg *output*: they can be appended to the analysis decode (media/frames.py
`extra_outputs`), so proxies and analysis share one decode of the source.

Outputs are written under a temporary name and renamed only once ffmpeg succeeded and the file
holds the expected number of frames: a half-written proxy never counts as done.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import tomllib
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import ffmpeg

from pipeline.config import CONFIG_DIR, ProxySettings
from pipeline.errors import ConfigError, FFmpegFailed, MediaError, UsageError
from pipeline.media.ffmpeg import ffprobe_bin, safe_input
from pipeline.media.probe import MediaInfo

TRANSCODE_DIR = CONFIG_DIR / "transcode"
_KEYS = {"description", "format", "extension", "max_height", "size_multiple", "video", "audio", "muxer"}


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    format: str
    extension: str
    max_height: int
    size_multiple: int
    video: tuple[str, ...]
    audio: tuple[str, ...]
    muxer: tuple[str, ...]

    def to_json(self) -> dict:
        return asdict(self)


def list_presets() -> list[str]:
    return sorted(p.stem for p in TRANSCODE_DIR.glob("*.toml"))


def load_preset(name: str) -> Preset:
    path = TRANSCODE_DIR / f"{name}.toml"
    if not path.exists():
        raise UsageError(f"unknown proxy preset {name!r}; known: {', '.join(list_presets())} (configs/transcode/)")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    unknown = set(data) - _KEYS
    missing = _KEYS - set(data)
    if unknown or missing:
        raise ConfigError(f"{path}: unknown key(s) {sorted(unknown)}, missing {sorted(missing)}; keys: {sorted(_KEYS)}")
    return Preset(
        name=name,
        description=data["description"],
        format=data["format"],
        extension=data["extension"],
        max_height=int(data["max_height"]),
        size_multiple=int(data["size_multiple"]),
        video=tuple(data["video"]),
        audio=tuple(data["audio"]),
        muxer=tuple(data["muxer"]),
    )


def load_presets(names: list[str]) -> list[Preset]:
    return [load_preset(n) for n in dict.fromkeys(names)]


def proxy_size(info: MediaInfo, preset: Preset) -> tuple[int, int]:
    """Display size (SAR and rotation applied), at most max_height tall, rounded to size_multiple."""
    dw, dh = info.display_size
    scale = min(1.0, preset.max_height / dh)
    m = max(1, preset.size_multiple)
    return max(m, int(round(dw * scale / m)) * m), max(m, int(round(dh * scale / m)) * m)


_SAFE_TEXT = re.compile(r"[^A-Za-z0-9 _.#/+\-]")


def _text(value: str) -> str:
    """Burn-in text safe inside ffmpeg's filter-graph quoting (other characters become '_')."""
    return _SAFE_TEXT.sub("_", value)[:80]


@dataclass(frozen=True)
class BurnIn:
    items: tuple[str, ...]
    font: str
    clip_name: str
    start_tc: str | None
    fps: Fraction
    scene_take: str | None = None


def burnin_filters(b: BurnIn, height: int) -> list[str]:
    if not Path(b.font).is_file():
        raise UsageError(
            f"burn-in font {b.font} not found: install fonts-dejavu-core (scripts/setup.sh) "
            f"or set [proxies] font to a .ttf file that exists"
        )
    size = max(10, height // 20)
    style = f"fontfile={b.font}:fontsize={size}:fontcolor=white:box=1:boxcolor=black@0.55:boxborderw={size // 4}"
    out = []
    if "tc" in b.items:
        tc = b.start_tc or "00:00:00:00"
        escaped = tc.replace(":", r"\:").replace(";", r"\;")
        rate = f"{b.fps.numerator}/{b.fps.denominator}"
        out.append(f"drawtext={style}:timecode='{escaped}':rate={rate}:x=w-tw-{size // 2}:y=h-th-{size // 2}")
    if "clip" in b.items:
        out.append(f"drawtext={style}:expansion=none:text='{_text(b.clip_name)}':x={size // 2}:y=h-th-{size // 2}")
    if "scene_take" in b.items and b.scene_take:
        out.append(f"drawtext={style}:expansion=none:text='{_text(b.scene_take)}':x={size // 2}:y={size // 2}")
    return out


def format_tags(path: str) -> dict[str, str]:
    """The container's tags, lower-cased keys (scene/take for burn-ins when the camera wrote them)."""
    try:
        data = ffmpeg.probe(safe_input(path), cmd=ffprobe_bin())
    except ffmpeg.Error:
        return {}
    return {k.lower(): str(v) for k, v in (data.get("format", {}).get("tags") or {}).items()}


def make_burnin(settings: ProxySettings, info: MediaInfo, tags: dict[str, str]) -> BurnIn | None:
    if not settings.burnin:
        return None
    items = settings.burnin_item_names()
    scene, take = tags.get("scene"), tags.get("take")
    scene_take = " ".join(x for x in (f"Sc {scene}" if scene else "", f"Tk {take}" if take else "") if x) or None
    return BurnIn(items, settings.font, Path(info.path).stem, info.start_tc, info.fps, scene_take)


def output_args(
    preset: Preset, info: MediaInfo, out_path: str | os.PathLike, reel: str | None, burnin: BurnIn | None = None
) -> list[str]:
    """One ffmpeg output (maps, filters, codecs, metadata, file) reading input 0."""
    w, h = proxy_size(info, preset)
    vf = [f"scale={w}:{h}:flags=bicubic", "setsar=1", *(burnin_filters(burnin, h) if burnin else [])]
    args = [
        "-map",
        "0:v:0",
        "-map",
        "0:a?",
        "-fps_mode",
        "passthrough",
        "-vf",
        ",".join(vf),
        *preset.video,
        *preset.audio,
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
    ]
    if info.start_tc:
        args += ["-timecode", info.start_tc]
    if reel:
        args += ["-metadata", f"reel_name={reel}", "-metadata:s:v:0", f"reel_name={reel}"]
    args += [*preset.muxer, "-f", preset.format, "-y", os.fspath(out_path)]
    return args


_HOST = re.sub(r"[^A-Za-z0-9_]+", "_", socket.gethostname()) or "host"


def temp_path(final: Path) -> Path:
    """Where the proxy is written until it is complete; unique per attempt (a killed or cancelled attempt's
    ffmpeg may still be writing its own), named by the machine and process that write it."""
    return final.with_name(f".{final.name}.{_HOST}-{os.getpid()}-{secrets.token_hex(4)}.part")


def clear_partials(final: Path) -> None:
    """Remove temporary proxies left by attempts whose process is gone (killed, crashed). A temporary
    file of a live process (this one included: another worker thread) is its own to finish or remove,
    and so is one written on another machine (a Ray node sharing the library), whose processes we
    cannot see: it is removed when a run on that machine next works on the clip."""
    for stale in final.parent.glob(f".{final.name}.*.part"):
        owner = stale.name[len(final.name) + 2 : -len(".part")].rsplit("-", 2)
        if len(owner) != 3 or not owner[1].isdigit():
            continue  # not a name we write
        host, pid = owner[0], int(owner[1])
        if host != _HOST or _alive(pid):
            continue
        stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


@dataclass(frozen=True)
class ProxyCheck:
    frame_count: int
    start_tc: str | None
    reel: str | None


def inspect(path: str | os.PathLike) -> ProxyCheck:
    """Frame count (container's count, else duration x rate), start TC and reel name as ffprobe reads them."""
    try:
        data = ffmpeg.probe(safe_input(path), cmd=ffprobe_bin())
    except ffmpeg.Error as exc:
        raise FFmpegFailed(
            path,
            [ffprobe_bin(), os.fspath(path)],
            1,
            (exc.stderr or b"").decode(errors="replace"),
            "the proxy cannot be read back",
        ) from None
    video = next((s for s in data.get("streams", []) if s.get("codec_type") == "video"), None)
    if video is None:
        raise MediaError(path, "the proxy has no video stream")
    nb = str(video.get("nb_frames") or "")
    if nb.isdigit() and int(nb) > 0:
        frames = int(nb)
    else:
        rate = Fraction(video.get("r_frame_rate") or "0/1")
        dur = float(video.get("duration") or data.get("format", {}).get("duration") or 0)
        frames = int(round(dur * float(rate)))
    tags = [data.get("format", {}).get("tags") or {}] + [s.get("tags") or {} for s in data.get("streams", [])]
    tc = next((t["timecode"] for t in tags if t.get("timecode")), None)
    reel = next((t["reel_name"] for t in tags if t.get("reel_name")), None)
    return ProxyCheck(frames, tc, reel)


def finish(temp: Path, final: Path, expected_frames: int, start_tc: str | None, reel: str | None) -> ProxyCheck:
    """Check a written temp proxy against the source and rename it into place; raise (and delete it) if wrong."""
    try:
        check = inspect(temp)
        problems = []
        if check.frame_count != expected_frames:
            problems.append(f"{check.frame_count} frames, the source has {expected_frames}")
        if start_tc and check.start_tc != start_tc:
            problems.append(f"start timecode {check.start_tc}, the source has {start_tc}")
        if reel and check.reel != reel:
            problems.append(f"reel {check.reel!r}, the source has {reel!r}")
        if problems:
            raise MediaError(
                final,
                "proxy does not match its source (" + "; ".join(problems) + "); it was not kept -- "
                "run the ingest again to redo it; if it fails again, check the source file",
            )
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    os.replace(temp, final)
    return check
