"""Every proxy preset keeps the relink keys (clip name, source TC, reel), the frame count, the display
aspect, the rotation and the audio -- checked with ffprobe and ffmpeg on the files, not with our own reader:
the proxy's picture is compared with the source's stored picture turned by its display matrix, and every
audio track is read back (count, channels, rate, length, not silent)."""

import json
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from overnight_helpers import audio, audio_rms, camera_clip, ffprobe, gray_frame, rotation, tags, video

from pipeline.cli import main
from pipeline.transcode import list_presets

PRESETS = ["h264", "dnxhr-lb", "prores-proxy"]
# name -> (rate, frames, start TC, expected reel, audio tracks (channels each), extra ffmpeg args,
#          expected display w:h)
CLIPS = {
    "A001C001_220314_R1AB.mov": ("24000/1001", 30, "01:00:00:00", "A001", (2,), [], (320, 180)),
    "A001C002_220314_R1AB.mov": ("30000/1001", 36, "01:00:00;00", "A001", (), [], (320, 180)),
    # anamorphic 2:1 pixels: displayed 640x180 -> square-pixel proxy of that aspect; two mono tracks
    # (production sound on separate tracks) stay two tracks
    "A001C003_220314_R1AB.mov": ("25", 20, "10:00:00:00", "A001", (1, 1), ["-aspect", "32:9"], (640, 180)),
    # a phone clip shot upright: rotation in the display matrix -> the proxy is upright, 270x480
    # (DNxHR needs at least 256 pixels of width)
    "B002_C005_0314AB_001.mov": ("30000/1001", 20, "23:59:59;28", "B002", (2,), "rotate=90", (270, 480)),
    # the file's own reel name wins over the naming convention
    "A001C009_220314_R1AB.mov": (
        "24000/1001",
        20,
        "01:00:00:00",
        "TAPE42",
        (),
        ["-metadata:s:v:0", "reel_name=TAPE42"],
        (320, 180),
    ),
}


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    card = tmp_path_factory.mktemp("cards") / "A001"
    card.mkdir()
    for name, (rate, frames, tc, _reel, tracks, extra, _size) in CLIPS.items():
        rotate = int(extra.split("=")[1]) if isinstance(extra, str) else 0
        camera_clip(
            card / name,
            rate,
            frames,
            tc,
            audio=tracks == (2,),
            mono_tracks=tracks.count(1),
            extra=[] if rotate else extra,
            rotate=rotate,
            size="480x270" if rotate else "320x180",
        )
    lib = tmp_path_factory.mktemp("lib")
    code = main(
        ["ingest", str(card), "--library", str(lib), "--no-embed", "--proxies", ",".join(PRESETS), "--burnin", "--json"]
    )
    assert code == 0
    return card, lib


