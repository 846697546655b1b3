"""The keys of the ingest's stages, pinned: a key that changes makes every existing library redo that stage
(and everything keyed on it), so a change here must be deliberate (a new stage version), never a side effect
of moving code. Values computed on the `restructure` branch before the stages became data."""

from pipeline import transcode
from pipeline.config import Settings
from pipeline.editorial.measure import metrics_key
from pipeline.ingest.stages import PROBE_VERSION, analyze_key, embed_key, proxy_key

S = Settings()


def test_probe_and_analyze_keys_are_unchanged():
    assert PROBE_VERSION == "probe-1"
    assert analyze_key(S) == "a96600f4a56b915d"
    assert analyze_key(S.replace("shots", threshold=31.0)) == "236bf8e24bf48b5c"
    assert analyze_key(S.replace("keyframes", jpeg_quality=70)) == "0ac599f41674a1dd"


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
    assert metrics_key("xxh64:0123", S.tags) == "xxh64:0123:8fc9b23f4848c71c"
    assert metrics_key("xxh64:0123", S.replace("tags", frame_step=3).tags) == "xxh64:0123:7df2e438f0aed94b"
    assert metrics_key("xxh64:0123", S.replace("tags", dark_luma=0.3).tags) == "xxh64:0123:8fc9b23f4848c71c"
