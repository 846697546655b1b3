"""The GPU embedding path: tensor preprocessing, fp16, staging and overlap -- on the CPU where possible.

Tests marked `gpu` need CUDA and are skipped here with the reason; scripts/device_check.sh runs them
on a GPU machine.
"""

import threading

import numpy as np
import pytest
import torch
from PIL import Image

from models.clip import OpenClipEmbedder
from models.overlap import batched, ordered_map, run_batches, stage_batch
from models.preprocess import PreprocessSpec, TensorPreprocess
from pipeline import embed as embed_stage
from pipeline.embed import load_preset

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(
    not CUDA, reason="needs a CUDA device (none here): run scripts/device_check.sh on a GPU machine"
)
SIZES = [(256, 456), (180, 320), (256, 341), (480, 270), (64, 64), (40, 72), (224, 224)]
ONE_LEVEL = 1 / 255 / min(0.26130258, 0.26862954, 0.27577711)  # one uint8 step after Normalize


def photo_like(rng, h, w):
    """Smooth content with edges (upscaled noise): what keyframes look like to a resampler."""
    small = rng.integers(0, 256, (h // 8 + 2, w // 8 + 2, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.BILINEAR))


@pytest.fixture(scope="module")
def tiny():
    e = OpenClipEmbedder(load_preset("random-tiny"), device="cpu")
    e.load()
    return e


@pytest.fixture(scope="module")
def vit_b32_transform():
    import open_clip

    model, _, preprocess = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None)
    return PreprocessSpec.from_open_clip(model), preprocess


@pytest.mark.parametrize("uint8_resize", [True, False], ids=["cpu-uint8-resize", "gpu-float-resize"])
@pytest.mark.parametrize("which", ["random-tiny", "ViT-B-32"])
def test_tensor_preprocess_equals_open_clip_pil_transform(which, uint8_resize, tiny, vit_b32_transform):
    """Both resize variants (uint8: the CPU's; float32: what CUDA runs) against open_clip's PIL transform."""
    spec, pil_transform = (
        (PreprocessSpec.from_open_clip(tiny._model), tiny._preprocess) if which == "random-tiny" else vit_b32_transform
    )
    assert spec.resize_mode == "shortest" and spec.interpolation == "bicubic"
    pre = TensorPreprocess(spec, "cpu", uint8_resize=uint8_resize)
    rng = np.random.default_rng(0)
    for h, w in SIZES:
        img = photo_like(rng, h, w)
        want = pil_transform(Image.fromarray(img)).numpy()
        got = pre(torch.from_numpy(img[None].copy()))[0].numpy()
        assert got.shape == want.shape == (3, *spec.size)
        diff = np.abs(got - want)
        assert diff.max() <= 2 * ONE_LEVEL + 1e-5, (h, w, diff.max())  # at most two uint8 levels apart (upscaling)
        assert diff.mean() < 0.25 * ONE_LEVEL, (h, w, diff.mean())


def test_embed_frames_matches_open_clip_reference(tiny):
    rng = np.random.default_rng(1)
    frames = [photo_like(rng, h, w) for h, w in SIZES]
    got = tiny.embed_frames(frames)
    ref = torch.stack([tiny._preprocess(Image.fromarray(f)) for f in frames])
    with torch.inference_mode():
        want = tiny._model.encode_image(ref, normalize=True).numpy()
    assert got.dtype == np.float32 and got.shape == (len(frames), tiny.dim)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert (got * want).sum(1).min() > 0.999


def test_fp16_path_runs_on_cpu_and_agrees_with_fp32(tiny):
    e16 = OpenClipEmbedder(load_preset("random-tiny"), device="cpu", precision="fp16")
    rng = np.random.default_rng(2)
    frames = [photo_like(rng, 180, 320) for _ in range(6)]
    try:
        half = e16.embed_frames(frames)
    except RuntimeError as exc:  # an op without a CPU half kernel in this PyTorch build
        pytest.skip(f"fp16 on the CPU is not supported by this PyTorch build ({exc}); run it on a GPU")
    assert e16.precision == "fp16" and e16._dtype == torch.float16
    assert half.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(half, axis=1), 1.0, atol=1e-5)  # renormalised in fp32
    assert (half * tiny.embed_frames(frames)).sum(1).min() > 0.995