def upright_source(src: Path, stream: dict) -> np.ndarray:
    """The source's first frame as stored, turned the way its display matrix says (counter-clockwise degrees)."""
    stored = gray_frame(src, stream["width"], stream["height"], autorotate=False)
    return np.rot90(stored, k=rotation(stream) // 90)


def picture_difference(proxy: Path, upright: np.ndarray) -> float:
    """Mean luma difference of the proxy's first frame (scaled to the upright source's size) and the upright
    source, over the middle half of the rows (the burn-ins sit at the top and bottom edges)."""
    h, w = upright.shape
    rows = slice(h // 4, 3 * h // 4)
    return float(np.abs(gray_frame(proxy, w, h)[rows] - upright[rows]).mean())


def burnin_difference(proxy: Path, upright: np.ndarray) -> float:
    """Mean luma difference over the bottom eighth of the rows, where the TC and clip-name burn-ins sit."""
    h, w = upright.shape
    rows = slice(h - h // 8, h)
    return float(np.abs(gray_frame(proxy, w, h)[rows] - upright[rows]).mean())


def test_presets_are_data():
    assert set(PRESETS) <= set(list_presets())


def test_every_proxy_keeps_timecode_reel_frames_aspect_rotation_and_audio(proxied, capsys):
    card, lib = proxied
    capsys.readouterr()
    assert main(["clips", "--library", str(lib), "--json"]) == 0
    clips = {Path(c["path"]).name: c for c in json.loads(capsys.readouterr().out)["clips"]}
    assert set(clips) == set(CLIPS)
    for name, (rate, frames, tc, reel, tracks, _extra, (dw, dh)) in CLIPS.items():
        src = ffprobe(card / name, count=True)
        src_frames = int(video(src)["nb_read_frames"])
        assert src_frames == frames
        assert [a["channels"] for a in audio(src)] == list(tracks)
        upright = upright_source(card / name, video(src))
        c = clips[name]
        assert c["reel"] == reel and c["source_tc"]["start"] == tc
        assert c["source_tc"]["drop_frame"] == (";" in tc)
        assert sorted(p["preset"] for p in c["proxies"]) == sorted(PRESETS)
        for p in c["proxies"]:
            path = Path(p["path"])
            where = (name, p["preset"])
            assert path.stem == Path(name).stem  # clip name kept: the relink key
            out = ffprobe(path, count=True)
            v = video(out)
            assert tags(out, "timecode") == {tc}, where
            assert tags(out, "reel_name") == {reel}, where
            assert int(v["nb_read_frames"]) == src_frames, where
            assert Fraction(v["r_frame_rate"]) == Fraction(rate)
            # display aspect: square pixels at the display size, so every player shows the source's shape
            sar = Fraction(v.get("sample_aspect_ratio", "1:1").replace(":", "/"))
            assert sar in (0, 1)
            assert (v["width"], v["height"]) == (dw, dh), where
            # rotation: applied to the pixels (no display matrix left), and the picture is the source's
            # picture turned the right way -- not squeezed into the upright size, not turned the wrong way
            assert rotation(v) == 0, where
            assert picture_difference(path, upright) < 12, where
            assert burnin_difference(path, upright) > 5, where  # --burnin: text boxes drawn (without: ~1)
            if rotation(video(src)):
                assert picture_difference(path, np.rot90(upright, 2)) > 40, where  # a wrong turn would show
            # audio: every track, its channels, 48 kHz, the clip's length, and sound in it
            assert [a["channels"] for a in audio(out)] == list(tracks), where
            video_seconds = src_frames / float(Fraction(rate))
            for i, a in enumerate(audio(out)):
                assert int(a["sample_rate"]) == 48000, where
                assert abs(float(a["duration"]) - video_seconds) < 0.05, (where, a["duration"])
                assert audio_rms(path, i) > 1000, where  # the tone, not silence


def test_no_partial_files_left_and_a_rerun_makes_nothing(proxied, capsys):
    card, lib = proxied
    assert not list(lib.rglob("*.part"))
    capsys.readouterr()
    code = main(
        ["ingest", str(card), "--library", str(lib), "--no-embed", "--proxies", ",".join(PRESETS), "--burnin", "--json"]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["work_done"] == 0


def test_unknown_preset_is_a_usage_error(proxied, capsys):
    card, lib = proxied
    assert main(["ingest", str(card), "--library", str(lib), "--no-embed", "--proxies", "h265-hdr"]) == 2
    assert "known: dnxhr-lb, h264, prores-proxy" in capsys.readouterr().err


def test_our_probe_reads_tc_and_reel_back_from_mxf_and_mp4(proxied):
    from pipeline.media.probe import probe

    _card, lib = proxied
    for ext in ("mxf", "mp4", "mov"):
        info = probe(next(lib.glob(f"proxies/*/A001/A001C002_220314_R1AB.{ext}")))
        assert (info.start_tc, info.reel) == ("01:00:00;00", "A001"), ext


def test_burnin_filters_carry_drop_frame_timecode_at_the_clip_rate(tmp_path):
    from pipeline.config import ProxySettings
    from pipeline.media.probe import probe
    from pipeline.transcode import load_preset, make_burnin, output_args

    clip = camera_clip(tmp_path / "A001C004_x.mov", "30000/1001", 4, "01:00:00;00")
    info = probe(clip)
    burnin = make_burnin(ProxySettings(burnin=True), info, {"scene": "12A", "take": "3"})
    vf = output_args(load_preset("h264"), info, tmp_path / "o.mp4", "A001", burnin)
    vf = vf[vf.index("-vf") + 1]
    assert r"timecode='01\:00\:00\;00':rate=30000/1001" in vf
    assert "text='A001C004_x'" in vf and "text='Sc 12A Tk 3'" in vf
    with pytest.raises(Exception, match="fonts-dejavu-core"):
        output_args(
            load_preset("h264"),
            info,
            tmp_path / "o.mp4",
            "A001",
            make_burnin(ProxySettings(burnin=True, font="/nonexistent.ttf"), info, {}),
        )


def test_burnin_scene_take_from_camera_tags_else_from_the_file_name(tmp_path):
    from types import SimpleNamespace

    from pipeline.config import load_settings
    from pipeline.ingest.work import _scene_take

    settings = load_settings().replace("proxies", burnin=True)
    named = camera_clip(tmp_path / "A001C005_Sc12A_T3.mov", "25", 4)
    assert _scene_take(SimpleNamespace(settings=settings, path=str(named))) == {"scene": "12A", "take": "3"}
    tagged = camera_clip(
        tmp_path / "A001C005_Sc12A_T3b.mov",
        "25",
        4,
        extra=["-movflags", "use_metadata_tags", "-metadata", "scene=40", "-metadata", "take=7"],
    )
    assert _scene_take(SimpleNamespace(settings=settings, path=str(tagged))) == {"scene": "40", "take": "7"}


def test_clearing_partials_leaves_a_live_attempt_alone(tmp_path):
    """A worker clears what killed attempts on this machine left, never the temporary proxy another live
    attempt (this process's other worker, a rerun) or another machine (a Ray node) is writing."""
    from pipeline import transcode

    final = tmp_path / "A001C001.mp4"
    live = transcode.temp_path(final)  # this process: alive
    host = transcode._HOST
    dead = final.with_name(f".{final.name}.{host}-{2**22 + 12345}-deadbeef.part")  # above the kernel's largest pid_max
    elsewhere = final.with_name(f".{final.name}.othernode-{2**22 + 12345}-deadbeef.part")
    other = final.with_name(f".A001C002.mp4.{host}-{2**22 + 1}-cafe.part")  # another clip's attempt
    for p in (live, dead, elsewhere, other):
        p.write_bytes(b"x")
    transcode.clear_partials(final)
    assert live.exists() and elsewhere.exists() and other.exists() and not dead.exists()
    assert live.name.startswith(f".{final.name}.{host}-{os.getpid()}-")


def test_a_preset_is_only_data_a_new_file_is_a_new_preset_and_a_bad_one_is_named(tmp_path, monkeypatch):
    from pipeline import transcode
    from pipeline.errors import ConfigError
    from pipeline.media.probe import probe

    h264 = (transcode.TRANSCODE_DIR / "h264.toml").read_text()
    monkeypatch.setattr(transcode, "TRANSCODE_DIR", tmp_path)
    (tmp_path / "h264-small.toml").write_text(h264.replace("max_height = 1080", "max_height = 90"))
    (tmp_path / "broken.toml").write_text(h264 + 'bitrate = "8M"\n')
    assert transcode.list_presets() == ["broken", "h264-small"]
    info = probe(camera_clip(tmp_path / "A001C001.mov", "25", 4, "01:00:00:00"))
    args = transcode.output_args(transcode.load_preset("h264-small"), info, tmp_path / "o.mp4", "A001")
    assert "scale=160:90:flags=bicubic" in args[args.index("-vf") + 1]
    assert args[args.index("-c:v") + 1] == "libx264" and args[args.index("-timecode") + 1] == "01:00:00:00"
    with pytest.raises(ConfigError, match=r"broken\.toml: unknown key\(s\) \['bitrate'\]"):
        transcode.load_preset("broken")
