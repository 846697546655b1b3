"""Every export format, re-imported through OTIO's own adapters, gives back the clips, reels and
frame-exact source ranges (23.976, 24, 25, 29.97 DF; start TCs just before the hour and before midnight)."""

from fractions import Fraction
from xml.etree import ElementTree

import opentimelineio as otio
import pytest

from pipeline.errors import UsageError
from pipeline.export import EXPORTERS, ExportItem, export_bytes, export_file, format_for, read_back, renamed
from pipeline.export.timeline import edl_reel
from pipeline.timecode import tc_to_frames

CASES = [
    (Fraction(24000, 1001), "00:59:59:23"),
    (Fraction(24), "00:59:59:23"),
    (Fraction(25), "00:59:59:24"),
    (Fraction(30000, 1001), "23:59:59;29"),
    (Fraction(30000, 1001), "00:59:59;29"),
]


def items(rate, tc):
    return [
        ExportItem(
            "A001C003",
            "/cards/A001/A001C003.mov",
            rate,
            10,
            50,
            tc,
            "A001",
            1000,
            scene="12A",
            take="3",
            circled=True,
            notes="best performance",
            tags=["CU", "night"],
            markers=[(12, "CU", "face 0.31 of height")],
        ),
        ExportItem("A001C004", "/cards/A001/A001C004.mov", rate, 0, 1, tc, "A001", 500, scene="12A", take="4"),
        ExportItem("B002C001", "/cards/B002/B002C001.mov", rate, 0, 24, tc, None, 200),
        ExportItem("B002C002", "/cards/B002/B002C002.mov", rate, 3, 200, "00:00:00:00", "B002", 200),
    ]


def reel_of(clip, fmt):
    if fmt == "edl":
        return clip.metadata["cmx_3600"]["reel"]
    if fmt == "ale":
        return clip.metadata["ALE"]["Tape"]
    if fmt == "xml":
        return clip.media_reference.metadata["fcp_xml"]["timecode"]["reel"]["name"]
    if fmt == "fcpxml":
        md = {k: v for d in clip.media_reference.metadata["fcpx"]["metadata"] for k, v in d.items()}
        return md["com.apple.proapps.studio.reel"]
    return clip.metadata["dailies"]["tape"]


@pytest.mark.parametrize("fmt", list(EXPORTERS))
@pytest.mark.parametrize("rate,tc", CASES, ids=[f"{float(r):.3f}-{t}" for r, t in CASES])
def test_export_reimports_frame_exact(fmt, rate, tc, tmp_path):
    its = items(rate, tc)
    path = tmp_path / f"out{EXPORTERS[fmt][1][0]}"
    assert export_file(its, path) == fmt
    if fmt == "fcpxml":  # the written XML itself, independent of the adapter's reader
        check_fcpx_times(path.read_text(), its, rate)
    clips = list(read_back(path, rate=float(rate)).find_clips())
    assert [c.name for c in clips] == [i.name for i in its]
    midnight = "24:00:00;00" if ";" in tc else "24:00:00:00"
    day = int(round(otio.opentime.from_timecode(midnight, float(rate)).value))
    for c, i in zip(clips, its, strict=True):
        r = c.source_range
        assert r.start_time.rate == pytest.approx(float(rate), rel=1e-6)
        # source timecode wraps at 24:00:00:00 (the camera's own TC does): compare within the day
        assert int(r.start_time.value) % day == (i.start_frames + i.in_frame) % day
        assert r.start_time.value == int(r.start_time.value) and r.duration.value == int(r.duration.value)
        assert int(r.duration.value) == i.out_frame - i.in_frame
        assert reel_of(c, fmt) == (edl_reel(i.name) if fmt == "edl" else i.name)  # [export] tape = "name"


