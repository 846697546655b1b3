import itertools
from fractions import Fraction

import pytest
from conftest import shared

from pipeline.errors import MediaError, NotVideo
from pipeline.media.frames import analysis_size, stream_frames
from pipeline.media.probe import parse_probe, probe
from pipeline.media.synth import make_cuts_clip


def _json(**video):
    v = {
        "codec_type": "video",
        "codec_name": "h264",
        "width": 1920,
        "height": 1080,
        "r_frame_rate": "24000/1001",
        "avg_frame_rate": "24000/1001",
        "nb_frames": "240",
        "duration": "10.01",
        "sample_aspect_ratio": "1:1",
    }
    v.update(video)
    return {
        "format": {"format_name": "mov,mp4", "duration": "10.01", "size": "1000", "tags": {"timecode": "01:00:00:00"}},
        "streams": [v],
    }


def test_parse_probe_fields():
    info = parse_probe("a.mov", _json(tags={"reel_name": "A001"}))
    assert info.fps == Fraction(24000, 1001) and not info.vfr and info.frame_count == 240
    assert info.start_tc == "01:00:00:00" and info.reel == "A001"
    assert info.to_json()["fps"] == "24000/1001"


def test_parse_probe_rejects_audio_stills_and_text():
    with pytest.raises(NotVideo, match="no video stream"):
        parse_probe("a.wav", {"format": {}, "streams": [{"codec_type": "audio"}]})
    with pytest.raises(NotVideo, match="still image"):
        parse_probe(
            "a.png", {"format": {"format_name": "png_pipe"}, "streams": [{"codec_type": "video", "codec_name": "png"}]}
        )
    with pytest.raises(NotVideo, match="text file"):
        parse_probe(
            "a.txt", {"format": {"format_name": "tty"}, "streams": [{"codec_type": "video", "codec_name": "ansi"}]}
        )


def test_parse_probe_without_a_frame_rate_says_what_to_do():
    with pytest.raises(MediaError, match="re-mux"):
        parse_probe("a.mov", _json(r_frame_rate="0/0", avg_frame_rate="0/0"))


def test_vfr_rotation_and_anamorphic_from_real_files():
    vfr = probe(shared("pyscenedetect/goldeneye-vfr-drop3.mp4"))
    assert vfr.vfr and vfr.fps == Fraction(24000, 1001)
    rot = probe(shared("pyscenedetect/issue-134-rotate.mp4"))
    assert rot.rotation == -90 and rot.display_size == (544, 1280)
    ana = probe(shared("pyscenedetect/issue-195-aspect-ratio.mp4"))
    assert ana.sar == Fraction(16, 11) and ana.display_size == (1024, 576)
    w, h = analysis_size(ana, 256, 640)
    assert abs(w / h - 1024 / 576) < 0.02


def test_vfr_frames_carry_their_own_timestamps():
    info = probe(shared("pyscenedetect/goldeneye-vfr-drop3.mp4"))
    times = [f.time for f in stream_frames(info)]
    assert len(times) == 160
    steps = {round(b - a, 3) for a, b in itertools.pairwise(times)}
    assert len(steps) > 1  # not a constant frame duration
    assert all(b > a for a, b in itertools.pairwise(times))


def test_frames_are_display_shaped_and_counted(tmp_path):
    clip = make_cuts_clip(tmp_path / "c.mp4", [12, 9], "25", size=(640, 360))
    frames = list(stream_frames(probe(clip), short_side=90, max_long_side=640))
    assert len(frames) == 21 and frames[0].image.shape == (90, 160, 3)
    assert frames[20].time == pytest.approx(20 / 25, abs=1e-3)


def test_probe_reads_reel_rotation_sar_tc_and_vfr_from_generated_files(tmp_path):
    """Every probe field the foundation names, from files made here (no ../shared/media needed)."""
    from pipeline.media.ffmpeg import ffmpeg_bin, run

    src = make_cuts_clip(tmp_path / "src.mov", [10, 10], "30000/1001")
    tagged = tmp_path / "A007C001.mov"  # a phone-style rotation, an anamorphic 2:1 pixel, reel + drop-frame TC
    run(
        [
            ffmpeg_bin(),
            "-v",
            "error",
            "-y",
            "-i",
            str(src),
            "-map",
            "0:v",
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
            "-aspect",
            "32:9",
            "-metadata:s:v:0",
            "reel_name=A007",
            "-timecode",
            "00:59:59;28",
            str(tagged),
        ],
        tagged,
        hint="could not make the test file",
    )
    info = probe(tagged)
    assert info.fps == Fraction(30000, 1001) and info.to_json()["fps"] == "30000/1001"
    assert info.frame_count == 20 and info.duration == pytest.approx(20 * 1001 / 30000, abs=2e-3)
    assert info.start_tc == "00:59:59;28" and info.reel == "A007"
    assert info.rotation in (90, -90) and info.sar == Fraction(2, 1)
    assert info.display_size == (180, 640)  # 320x180 at 2:1 pixels is 640x180, turned a quarter
    assert not info.vfr

    vfr = tmp_path / "vfr.mp4"  # 15 frames at 25 fps, then 15 at 12.5 fps
    run(
        [
            ffmpeg_bin(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=160x90:r=25,trim=end_frame=30,setpts='if(lt(N\\,15)\\,N/25\\,(N-7.5)/12.5)/TB'",
            "-fps_mode",
            "passthrough",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(vfr),
        ],
        vfr,
        hint="could not make the test file",
    )
    info = probe(vfr)
    assert info.vfr and info.frame_count == 30
    assert [round(f.time, 2) for f in stream_frames(info)][13:17] == [0.52, 0.56, 0.6, 0.68]
