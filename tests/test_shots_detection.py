"""Shot detection on generated footage with known answers: cuts, dissolves, fades, flashes, glitches,
pans, 23.976 and VFR timing. Media made with ffmpeg lavfi (fast, no fixtures)."""

import json
import subprocess
from fractions import Fraction

import pytest

from pipeline.analyze import analyze_file
from pipeline.cli import main
from pipeline.config import load_settings
from pipeline.media.ffmpeg import ffmpeg_bin
from pipeline.media.probe import probe
from pipeline.media.synth import make_cuts_clip

SIZE = "320x180"
ENC = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def lavfi(path, graph: str, extra: list[str] | None = None):
    argv = [
        ffmpeg_bin(),
        "-y",
        "-nostdin",
        "-loglevel",
        "error",
        "-filter_complex",
        graph,
        "-map",
        "[out]",
        *ENC,
        *(extra or []),
        str(path),
    ]
    subprocess.run(argv, check=True)
    return path


def analyze(path):
    return analyze_file(probe(path), load_settings(), with_keyframes=False)


def test_hard_cuts_are_cuts_not_gradual(tmp_path):
    clip = make_cuts_clip(tmp_path / "cuts.mp4", [40, 33, 50, 27], "25")
    a = analyze(clip)
    assert a.cuts == [40, 73, 123]
    assert a.gradual == []
    assert all(0.5 <= a.cut_confidence[c] <= 1.0 for c in a.cuts)


def test_one_second_cross_dissolve_is_one_gradual_range(tmp_path):
    # 3 s of testsrc2, 1 s xfade into 3 s of mandelbrot: frames 50..74 are blends (offset 2 s at 25 fps).
    clip = lavfi(
        tmp_path / "xfade.mp4",
        f"testsrc2=s={SIZE}:r=25:d=3,format=yuv420p[a];smptehdbars=s={SIZE}:r=25,trim=duration=3,"
        "setpts=PTS-STARTPTS,format=yuv420p[b];[a][b]xfade=transition=fade:duration=1:offset=2[out]",
    )
    a = analyze(clip)
    assert a.frame_count == 125
    assert a.cuts == []
    assert len(a.gradual) == 1
    g = a.gradual[0]
    assert g.kind == "dissolve"
    assert 48 <= g.first <= 54 and 70 <= g.last <= 76, (g.first, g.last)
    assert [s.start_frame for s in a.shots] == [0, g.middle]
    assert 0.5 <= a.shots[1].confidence <= 1.0


def test_fade_to_black_and_back(tmp_path):
    # out over frames 50..74 (2-3 s), 1 s of black (75..99: a shot of its own), in over frames 100..124
    clip = lavfi(
        tmp_path / "fade.mp4",
        f"testsrc2=s={SIZE}:r=25:d=4,fade=t=out:st=2:d=1,format=yuv420p[a];"
        f"testsrc2=s={SIZE}:r=25:d=3,fade=t=in:st=0:d=1,format=yuv420p[b];[a][b]concat=n=2:v=1:a=0[out]",
    )
    a = analyze(clip)
    assert a.cuts == []
    kinds = [(g.kind, g.first, g.last) for g in a.gradual]
    assert [k for k, _, _ in kinds] == ["fade_out", "fade_in"], kinds
    (_, f1, l1), (_, f2, l2) = kinds
    assert 49 <= f1 <= 52 and 70 <= l1 <= 75, kinds
    assert 99 <= f2 <= 102 and 120 <= l2 <= 125, kinds
    assert len(a.shots) == 3  # picture, black slug (with the fades' halves), picture


def test_dip_through_a_short_slug_is_one_transition(tmp_path):
    # out over 50..74, 0.2 s of black, in over 80..104: one `dip`, one boundary, no shot for the slug
    clip = lavfi(
        tmp_path / "dip.mp4",
        f"testsrc2=s={SIZE}:r=25:d=3.2,fade=t=out:st=2:d=1,format=yuv420p[a];"
        f"smptehdbars=s={SIZE}:r=25:d=3,fade=t=in:st=0:d=1,format=yuv420p[b];[a][b]concat=n=2:v=1:a=0[out]",
    )
    a = analyze(clip)
    assert a.cuts == []
    assert [g.kind for g in a.gradual] == ["dip"], a.gradual
    g = a.gradual[0]
    assert 49 <= g.first <= 52 and 100 <= g.last <= 105, (g.first, g.last)
    assert [s.start_frame for s in a.shots] == [0, g.middle]


AT50 = ":enable=eq(n\\,50)"
GLITCHES = {
    "white flash": "drawbox=x=0:y=0:w=iw:h=ih:c=white:t=fill" + AT50,
    "black frame": "drawbox=x=0:y=0:w=iw:h=ih:c=black:t=fill" + AT50,
    "corrupted frame": "drawbox=x=0:y=ih/3:w=iw:h=ih*2/3:c=0x00ff00:t=fill"
    + AT50
    + ",drawgrid=w=16:h=16:t=4:c=0xff00ff"
    + AT50,
}