def test_fcpx_reader_correction_is_needed_and_exact(tmp_path):
    """Without `fcpx_read.exact_rates` the adapter reads 23.976 as 23 fps (so the check above would fail);
    with it, at an integer rate, it reads exactly what the adapter's own reader does."""
    import opentimelineio as otio

    ntsc, pal = tmp_path / "ntsc.fcpxml", tmp_path / "pal.fcpxml"
    export_file(items(Fraction(24000, 1001), "00:59:59:23"), ntsc)
    raw = next(iter(otio.adapters.read_from_file(str(ntsc), adapter_name="fcpx_xml").find_clips()))
    assert raw.source_range.start_time.rate == 23
    export_file(items(Fraction(25), "00:59:59:24"), pal)
    own = [c.source_range for c in otio.adapters.read_from_file(str(pal), adapter_name="fcpx_xml").find_clips()]
    assert own == [c.source_range for c in read_back(pal).find_clips()]


def test_fcpx_carries_take_fields_notes_and_tags(tmp_path):
    path = tmp_path / "sel.fcpxml"
    export_file(items(Fraction(30000, 1001), "23:59:59;29"), path)
    ref = next(iter(read_back(path).find_clips())).media_reference
    md = {k: v for d in ref.metadata["fcpx"]["metadata"] for k, v in d.items()}
    assert md == {
        "com.apple.proapps.studio.reel": "A001C003",
        "com.apple.proapps.studio.scene": "12A",
        "com.apple.proapps.studio.shot": "3",
    }
    assert ref.metadata["fcpx"]["note"] == "best performance"
    assert [k["value"] for k in ref.metadata["fcpx"]["keywords"]] == ["CU", "night"]
    assert ref.target_url == "file:///cards/A001/A001C003.mov"


def test_fcpx_names_its_format_from_the_item_and_probes_no_file(tmp_path, monkeypatch):
    """otio-fcpx-xml-adapter runs ffprobe on every source it can reach to name the <format>; ours takes the
    frame size from the item (writing an export starts no process), in the adapter's own form."""
    import subprocess

    source = tmp_path / "A001C001.mov"
    source.write_bytes(b"\0" * 64)  # reachable: the adapter alone would probe it
    started = []
    real = subprocess.Popen.__init__
    monkeypatch.setattr(subprocess.Popen, "__init__", lambda p, a, *r, **k: started.append(a) or real(p, a, *r, **k))
    for size, rate, name in (
        ((1920, 1080), Fraction(25), "FFVideoFormat1080p25"),
        ((320, 180), Fraction(25), "FFVideoFormat320x180p25"),
        ((3840, 2160), Fraction(24000, 1001), "FFVideoFormat3840x2160p2398"),
        ((1280, 720), Fraction(10), "FFVideoFormatRateUndefined"),
    ):
        item = ExportItem("A001C001", str(source), rate, 0, 10, "01:00:00:00", "A001", 50)
        item.width, item.height = size
        xml = export_bytes([item], "fcpxml").decode()
        formats = [(f.get("name"), f.get("width"), f.get("height")) for f in ElementTree.fromstring(xml).iter("format")]
        assert formats == [(name, str(size[0]), str(size[1]))]
    unknown = ExportItem("A001C001", str(source), Fraction(25), 0, 10, "01:00:00:00", "A001", 50)
    assert [f.get("name") for f in ElementTree.fromstring(export_bytes([unknown], "fcpxml")).iter("format")] == [""]
    assert started == []


def test_fcpx_read_back_of_a_format_without_frame_duration(tmp_path):
    """Final Cut Pro writes stills' and audio-only media's <format> without frameDuration: the adapter's
    reader divided by zero; frames count at the file's other format."""
    xml = export_bytes(items(Fraction(25), "10:00:00:00")[:1], "fcpxml").decode()
    root = ElementTree.fromstring(xml)
    resources = root.find("resources")
    ElementTree.SubElement(resources, "format", {"id": "r99", "name": "FFVideoFormatRateUndefined"})
    next(iter(resources.iter("asset"))).set("format", "r99")
    path = tmp_path / "still.fcpxml"
    path.write_bytes(ElementTree.tostring(root))
    clip = next(iter(read_back(path).find_clips()))
    assert int(clip.source_range.duration.value) == 40


def seconds(value: str) -> Fraction:
    return Fraction(value[:-1]) if value != "0s" else Fraction(0)


