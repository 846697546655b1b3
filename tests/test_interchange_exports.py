"""Exports as the NLEs read them: EDL FCM/record start/reels/source file (read back by pycmx, independent of
OTIO), FCP 7 XML drop-frame, markers, paths and rates without SMPTE timecode, the path map in every format."""

from __future__ import annotations

import io
from fractions import Fraction
from xml.etree import ElementTree

import pycmx
import pytest

from pipeline.config import ExportSettings
from pipeline.errors import ConfigError
from pipeline.export import EXPORTERS, ExportItem, export_bytes
from pipeline.timecode import frames_to_tc, tc_to_frames

DF = Fraction(30000, 1001)


def item(rate=DF, tc="01:00:00;00", name="A026C019_170614_R287", path=None, **kw) -> ExportItem:
    return ExportItem(
        name, path or f"/Volumes/RAID/day01/{name}.mov", rate, 10, 50, tc, "A026", 1000, markers=[(12, "CU", "x")], **kw
    )


def pycmx_events(text: str):
    edl = pycmx.parse_cmx3600(io.StringIO(text))
    return [e for ev in edl.events for e in ev.edits]


def test_edl_declares_fcm_starts_at_the_record_start_and_names_the_source_file():
    text = export_bytes([item(), item(name="B027C005_170615_R6L6", tc="02:00:00;00")], "edl").decode()
    assert text.splitlines()[1] == "FCM: DROP FRAME"
    edits = pycmx_events(text)
    assert [(e.source, e.source_file) for e in edits] == [
        ("A026C019", "A026C019_170614_R287.mov"),
        ("B027C005", "B027C005_170615_R6L6.mov"),
    ]
    assert [e.record_in for e in edits] == ["01:00:00;00", "01:00:01;10"]  # NLE convention, drop-frame
    assert edits[0].source_in == frames_to_tc(tc_to_frames("01:00:00;00", DF) + 10, DF, True)
    later = export_bytes([item()], "edl", settings=ExportSettings(record_start="10:00:00:00")).decode()
    assert pycmx_events(later)[0].record_in == "10:00:00;00"
    with pytest.raises(ConfigError, match="record_start"):
        ExportSettings(record_start="1h")


def test_edl_reels_are_valid_cmx_reels_and_the_roll_is_a_setting():
    odd = item(name="Ünï code take 1", rate=Fraction(24), tc="01:00:00:00")
    edits = pycmx_events(export_bytes([odd], "edl").decode())
    assert edits[0].source == "Unicodet"  # ASCII letters/digits, 8 characters: OTIO and pycmx read it back
    edits = pycmx_events(export_bytes([item()], "edl", settings=ExportSettings(tape="reel")).decode())
    assert edits[0].source == "A026"
    # a file whose metadata carries the camera's reel name: Avid takes that as the tape
    tagged = item(reel_source="metadata")
    tagged.reel = "A026R2EC"
    assert pycmx_events(export_bytes([tagged], "edl").decode())[0].source == "A026R2EC"
    assert "\tA026R2EC\t" in export_bytes([tagged], "ale").decode()


@pytest.mark.parametrize("rate", [Fraction(10), Fraction(26777, 1000)], ids=["10", "26.777"])
def test_rates_without_smpte_timecode_export_in_every_format(rate):
    its = [item(rate=rate, tc="01:00:00:00")]
    for fmt in EXPORTERS:
        assert export_bytes(its, fmt)  # no traceback, no refusal
    n = round(float(rate))
    edits = pycmx_events(export_bytes(its, "edl").decode())
    assert (
        tc_to_frames(edits[0].source_in, n) == 3600 * n + 10 and tc_to_frames(edits[0].source_out, n) == 3600 * n + 50
    )
    xml = ElementTree.fromstring(export_bytes(its, "xml"))
    assert xml.find(".//file/rate/timebase").text == str(n)


def test_fcp7_xml_drop_frame_markers_in_the_clip_and_premiere_paths():
    xml = ElementTree.fromstring(export_bytes([item()], "xml"))
    tc = xml.find(".//file/timecode")
    assert (tc.find("string").text, tc.find("displayformat").text) == ("01:00:00;00", "DF")
    seq = xml.find(".//sequence/timecode")
    assert (seq.find("string").text, seq.find("displayformat").text) == ("01:00:00;00", "DF")
    marker = xml.find(".//clipitem/marker")
    assert marker.find("in").text == "12"  # frame 12 of the media, inside the clip's in/out (10-50)
    assert xml.find(".//pathurl").text == "file://localhost/Volumes/RAID/day01/A026C019_170614_R287.mov"


def test_the_path_map_is_applied_to_every_format():
    settings = ExportSettings(path_map=("/Volumes/RAID=/mnt/show",))
    for fmt in EXPORTERS:
        text = export_bytes([item()], fmt, settings=settings).decode()
        assert "/mnt/show/day01/A026C019_170614_R287.mov" in text, fmt
        assert "/Volumes/RAID" not in text, fmt
    with pytest.raises(ConfigError, match="FROM=TO"):
        ExportSettings(path_map=("/Volumes/RAID",))


def test_the_clips_own_sound_is_in_every_format_that_carries_audio(tmp_path):
    from pipeline.export import read_back

    its = [item(audio_channels=2), item(name="B027C005_170615_R6L6", tc="02:00:00;00")]  # the second is silent
    edits = pycmx_events(export_bytes(its, "edl").decode())
    assert [(e.channels.video, list(e.channels.channels)) for e in edits] == [(True, [1, 2]), (True, [])]
    xml_text = export_bytes(its, "xml").decode()
    xml = ElementTree.fromstring(xml_text)
    audio = xml.findall(".//sequence/media/audio/track")
    assert [[c.find("sourcetrack/trackindex").text for c in t.findall("clipitem")] for t in audio] == [["1"], ["2"]]
    assert audio[0].find("clipitem/file").get("id") == xml.find(".//video/track/clipitem/file").get("id")
    assert xml.find(".//file/media/audio/channelcount").text == "2"
    path = tmp_path / "a.xml"
    path.write_text(xml_text)
    tracks = read_back(path).tracks
    assert [(t.kind, [c.name for c in t.find_clips()]) for t in tracks][1:] == [("Audio", [its[0].name])] * 2
    fcpx = ElementTree.fromstring(export_bytes(its, "fcpxml"))
    assert [(a.get("hasAudio"), a.get("audioChannels")) for a in fcpx.iter("asset")] == [("1", "2"), ("0", None)]


def test_fcpxml_sequence_starts_at_the_record_start():
    fcpx = ElementTree.fromstring(export_bytes([item(rate=Fraction(25), tc="10:00:00:00")], "fcpxml"))
    seq = fcpx.find(".//sequence")
    assert seq.get("tcStart") == "3600/1s"
    assert seq.find("./spine/*").get("offset") == seq.get("tcStart")  # the first clip at 01:00:00:00


@pytest.mark.parametrize("flavour,length", [("file32", 32), ("file128", 128)])
def test_avid_file32_and_file128_edls_carry_the_whole_tape_name(flavour, length):
    its = [item(name="A026C019_170614_R287_extra_long_name_for_a_file128_list_x")]
    text = export_bytes(its, "edl", settings=ExportSettings(edl_format=flavour)).decode()
    edl = pycmx.parse_cmx3600(io.StringIO(text))
    assert edl.format == flavour.replace("file", "File")  # pycmx tells the layout from the columns
    edits = [e for ev in edl.events for e in ev.edits]
    assert edits[0].source == its[0].name[:length] and text.splitlines()[3].startswith("000001  ")
