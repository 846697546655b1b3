import time

import numpy as np
import pytest
from PIL import Image

from models.clip import OpenClipEmbedder, availability
from pipeline.embed import list_presets, load_preset, resolve_model
from pipeline.errors import UsageError, WeightsUnavailable


def test_random_tiny_runs_the_real_open_clip_path():
    import open_clip

    preset = load_preset("random-tiny")
    assert preset.semantic is False
    emb = OpenClipEmbedder(preset, device="cpu")
    assert emb.dim == 64
    images = [Image.new("RGB", (120, 90), c) for c in [(255, 0, 0), (0, 0, 255), (10, 200, 30)]]
    vi = emb.embed_images(images)
    vt = emb.embed_texts(["a red frame", "night exterior"])
    assert vi.shape == (3, 64) and vt.shape == (2, 64) and vi.dtype == np.float32
    assert np.allclose(np.linalg.norm(vi, axis=1), 1, atol=1e-5)
    assert np.allclose(np.linalg.norm(vt, axis=1), 1, atol=1e-5)
    assert not emb._model.training  # .eval() was called
    assert isinstance(emb._tokenizer, open_clip.tokenizer.SimpleTokenizer)
    # deterministic: same seed, same weights, same vectors
    again = OpenClipEmbedder(preset, device="cpu").embed_images(images)
    assert np.allclose(vi, again, atol=1e-6)


def test_default_preset_offline_fails_in_seconds_with_instructions():
    preset = load_preset("vit-b-32")
    assert preset.architecture == "ViT-B-32" and preset.pretrained == "laion2b_s34b_b79k"
    assert availability(preset) == (False, "weights not on this machine")
    t0 = time.monotonic()
    with pytest.raises(WeightsUnavailable) as err:
        OpenClipEmbedder(preset, device="cpu").load()
    assert time.monotonic() - t0 < 5
    assert "dailies models fetch vit-b-32" in str(err.value)


def test_download_allowed_but_hub_offline_still_fails_fast():
    t0 = time.monotonic()
    with pytest.raises(WeightsUnavailable, match="cannot be reached"):
        OpenClipEmbedder(load_preset("vit-b-32"), device="cpu", allow_download=True).load()
    assert time.monotonic() - t0 < 5


def test_cuda_requested_without_gpu_is_an_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    from pipeline.errors import ModelError

    with pytest.raises(ModelError, match="no CUDA device"):
        OpenClipEmbedder(load_preset("random-tiny"), device="cuda").load()


def test_presets_are_listed_and_unknown_names_list_known_ones():
    names = [p.name for p in list_presets()]
    assert {"vit-b-32", "random-tiny", "local-checkpoint"} <= set(names)
    with pytest.raises(UsageError, match="known presets: .*random-tiny"):
        resolve_model("vit-b-99")
    with pytest.raises(UsageError, match="model file not found"):
        resolve_model("/nowhere/weights.bin")


def test_models_json_lists_usability(capsys):
    import json

    from pipeline.cli import main

    assert main(["models", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["presets"]}
    assert rows["random-tiny"]["usable"] is True and rows["random-tiny"]["semantic"] is False
    assert rows["vit-b-32"]["usable"] is False and rows["vit-b-32"]["default"] is True


def test_local_checkpoint_file_is_loaded_through_open_clip(tmp_path):
    """`--model ARCH:/path/file.bin` (and a bare path, which means ViT-B-32): weights from a file on disk."""
    import json

    import open_clip
    import torch

    tiny = OpenClipEmbedder(load_preset("random-tiny"), device="cpu")
    tiny.load()
    ckpt = tmp_path / "weights" / "tiny-checkpoint.bin"
    ckpt.parent.mkdir()
    torch.save(tiny._model.state_dict(), ckpt)
    cfg = json.loads((load_preset("random-tiny").local_dir_path / "open_clip_config.json").read_text())["model_cfg"]
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "dailies-test-tiny.json").write_text(json.dumps(cfg))
    open_clip.add_model_config(tmp_path / "cfg")  # an architecture open_clip knows by name, like ViT-B-32

    preset = resolve_model(f"dailies-test-tiny:{ckpt}")
    assert preset.architecture == "dailies-test-tiny" and preset.checkpoint == str(ckpt.resolve())
    import hashlib

    digest = hashlib.sha256(ckpt.read_bytes()).hexdigest()
    assert preset.identity == f"open_clip:dailies-test-tiny:file:{digest[:16]}"  # the file's content, not its name
    assert availability(preset)[0] is True
    emb = OpenClipEmbedder(preset, device="cpu")
    images = [Image.new("RGB", (90, 60), c) for c in [(200, 30, 30), (20, 20, 220)]]
    assert np.allclose(emb.embed_images(images), tiny.embed_images(images), atol=1e-5)  # the file's weights
    assert emb.dim == 64 and not emb._model.training

    bare = resolve_model(str(ckpt))
    assert bare.architecture == "ViT-B-32" and bare.semantic
    ckpt.unlink()  # the file went away: a clear error naming it, at once
    with pytest.raises(WeightsUnavailable, match="tiny-checkpoint.bin not found"):
        OpenClipEmbedder(preset, device="cpu").load()


def test_download_allowed_without_hub_offline_flag_checks_the_hub_first(monkeypatch):
    """HF_HUB_OFFLINE unset and the hub unreachable (here: a closed port on 127.0.0.1): no retries."""
    import socket

    import models.clip as clip

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(clip, "HUB_HOST", ("127.0.0.1", port))
    t0 = time.monotonic()
    with pytest.raises(WeightsUnavailable, match="cannot be reached.*dailies models fetch vit-b-32"):
        OpenClipEmbedder(load_preset("vit-b-32"), device="cpu", allow_download=True).load()
    assert time.monotonic() - t0 < 5
