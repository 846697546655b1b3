from fractions import Fraction

import pytest

from pipeline.errors import ConfigError
from pipeline.ingest.reels import load_patterns, reel_from_name, resolve_reel
from pipeline.timecode import exact_rate, frame_tc, frames_to_tc, tc_to_frames

R23976, R2997, R5994 = Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)


@pytest.mark.parametrize(
    "rate, drop, frames, tc",
    [
        (R23976, False, 86400, "01:00:00:00"),  # 23.976 counts 24 frames per timecode second
        (R23976, False, 86400 + 23, "01:00:00:23"),
        (Fraction(24), False, 86400 * 2 + 5, "02:00:00:05"),
        (Fraction(25), False, 90000 + 24, "01:00:00:24"),
        (R2997, True, 1800, "00:01:00;02"),  # frames 00 and 01 are dropped at every minute ...
        (R2997, True, 17982, "00:10:00;00"),  # ... except every tenth
        (R2997, True, 107892, "01:00:00;00"),
        (Fraction(50), False, 180000 + 49, "01:00:00:49"),
        (R5994, True, 3600, "00:01:00;04"),  # 59.94 DF drops four frame numbers a minute
        (R5994, True, 35964, "00:10:00;00"),
    ],
)
def test_timecode_arithmetic(rate, drop, frames, tc):
    assert frames_to_tc(frames, rate, drop) == tc
    assert tc_to_frames(tc, rate) == frames


def test_clip_frame_timecodes_offset_by_start():
    assert frame_tc(1800, R2997, "01:00:00;00") == "01:01:00;02"
    assert frame_tc(1799, R2997, "01:00:00;00") == "01:00:59;29"
    assert frame_tc(47, R23976, "10:00:00:00") == "10:00:01:23"
    assert frame_tc(3600, R5994, "00:59:00;04") == "01:00:00;04"


@pytest.mark.parametrize(
    "name, reel",
    [
        ("A001C003_220314_R1AB.mxf", "A001"),  # ARRI
        ("A001C003_220314_R1AB.ari", "A001"),
        ("B012_C005_0314AB_001.R3D", "B012"),  # RED
        ("A007_03141230_C003.braw", "A007"),  # Blackmagic
        ("C045C012_230101AB.mp4", "C045"),  # Sony Venice / Canon style
    ],
)
def test_reel_from_camera_file_names(name, reel):
    found = reel_from_name(f"/cards/{reel}/{name}", load_patterns())
    assert found and found[0] == reel


def test_sony_xdcam_reel_is_the_card_folder_and_metadata_wins():
    patterns = load_patterns()
    assert reel_from_name("/cards/SONY_A_DAY1/C0003.MP4", patterns)[0] == "SONY_A_DAY1"
    assert resolve_reel("/cards/A001/A001C003_220314_R1AB.mov", "TAPE42", patterns) == ("TAPE42", "metadata")
    assert resolve_reel("/cards/x/interview final.mov", None, patterns) == (None, None)


def test_a_library_can_add_its_own_reel_pattern(tmp_path):
    own = tmp_path / "reels.toml"
    own.write_text("[[pattern]]\ncamera = \"show\"\nregex = '^SH(?P<reel>[0-9]{2})_'\n")
    assert reel_from_name("/x/SH07_take2.mov", load_patterns(own)) == ("07", "show")
    own.write_text('[[pattern]]\nregex = "^(no group)"\n')
    with pytest.raises(ConfigError, match="named group"):
        load_patterns(own)


def test_exact_rate_reads_written_and_float_ntsc_rates_exactly():
    from fractions import Fraction

    for written, exact in (
        ("23.976", Fraction(24000, 1001)),
        ("23.976023976", Fraction(24000, 1001)),
        (30000 / 1001, Fraction(30000, 1001)),
        ("29.97", Fraction(30000, 1001)),
        ("59.94", Fraction(60000, 1001)),
        ("30000/1001", Fraction(30000, 1001)),
        ("25", Fraction(25)),
        (24.0, Fraction(24)),
        ("50", Fraction(50)),
        ("12.5", Fraction(25, 2)),
    ):
        assert exact_rate(written) == exact, written
    with pytest.raises(ValueError):
        exact_rate("fast")