def check_fcpx_times(xml: str, its, rate: Fraction) -> None:
    """Every <format> has the exact frame duration (otio-fcpx-xml-adapter leaves it empty at NTSC rates,
    which Final Cut Pro rejects) and every spine clip's start and duration are whole frames of the source."""
    root = ElementTree.fromstring(xml)
    durations = {seconds(f.get("frameDuration")) for f in root.iter("format")}
    assert durations == {1 / rate}
    tc_formats = {e.get("tcFormat") for e in [*root.iter("sequence"), *root.iter("asset-clip")]}
    assert tc_formats == {"DF" if rate == Fraction(30000, 1001) else "NDF"}
    clips = root.findall(".//spine/clip")
    assert [c.get("name") for c in clips] == [i.name for i in its]
    for c, i in zip(clips, its, strict=True):
        assert seconds(c.get("start")) * rate == i.start_frames + i.in_frame
        assert seconds(c.get("duration")) * rate == i.out_frame - i.in_frame


def test_ale_export_carries_take_fields_and_tags(tmp_path):
    text = export_bytes(items(Fraction(24), "01:00:00:00"), "ale").decode()
    header, data = text.split("\nColumn\n")[1].split("\nData\n")
    columns = header.strip().split("\t")
    row = dict(zip(columns, data.splitlines()[0].split("\t"), strict=True))
    assert row["Tape"] == "A001C003" and row["Scene"] == "12A" and row["Take"] == "3" and row["Circled"] == "Y"
    assert row["Comments"] == "best performance" and row["Tags"] == "CU, night"
    assert row["Start"] == "01:00:00:10" and row["End"] == "01:00:02:02"


def test_otio_export_keeps_markers_and_metadata(tmp_path):
    path = tmp_path / "sel.otio"
    export_file(items(Fraction(25), "10:00:00:00"), path)
    clip = next(iter(read_back(path).find_clips()))
    assert list(clip.metadata["dailies"]["tags"]) == ["CU", "night"]
    assert clip.metadata["dailies"]["notes"] == "best performance" and clip.metadata["dailies"]["scene"] == "12A"
    assert clip.markers[0].metadata["dailies"]["comment"] == "face 0.31 of height"
    assert [m.name for m in clip.markers] == ["CU"]
    assert clip.markers[0].marked_range.start_time.value == tc_to_frames("10:00:00:00", 25) + 12
    assert clip.media_reference.target_url == "file:///cards/A001/A001C003.mov"


def test_unknown_format_lists_known_ones_and_earlier_names_still_work(tmp_path):
    with pytest.raises(UsageError, match="known: otio, edl, ale, xml, fcpxml"):
        format_for("aaf")
    with pytest.raises(UsageError, match="give --format"):
        format_for(None, tmp_path / "x.doc")
    assert format_for(None, "a.EDL") == "edl" and format_for("ale", "a.txt") == "ale"
    assert format_for(None, "a.xml") == "xml" and format_for(None, "a.fcpxml") == "fcpxml"
    with pytest.raises(UsageError, match="use --format fcpxml, or -o with the suffix .xml"):
        format_for("xml", tmp_path / "cut.fcpxml")  # FCP 7 XML under Final Cut Pro X's suffix
    # names of the earlier release: fcpx (FCP X) and fcpxml with a .xml file (FCP 7), each with a note
    assert format_for("fcpx", "a.fcpxml") == "fcpxml" and "now --format fcpxml" in renamed("fcpx", "a.fcpxml")
    assert format_for("fcpxml", "a.xml") == "xml" and "use --format xml" in renamed("fcpxml", "a.xml")
    assert renamed("fcpxml", "a.fcpxml") is None and renamed("xml", "a.xml") is None


def test_edl_refuses_mixed_rates():
    mixed = items(Fraction(24), "01:00:00:00")[:1] + items(Fraction(25), "01:00:00:00")[:1]
    with pytest.raises(UsageError, match="one frame rate"):
        export_bytes(mixed, "edl")
