"""Property-based tests (hypothesis) for what editorial hands us and what we hand back: file-name take
patterns, ALE import (pipeline/editorial/ale.parse_ale), and EDL/ALE exports re-imported through OTIO."""

from __future__ import annotations

from fractions import Fraction

import opentimelineio as otio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import TakeSettings
from pipeline.editorial.ale import AleResult, parse_ale
from pipeline.editorial.takes import FIELDS, compile_patterns, parse_name
from pipeline.errors import UsageError
from pipeline.export import ExportItem, export_bytes
from pipeline.export.timeline import edl_reel
from pipeline.timecode import frames_to_tc, is_drop_frame_rate

PATTERNS = compile_patterns(TakeSettings().patterns)
RATES = [Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001)]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scenes = st.tuples(st.integers(1, 999), st.sampled_from(["", "A", "B", "C", "AA"]))
takes = st.integers(1, 99)


# -- file-name patterns ----------------------------------------------------------------------------------


@FAST
@given(
    cam=st.sampled_from("ABCDEFGH"),
    roll=st.integers(1, 999),
    clip=st.integers(1, 999),
    scene=scenes,
    take=takes,
    style=st.sampled_from(
        ["{r}_C{c}_Sc{s}_T{t}", "{r}C{c}_SC{s}_TK{t}", "{r}_C{c}_{s}-T{t}", "{r}C{c}_Scene{s}_Take{t}"]
    ),
    zero_pad=st.booleans(),
    ext=st.sampled_from([".mov", ".MXF", ".mp4", ""]),
)
def test_names_give_back_scene_setup_take_camera_roll(cam, roll, clip, scene, take, style, zero_pad, ext):
    number, setup = scene
    s = (f"{number:03d}" if zero_pad else str(number)) + setup
    t = f"{take:02d}" if zero_pad else str(take)
    name = style.format(r=f"{cam}{roll:03d}", c=f"{clip:03d}", s=s, t=t) + ext
    got = parse_name(name, PATTERNS)
    assert got["scene"] == f"{number}{setup}"
    assert got["take"] == str(take)
    assert got.get("setup") == (setup or None)
    assert got["camera"] == cam and got["roll"] == f"{cam}{roll:03d}"


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=60))
def test_any_name_parses_to_known_fields_or_nothing(name):
    got = parse_name(name, PATTERNS)
    assert set(got) <= set(FIELDS)
    assert all(isinstance(v, str) and v for v in got.values())


# -- ALE import ------------------------------------------------------------------------------------------

ale_rows = st.lists(
    st.tuples(
        st.from_regex(r"[A-Z][0-9]{3}C[0-9]{3}", fullmatch=True),
        st.integers(0, 2_000_000),
        st.integers(1, 5000),
        scenes,
        takes,
        st.booleans(),
        st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=30),
    ),
    min_size=1,
    max_size=8,
)