@pytest.mark.parametrize("what", sorted(GLITCHES))
def test_single_frame_glitches_are_not_cuts(tmp_path, what):
    clip = lavfi(tmp_path / "glitch.mp4", f"testsrc2=s={SIZE}:r=25:d=4,{GLITCHES[what]},format=yuv420p[out]")
    a = analyze(clip)
    assert a.frame_count == 100
    assert a.cuts == [], what
    assert a.gradual == [], what
    assert set(a.rejected) <= {50, 51}  # what PySceneDetect proposed there was judged a flash


def test_fast_pan_is_not_a_cut(tmp_path):
    # a 640x360 window sweeping across a 3840-wide picture at 80 px per frame (a whip pan), then still
    clip = lavfi(
        tmp_path / "pan.mp4",
        "testsrc2=s=3840x720:r=25:d=4,crop=640:360:x='min(n*80\\,3200)':y=180,scale=320:180,format=yuv420p[out]",
    )
    a = analyze(clip)
    assert a.cuts == []
    assert a.gradual == []


def test_23976_frames_times_and_timecode(tmp_path, capsys):
    clip = make_cuts_clip(tmp_path / "ntsc.mov", [37, 50], "24000/1001", timecode="10:00:00:00")
    assert main(["shots", str(clip), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fps"] == "24000/1001" and data["frame_count"] == 87
    assert data["cuts"] == [37] and data["gradual"] == []
    second = data["shots"][1]
    assert second["start_frame"] == 37 and second["end_frame"] == 86
    assert second["start_time"] == pytest.approx(37 * 1001 / 24000, abs=1e-5)
    assert second["start_tc"] == "10:00:01:13"  # 37 frames counted at 24
    assert data["shots"][0]["end_tc"] == "10:00:01:12"


def test_vfr_frames_map_to_their_own_timestamps(tmp_path):
    # 24 fps shots of 48 and 48 frames, then every third frame dropped with timestamps kept:
    # decoded frame i is source frame i + i // 2, shown at (i + i // 2) / 24 s.
    src = make_cuts_clip(tmp_path / "cfr.mp4", [48, 48], "24")
    vfr = tmp_path / "vfr.mp4"
    subprocess.run(
        [
            ffmpeg_bin(),
            "-y",
            "-nostdin",
            "-loglevel",
            "error",
            "-i",
            str(src),
            "-vf",
            "select='not(eq(mod(n\\,3)\\,2))'",
            "-fps_mode",
            "passthrough",
            *ENC,
            str(vfr),
        ],
        check=True,
    )
    info = probe(vfr)
    assert info.vfr and info.fps == Fraction(24)  # nominal rate; the average is 16 fps
    a = analyze(vfr)
    assert a.frame_count == 64
    assert a.cuts == [32]  # source frame 48
    shot = a.shots[1]
    assert shot.start_time == pytest.approx(2.0, abs=1e-3)
    assert shot.start_tc == "00:00:02:00"
    assert a.shots[0].end_time == pytest.approx(2.0, abs=1e-3)


def test_ingest_stores_boundary_confidences_and_transitions(tmp_path):
    from pipeline.catalog import open_catalog

    card = tmp_path / "card"
    card.mkdir()
    # 2 s testsrc2, 1 s dissolve into smptehdbars, then a hard cut to a colour field at frame 125
    lavfi(
        card / "A001C001.mp4",
        f"testsrc2=s={SIZE}:r=25:d=3,format=yuv420p[a];smptehdbars=s={SIZE}:r=25,trim=duration=3,"
        "setpts=PTS-STARTPTS,format=yuv420p[b];[a][b]xfade=transition=fade:duration=1:offset=2[x];"
        f"color=c=0x2050a0:s={SIZE}:r=25:d=1,format=yuv420p[c];[x][c]concat=n=2:v=1:a=0[out]",
    )
    lib = tmp_path / "lib"
    assert main(["ingest", str(card), "--library", str(lib), "--no-embed", "--json"]) == 0
    catalog = open_catalog(lib, create=False)
    try:
        clip = catalog.clips()[0]
        shots = catalog.shots(clip["id"])
        gradual = catalog.gradual(clip["id"])
        assert len(gradual) == 1 and gradual[0]["kind"] == "dissolve"
        g = gradual[0]
        assert 48 <= g["first_frame"] <= 54 and 70 <= g["last_frame"] <= 76
        assert 0.5 <= g["confidence"] <= 1.0
        middle = (g["first_frame"] + g["last_frame"] + 1) // 2
        assert [s["start_frame"] for s in shots] == [0, middle, 125]
        assert shots[0]["confidence"] == 1.0
        assert shots[1]["confidence"] == g["confidence"]
        assert 0.5 <= shots[2]["confidence"] <= 1.0
    finally:
        catalog.close()