def test_batches_of_mixed_sizes_come_back_in_order_whatever_the_batching(tiny):
    rng = np.random.default_rng(3)
    frames = [photo_like(rng, *SIZES[i % 3]) for i in range(11)]
    one_by_one = np.concatenate([tiny.embed_frames([f]) for f in frames])
    for size in (3, 4, 11):
        got = np.concatenate(list(tiny.embed_batches(batched(frames, size))))
        np.testing.assert_allclose(got, one_by_one, atol=2e-5)
    assert list(tiny.embed_batches([])) == []


def test_embed_stage_decodes_jpegs_in_threads_in_order(tiny, tmp_path):
    rng = np.random.default_rng(4)
    paths = []
    for i in range(9):
        p = tmp_path / f"{i:03d}.jpg"
        Image.fromarray(photo_like(rng, *SIZES[i % 2])).save(p, quality=90)
        paths.append(p)
    threaded = embed_stage.embed_images(tiny, paths, batch_size=4, workers=3)
    serial = embed_stage.embed_images(tiny, paths, batch_size=9, workers=1)
    np.testing.assert_allclose(threaded, serial, atol=2e-5)
    pil = tiny.embed_images([Image.open(p) for p in paths])
    np.testing.assert_allclose(threaded, pil, atol=2e-5)


def test_ordered_map_keeps_order_bounds_read_ahead_and_raises():
    in_flight, peak, lock = [0], [0], threading.Lock()

    def work(i):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        with lock:
            in_flight[0] -= 1
        return i * i

    assert list(ordered_map(work, range(50), workers=4, window=5)) == [i * i for i in range(50)]
    assert peak[0] <= 4

    def boom(i):
        if i == 7:
            raise ValueError("frame 7 is damaged")
        return i

    with pytest.raises(ValueError, match="frame 7"):
        list(ordered_map(boom, range(20), workers=3, window=4))


def test_stage_batch_groups_by_size_and_rejects_non_rgb():
    rng = np.random.default_rng(5)
    frames = [photo_like(rng, *SIZES[i % 2]) for i in range(5)]
    sb = stage_batch(frames, pin=False)
    assert sb.size == 5 and sorted(sb.order().tolist()) == list(range(5))
    assert [tuple(g.shape) for g in sb.groups] == [(3, 256, 456, 3), (2, 180, 320, 3)]
    with pytest.raises(ValueError, match="frame 1: expected an RGB uint8"):
        stage_batch([frames[0], frames[1][:, :, 0]], pin=False)


def test_batch_size_follows_device(tiny):
    preset = load_preset("vit-b-32")
    assert preset.gpu_batch_size > preset.batch_size
    assert OpenClipEmbedder(preset, device="cpu").batch_size == preset.batch_size
    assert OpenClipEmbedder(preset, device="cpu", batch_size=7).batch_size == 7


# -- on a GPU only --------------------------------------------------------------------------


@pytest.mark.gpu
@needs_cuda
def test_gpu_preprocess_equals_cpu_preprocess(vit_b32_transform):
    spec, _ = vit_b32_transform
    rng = np.random.default_rng(6)
    for h, w in SIZES:
        x = torch.from_numpy(photo_like(rng, h, w)[None].copy())
        cpu = TensorPreprocess(spec, "cpu", uint8_resize=False)(x)  # the same float32 resize as CUDA's
        gpu = TensorPreprocess(spec, "cuda")(x.cuda()).cpu()
        assert not TensorPreprocess(spec, "cuda").uint8_resize
        assert (gpu - cpu).abs().max().item() <= ONE_LEVEL + 1e-4  # rounding at .5 may differ by one level


@pytest.mark.gpu
@needs_cuda
def test_gpu_fp16_overlapped_path_equals_cpu_fp32(tiny):
    gpu = OpenClipEmbedder(load_preset("random-tiny"), device="cuda")
    gpu.load()
    assert gpu.precision == "fp16" and gpu.batch_size == load_preset("random-tiny").gpu_batch_size
    rng = np.random.default_rng(7)
    frames = [photo_like(rng, *SIZES[i % 4]) for i in range(37)]
    got = np.concatenate(list(gpu.embed_batches(batched(frames, 8))))  # 5 batches: overlap + lag path
    want = tiny.embed_frames(frames)
    assert (got * want).sum(1).min() > 0.995
    sb = stage_batch(frames[:4], pin=True)
    assert all(g.is_pinned() for g in sb.groups)
    out = list(run_batches([sb], gpu.encode_staged, "cuda"))
    np.testing.assert_allclose(out[0], got[:4], atol=5e-3)  # fp16 kernels vary with batch size