@FAST
@given(rate=st.sampled_from(RATES), rows=ale_rows)
def test_ale_written_by_hand_reads_back(rate, rows):
    drop = is_drop_frame_rate(rate)
    fps = f"{float(rate):.3f}".rstrip("0").rstrip(".")
    lines = [
        "Heading",
        "FIELD_DELIM\tTABS",
        "VIDEO_FORMAT\t1080",
        f"FPS\t{fps}",
        "",
        "Column",
        "Name\tTape\tStart\tEnd\tScene\tTake\tCircled\tComments",
        "",
        "Data",
    ]
    for name, start, dur, (n, setup), take, circled, notes in rows:
        lines.append(
            "\t".join(
                [
                    name,
                    name[:4],
                    frames_to_tc(start, rate, drop),
                    frames_to_tc(start + dur, rate, drop),
                    f"{n}{setup}",
                    str(take),
                    "Y" if circled else "",
                    notes,
                ]
            )
        )
    result = parse_ale("\r\n".join(lines) + "\r\n")
    assert result.bad == []
    assert result.fps == pytest.approx(float(rate), abs=1e-3)
    assert len(result.rows) == len(rows)
    for row, (name, start, _dur, (n, setup), take, circled, notes) in zip(result.rows, rows, strict=True):
        assert (row.name, row.tape, row.start) == (name, name[:4], frames_to_tc(start, rate, drop))
        f = row.fields
        assert f["scene"] == f"{n}{setup}" and f["take"] == str(take)
        assert f.get("setup") == (setup or None) and f.get("circled", False) == circled
        assert f.get("notes") == (notes.strip() or None)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("Heading\nColumn\nData\tNameStart01:;Y*\r 0123456789")), max_size=200)
)
def test_any_text_is_an_ale_or_a_usage_error(text):
    """Garbage in an .ale file: a clear UsageError or rows plus a list of bad lines, never a crash."""
    try:
        result = parse_ale(text)
    except UsageError:
        return
    assert isinstance(result, AleResult)
    n = len(text.splitlines())
    assert all(0 <= line <= n and why for line, why in result.bad)


@FAST
@given(rate=st.sampled_from(RATES), rows=ale_rows, data=st.data())
def test_a_damaged_ale_keeps_its_good_rows_and_names_the_bad_ones(rate, rows, data):
    drop = is_drop_frame_rate(rate)
    lines = ["Heading", f"FPS\t{float(rate):.3f}", "Column", "Name\tStart\tTake", "Data"]
    lines += [f"{name}\t{frames_to_tc(start, rate, drop)}\t{take}" for name, start, _, _, take, _, _ in rows]
    victim = data.draw(st.integers(5, len(lines) - 1))
    damage = data.draw(st.sampled_from(["99:99:99:99", "01:00:00:xx", "-1:00:00:00", "take-three"]))
    cells = lines[victim].split("\t")
    cells[2 if damage == "take-three" else 1] = damage
    lines[victim] = "\t".join(cells)
    result = parse_ale("\n".join(lines))
    assert [b[0] for b in result.bad] == [victim + 1]  # 1-based line number of the damaged row
    assert "field refused" in result.bad[0][1]
    assert len(result.rows) == len(rows)  # the damaged field is refused, its row kept


# -- EDL / ALE exports, read back --------------------------------------------------------------------------

items_st = st.lists(
    st.tuples(
        st.from_regex(r"[A-Z][0-9]{3}C[0-9]{3}", fullmatch=True),
        st.integers(0, 80_000),
        st.integers(1, 2000),
        st.integers(0, 500),
        st.from_regex(r"[A-Z][0-9]{3}", fullmatch=True),
    ),
    min_size=1,
    max_size=6,
)


def _items(rate, rows):
    drop = is_drop_frame_rate(rate)
    out = []
    for name, start, length, offset, reel in rows:
        out.append(
            ExportItem(
                name,
                f"/cards/{reel}/{name}.mov",
                rate,
                offset,
                offset + length,
                frames_to_tc(start, rate, drop),
                reel,
                offset + length + 10,
            )
        )
    return out


@FAST
@given(rate=st.sampled_from(RATES), rows=items_st)
def test_edl_export_reads_back_frame_exact(rate, rows):
    its = _items(rate, rows)
    text = export_bytes(its, "edl").decode()
    tl = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=float(rate))
    clips = list(tl.find_clips())
    assert [c.name for c in clips] == [i.name for i in its]
    for c, i in zip(clips, its, strict=True):
        assert int(c.source_range.start_time.value) == i.start_frames + i.in_frame
        assert int(c.source_range.duration.value) == i.out_frame - i.in_frame
        assert c.metadata["cmx_3600"]["reel"] == edl_reel(i.name)  # [export] tape = "name", as a CMX reel


