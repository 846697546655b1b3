"""ffprobe JSON (through ffmpeg-python) -> MediaInfo. Pure parsing in `parse_probe`, I/O in `probe`."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import ffmpeg

from pipeline.errors import FFmpegFailed, MediaError, NotVideo
from pipeline.media.ffmpeg import ffprobe_bin, safe_input

# Image codecs that ffprobe reports as a "video" stream of one picture (stills, cover art).
_STILL_CODECS = {"png", "mjpeg", "bmp", "gif", "tiff", "webp", "jpeg2000", "ppm", "pgm", "pam", "exr", "dpx"}
_STILL_FORMATS = {
    "image2",
    "png_pipe",
    "jpeg_pipe",
    "bmp_pipe",
    "tiff_pipe",
    "webp_pipe",
    "gif",
    "dpx_pipe",
    "exr_pipe",
}
# Demuxers/codecs that turn non-video into pictures: ffmpeg renders text files as ANSI art ("tty").
_TEXT_FORMATS = {"tty"}
_TEXT_CODECS = {"ansi", "bintext", "xbin", "idf"}
_VFR_TOLERANCE = 0.01  # avg rate more than 1% away from the nominal rate -> variable frame rate
# Frame rates a camera original can have. Outside this a header is damaged (a 0 timescale reads as 1/512 fps).
_MIN_FPS, _MAX_FPS = 1, 1000


@dataclass(frozen=True)
class MediaInfo:
    path: str
    format_name: str
    duration: float
    size: int
    codec: str
    width: int
    height: int
    fps: Fraction  # nominal rate (r_frame_rate), the timecode rate
    avg_fps: Fraction
    frame_count: int  # from the container when it says, else duration * fps (exact count comes from decoding)
    frame_count_exact: bool
    sar: Fraction
    rotation: int  # degrees, as the display matrix says (counter-clockwise)
    vfr: bool
    pix_fmt: str = ""
    field_order: str = ""
    start_tc: str | None = None
    reel: str | None = None
    audio: list[dict] = field(default_factory=list)
    take_tags: dict = field(default_factory=dict)  # scene/take/camera/roll/circled/notes as the file's tags say
    notes: list[str] = field(default_factory=list)  # header oddities worked around (shown as warnings)

    @property
    def display_size(self) -> tuple[int, int]:
        """Width, height as shown: sample aspect ratio applied, rotation applied."""
        w = self.width * float(self.sar) if self.sar > 0 else float(self.width)
        h = float(self.height)
        if self.rotation % 180 != 0:
            w, h = h, w
        return max(1, round(w)), max(1, round(h))

    def to_json(self) -> dict:
        d = asdict(self)
        d["fps"] = _ratio(self.fps)
        d["avg_fps"] = _ratio(self.avg_fps)
        d["sar"] = f"{self.sar.numerator}:{self.sar.denominator}"
        d["display_width"], d["display_height"] = self.display_size
        return d

    @classmethod
    def from_json(cls, d: dict) -> MediaInfo:
        d = dict(d)
        d.pop("display_width", None)
        d.pop("display_height", None)
        d["fps"] = Fraction(d["fps"])
        d["avg_fps"] = Fraction(d["avg_fps"])
        d["sar"] = Fraction(d["sar"].replace(":", "/"))
        return cls(**d)


def _ratio(f: Fraction) -> str:
    return f"{f.numerator}/{f.denominator}"


def _fraction(text: str | None) -> Fraction:
    if not text or text in ("0/0", "N/A"):
        return Fraction(0)
    try:
        return Fraction(text.replace(":", "/"))
    except (ValueError, ZeroDivisionError):
        return Fraction(0)


def _rotation(stream: dict) -> int:
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return int(round(float(side["rotation"])))
    rotate = (stream.get("tags") or {}).get("rotate")
    return -int(rotate) if rotate and rotate.lstrip("-").isdigit() else 0


_TC_KEYS = ("timecode",)
_REEL_KEYS = ("reel_name", "reel", "tape", "tape_name", "com.apple.proapps.reel", "com.apple.proapps.studio.reel")
# container tags that name take fields (QuickTime/MP4 keys as written by `ffmpeg -movflags use_metadata_tags
# -metadata scene=12A`, and Final Cut Pro's own Scene/Take/Camera Angle keys); `pipeline.editorial.takes` reads them
TAKE_TAG_KEYS = {
    "scene": ("scene", "com.apple.proapps.studio.scene"),
    "take": ("take", "com.apple.proapps.studio.shot"),
    "camera": ("camera", "com.apple.proapps.studio.angle"),
    "roll": ("roll", "camera_roll", "camroll"),
    "circled": ("circled", "circle"),
    "notes": ("notes", "take_notes"),
}


def _find_tag(data: dict, keys) -> str | None:
    sources = [data.get("format", {}).get("tags") or {}] + [s.get("tags") or {} for s in data.get("streams", [])]
    for tags in sources:
        lowered = {k.lower(): v for k, v in tags.items()}
        for key in keys:
            if lowered.get(key):
                return str(lowered[key]).strip()
    return None


def parse_probe(path: str, data: dict) -> MediaInfo:
    """Turn ffprobe's JSON into MediaInfo; raise NotVideo when there is no usable moving picture."""
    streams = data.get("streams", [])
    fmt = data.get("format", {})
    videos = [
        s for s in streams if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audio = [
        {
            "index": s.get("index"),
            "codec": s.get("codec_name"),
            "channels": s.get("channels"),
            "layout": s.get("channel_layout"),
            "sample_rate": s.get("sample_rate"),
        }
        for s in streams
        if s.get("codec_type") == "audio"
    ]
    if not videos:
        kinds = sorted({s.get("codec_type", "?") for s in streams}) or ["nothing"]
        raise NotVideo(path, f"no video stream (found: {', '.join(kinds)}); skipped -- not a camera clip")
    v = videos[0]
    codec = v.get("codec_name", "?")
    fmt_name = fmt.get("format_name", "")
    if fmt_name in _TEXT_FORMATS or codec in _TEXT_CODECS:
        raise NotVideo(path, "a text file, not a video; skipped")
    if codec in _STILL_CODECS and (fmt_name in _STILL_FORMATS or int(v.get("nb_frames") or 0) <= 1):
        raise NotVideo(path, f"a still image ({codec}), not a video; skipped")
    fps = _fraction(v.get("r_frame_rate"))
    avg = _fraction(v.get("avg_frame_rate"))
    if not _MIN_FPS <= fps <= _MAX_FPS:
        fps = avg
    if not _MIN_FPS <= fps <= _MAX_FPS:
        raise MediaError(
            path,
            f"no usable frame rate in the file header (r_frame_rate={v.get('r_frame_rate')}, "
            f"avg_frame_rate={v.get('avg_frame_rate')}); re-mux the file with ffmpeg and try again",
        )
    if avg <= 0:
        avg = fps
    vfr = abs(float(avg) - float(fps)) / float(fps) > _VFR_TOLERANCE
    duration = float(v.get("duration") or fmt.get("duration") or 0.0)
    notes = []
    container = float(fmt.get("duration") or 0.0)
    if v.get("duration") and container > 2 * duration + 10:
        notes.append(
            f"the container claims {container:.0f} s but the video stream lasts {duration:.1f} s: "
            f"the header is damaged; Dailies used the stream's duration -- re-mux the file to fix its header"
        )
    nb = v.get("nb_frames")
    exact = bool(nb and str(nb).isdigit() and int(nb) > 0)
    frame_count = int(nb) if exact else int(round(duration * float(avg)))
    sar = _fraction(v.get("sample_aspect_ratio")) or Fraction(1)
    return MediaInfo(
        path=path,
        format_name=fmt_name,
        duration=duration,
        size=int(fmt.get("size") or 0),
        codec=codec,
        width=int(v.get("width") or 0),
        height=int(v.get("height") or 0),
        fps=fps,
        avg_fps=avg,
        frame_count=frame_count,
        frame_count_exact=exact,
        sar=sar,
        rotation=_rotation(v),
        vfr=vfr,
        pix_fmt=v.get("pix_fmt", ""),
        field_order=v.get("field_order", ""),
        start_tc=_find_tag(data, _TC_KEYS),
        reel=_find_tag(data, _REEL_KEYS),
        audio=audio,
        take_tags={k: v for k, keys in TAKE_TAG_KEYS.items() if (v := _find_tag(data, keys))},
        notes=notes,
    )


_QT_ATOMS = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot", b"uuid"}


def _starts_like_quicktime(p: Path) -> bool:
    """The file begins with a QuickTime/MP4 atom: a real MP4/MOV, whatever is wrong with the rest of it."""
    with open(p, "rb") as fh:
        return fh.read(8)[4:8] in _QT_ATOMS


def probe(path: str | os.PathLike) -> MediaInfo:
    """Probe one file. Raises MediaError subclasses with a message that names the file."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise MediaError(p, f"cannot read file ({exc.strerror}); check that it exists and is readable") from None
    if size == 0:
        raise MediaError(p, "file is empty (0 bytes); the copy from the card probably failed -- copy it again")
    cmd = ffprobe_bin()
    try:
        data = ffmpeg.probe(safe_input(p.resolve()), cmd=cmd, v="error")
    except ffmpeg.Error as exc:
        stderr = (exc.stderr or b"").decode(errors="replace")
        if "moov atom not found" in stderr and _starts_like_quicktime(p):
            hint = (
                "the MP4/MOV index (moov atom) is missing: the file is truncated -- the recording or the copy "
                "was cut short; copy it from the card again (untrunc can rebuild it with a good clip from the "
                "same camera)"
            )
        else:
            hint = (
                "not a media file ffprobe can read, or a damaged one (truncated copy?): check the file, "
                "copy it from the card again"
            )
        raise FFmpegFailed(p, [cmd, "-show_format", "-show_streams", str(p)], 1, stderr, hint) from None
    return parse_probe(str(p), data)
