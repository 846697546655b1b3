"""The keys of the ingest's stages, pinned: a key that changes makes every existing library redo that stage
(and everything keyed on it), so a change here must be deliberate (a new stage version), never a side effect
of moving code. Values computed on the `restructure` branch before the stages became data (`STAGES`)."""

import dataclasses

import pytest

from pipeline import transcode
from pipeline.config import Settings
from pipeline.ingest.stages import STAGES, embed_key, order, proxy_key, setting_value, stage, stage_keys

S = Settings()


def test_probe_and_analyze_keys_are_unchanged():
    assert stage_keys(S)["probe"] == "probe-1"
    assert stage_keys(S)["analyze"] == "a96600f4a56b915d"
    assert stage_keys(S.replace("shots", threshold=31.0))["analyze"] == "236bf8e24bf48b5c"
    assert stage_keys(S.replace("keyframes", jpeg_quality=70))["analyze"] == "0ac599f41674a1dd"


def test_embed_keys_are_unchanged():
    assert embed_key(S, "random-tiny@abc") == "865a0f6d7a55a946"
    assert embed_key(S.replace("shots", threshold=31.0), "random-tiny@abc") == "decc3619ec687726"


def test_proxy_keys_are_unchanged():
    want = {
        "h264": ("9e5d4d5d69018b2c", "55a5ad3aa18f163a"),
        "prores-proxy": ("286ea28fcfbfd08b", "1fe12c5f6419bb35"),
        "dnxhr-lb": ("53376de61081defd", "f3bb8555d9e60d6f"),
    }
    for name, (plain, burnin) in want.items():
        preset = transcode.load_presets([name])[0]
        assert proxy_key(preset, S) == plain
        assert proxy_key(preset, S.replace("proxies", burnin_items="tc")) == plain  # items matter only when burnt in
        assert proxy_key(preset, S.replace("proxies", burnin=True)) == burnin


def test_measurement_keys_are_unchanged():
    """take_metrics rows were keyed "content hash:settings hash" by the readers that measured lazily."""
    assert stage_keys(S)["measure"] == "8fc9b23f4848c71c"
    assert stage_keys(S.replace("tags", frame_step=3))["measure"] == "7df2e438f0aed94b"
    assert stage_keys(S.replace("tags", dark_luma=0.3))["measure"] == "8fc9b23f4848c71c"


def test_each_stage_changes_only_with_its_own_settings():
    """Changing one setting changes the key of the stages that list it (and of those built on them), and no other."""
    base = stage_keys(S)
    cases = {
        ("shots", "threshold", 31.0): {"analyze"},
        ("tags", "short_side", 320): {"measure"},
        ("tags", "dark_luma", 0.3): set(),
        ("takes", "patterns", (r"(?P<scene>\d+)",)): {"takes"},
        ("embed", "batch_size", 7): set(),
        ("verify", "checksum", "md5"): set(),  # the hash stage is keyed by size and mtime, not recorded
    }
    for (section, key, value), changed in cases.items():
        keys = stage_keys(S.replace(section, **{key: value}))
        assert {k for k in base if keys[k] != base[k]} == changed, (section, key)
    other = S.replace("shots", threshold=31.0)
    assert embed_key(other, "m") != embed_key(S, "m")  # embed builds on analyze


def test_every_setting_a_stage_names_exists_and_stages_build_on_earlier_ones():
    for s in STAGES:
        for name in s.settings:
            for part in name.split(" if "):
                section, _, key = part.partition(".")
                value = getattr(S, section)
                assert not key or key in {f.name for f in dataclasses.fields(value)}, (s.name, part)
        for a in s.after:
            assert order(a) < order(s.name), (s.name, a)
    assert setting_value(S, "proxies.font if proxies.burnin") == ""
    assert setting_value(S.replace("proxies", burnin=True), "proxies.font if proxies.burnin") == S.proxies.font
    assert order("proxy:h264") == order("proxy") < order("takes") < order("measure") < order("embed")
    with pytest.raises(KeyError, match="stages: hash, probe"):
        stage("thumbnail")
    with pytest.raises(ValueError, match="per preset"):
        stage("proxy").key(S)