@FAST
@given(rate=st.sampled_from(RATES), rows=items_st)
def test_ale_export_imports_as_takes(rate, rows):
    """What `dailies export ... --format ale` writes, `dailies take import-ale` reads back."""
    its = _items(rate, rows)
    result = parse_ale(export_bytes(its, "ale").decode())
    assert result.bad == [] and result.fps == pytest.approx(float(rate), abs=1e-3)
    drop = is_drop_frame_rate(rate)
    assert [(r.name, r.tape, r.start) for r in result.rows] == [
        (i.name, i.name, frames_to_tc(i.start_frames + i.in_frame, rate, drop))
        for i in its  # tape: the name
    ]


# -- EDL import: EDLs as an NLE writes them, and damaged ones ---------------------------------------------

edl_events = st.lists(
    st.tuples(
        st.from_regex(r"[A-Z][0-9]{3}C[0-9]{3}", fullmatch=True),
        st.from_regex(r"[A-Z][0-9]{3}", fullmatch=True),
        st.integers(0, 80_000),
        st.integers(1, 2000),
    ),
    min_size=1,
    max_size=8,
)


def _nle_edl(rate, events) -> str:
    """A CMX 3600 EDL laid out the way Avid/Resolve write one (not by our exporter): wide columns,
    FCM line, `* FROM CLIP NAME:` comments, record times running on from 01:00:00:00."""
    drop = is_drop_frame_rate(rate)
    tc = lambda f: frames_to_tc(f, rate, drop)  # noqa: E731
    lines = ["TITLE: EDITOR CUT v3", f"FCM: {'DROP FRAME' if drop else 'NON-DROP FRAME'}", ""]
    rec = round(3600 * rate)
    for n, (name, reel, start, dur) in enumerate(events, 1):
        lines.append(f"{n:03d}  {reel:<8} V     C        {tc(start)} {tc(start + dur)} {tc(rec)} {tc(rec + dur)}")
        lines.append(f"* FROM CLIP NAME: {name}")
        lines.append("")
        rec += dur
    return "\r\n".join(lines)


@FAST
@given(rate=st.sampled_from(RATES), events=edl_events)
def test_an_nle_edl_imports_frame_exact(rate, events, tmp_path_factory):
    from pipeline.export import read_back

    path = tmp_path_factory.mktemp("edl") / "cut.edl"
    path.write_text(_nle_edl(rate, events))
    clips = list(read_back(path, rate=float(rate)).find_clips())
    assert [c.name for c in clips] == [name for name, *_ in events]
    for c, (_, reel, start, dur) in zip(clips, events, strict=True):
        assert c.metadata["cmx_3600"]["reel"] == reel
        assert (int(c.source_range.start_time.value), int(c.source_range.duration.value)) == (start, dur)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.lists(
        st.sampled_from(
            [
                "001  ",
                "A001     ",
                "V     ",
                "C        ",
                "D 030 ",
                "00:00:01:00 ",
                "01:00:00;00 ",
                "99:99:99:99 ",
                "* FROM CLIP NAME: A001C001",
                "FCM: DROP FRAME",
                "TITLE: x",
                "\n",
                "\r\n",
                "M2   ",
                "-",
                "x",
                "  ",
            ]
        ),
        max_size=40,
    ).map("".join),
    rate=st.sampled_from([24.0, 25.0, 23.976, 29.97]),
)
def test_any_text_is_an_edl_or_a_usage_error_naming_the_file(text, rate, tmp_path):
    """Garbage or a damaged event in an .edl: a timeline, or a UsageError that names the file -- never
    OTIO's bare ValueError or parse error escaping to the user as a traceback."""
    from pipeline.export import read_back

    path = tmp_path / "damaged.edl"
    path.write_text(text)
    try:
        tl = read_back(path, rate=rate)
    except UsageError as exc:
        assert str(exc).startswith(f"{path}: not an EDL file OTIO can read"), exc
        return
    assert all(c.source_range.duration.value >= 0 for c in tl.find_clips())
