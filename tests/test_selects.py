"""Setups and proposed selects on generated takes; editor overrides; selects exported and read back."""

import json

import numpy as np
import pytest

from pipeline.cli import main
from pipeline.config import load_settings
from pipeline.editorial.measure import framing_signature
from pipeline.editorial.selects import group_setups, score_setup
from pipeline.editorial.takes import Take
from pipeline.export import read_back
from pipeline.media.synth import make_graph_clip

SRC = "testsrc2=s=480x270:r=25"


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    card = tmp_path_factory.mktemp("takes")
    make_graph_clip(card / "Sc5-Tk1.mp4", SRC, 60, "25", "gblur=sigma=3", timecode="10:00:00:00")
    make_graph_clip(card / "Sc5-Tk2.mp4", SRC, 60, "25", None, timecode="10:00:10:00")
    make_graph_clip(card / "Sc5-Tk3.mp4", SRC, 20, "25", None, timecode="10:00:20:00")  # false start
    make_graph_clip(card / "Sc5-Tk4.mp4", SRC, 60, "25", "eq=brightness=0.45:contrast=1.3", timecode="10:00:30:00")
    make_graph_clip(
        card / "Sc6-Tk1.mp4", "mandelbrot=s=480x270:r=25:maxiter=60", 30, "25", None, timecode="11:00:00:00"
    )
    lib = tmp_path_factory.mktemp("lib")
    assert main(["ingest", str(card), "--library", str(lib), "--no-embed", "--json"]) == 0
    return lib


def selects(capsys, lib, *extra):
    capsys.readouterr()
    assert main(["selects", "--library", str(lib), "--json", *extra]) == 0
    return {s["setup"]: s["takes"] for s in json.loads(capsys.readouterr().out)["setups"]}


def test_clean_take_ranks_first_with_reasons(library, capsys):
    setups = selects(capsys, library)
    assert set(setups) == {"5", "6"}
    ranked = setups["5"]
    assert [t["name"] for t in ranked][0] == "Sc5-Tk2"
    by = {t["name"]: {f["name"]: f for f in t["factors"]} for t in ranked}
    assert by["Sc5-Tk1"]["focus"]["score"] < 0.5 < 0.9 < by["Sc5-Tk2"]["focus"]["score"]
    assert "false start" in by["Sc5-Tk3"]["completeness"]["why"]
    assert by["Sc5-Tk4"]["exposure"]["score"] < by["Sc5-Tk2"]["exposure"]["score"]
    assert [t["rank"] for t in ranked] == [1, 2, 3, 4]
    assert list(selects(capsys, library, "--scene", "6")) == ["6"]


def test_pin_and_reject_are_respected(library, capsys):
    assert main(["selects", "pin", "Sc5-Tk3", "--note", "director likes it", "--library", str(library)]) == 0
    assert main(["selects", "reject", "Sc5-Tk2", "--library", str(library)]) == 0
    ranked = selects(capsys, library)["5"]
    assert (
        ranked[0]["name"] == "Sc5-Tk3" and ranked[0]["override"] == "pin" and ranked[0]["note"] == "director likes it"
    )
    assert ranked[-1]["name"] == "Sc5-Tk2" and ranked[-1]["override"] == "reject"
    out = library / "sel.edl"
    assert main(["export", "selects", "-o", str(out), "--library", str(library)]) == 0
    clips = list(read_back(out, rate=25).find_clips())
    assert [c.name for c in clips] == ["Sc5-Tk3", "Sc6-Tk1"]
    assert (
        clips[0].source_range.start_time.to_timecode() == "10:00:20:00" and clips[0].source_range.duration.value == 20
    )
    for name in ("Sc5-Tk3", "Sc5-Tk2"):
        assert main(["selects", "clear", name, "--library", str(library)]) == 0
    assert selects(capsys, library)["5"][0]["name"] == "Sc5-Tk2"


def test_group_setups_splits_by_framing():
    rng = np.random.default_rng(0)
    a, b = rng.random((90, 160)), rng.random((90, 160))
    sig = {
        1: framing_signature((a * 255).astype(np.uint8)),
        2: framing_signature((a * 128 + 60).astype(np.uint8)),
        3: framing_signature((b * 255).astype(np.uint8)),
    }
    takes = [Take(i, f"/c/{i}.mov", scene="7", camera="A") for i in (1, 2, 3)]
    setups = group_setups(takes, sig, 0.5)
    assert sorted(sorted(t.clip_id for t in g) for g in setups.values()) == [[1, 2], [3]]


def test_circled_breaks_a_tie():
    takes = [Take(1, "/c/a.mov", scene="1", take="1"), Take(2, "/c/b.mov", scene="1", take="2", circled=True)]
    m = {"sharpness": 1.0, "laplacian": 100.0, "luma": 0.45, "clipped": 0.0, "jitter": 0.0, "frames": 100}
    ranked = score_setup(takes, {1: m, 2: m}, load_settings().selects)
    assert ranked[0].clip_id == 2 and "circled" in ranked[0].explanation


def test_an_fcpx_export_of_the_selects_names_each_format_from_the_catalog(library, capsys, tmp_path):
    """The FCP X <format> comes from the frame size the catalog holds (no process started to probe the
    sources); `take list --json` keeps its fields (the frame size is not a take field)."""
    from xml.etree import ElementTree

    out = tmp_path / "sel.fcpxml"
    assert main(["export", "selects", "-o", str(out), "--library", str(library)]) == 0
    names = {f.get("name") for f in ElementTree.fromstring(out.read_text()).iter("format") if f.get("name")}
    assert "FFVideoFormat480x270p25" in names
    capsys.readouterr()
    assert main(["take", "list", "--library", str(library), "--json"]) == 0
    take = json.loads(capsys.readouterr().out)["takes"][0]
    assert "width" not in take and "height" not in take
