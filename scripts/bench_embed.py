#!/usr/bin/env python3
"""Embedding throughput: the bare model vs Dailies' embed stage, side by side in one run.

    python scripts/bench_embed.py --model random-tiny [--device auto|cpu|cuda] [--json]
    python scripts/bench_embed.py --arch ViT-B-32          # the architecture, random init (no weights needed)

raw      images/s of model.encode_image on batches already preprocessed and on the device
         (what open_clip can do at best).
stage    frames/s of pipeline.embed.embed_frames from decoded frames in RAM (uint8 RGB at keyframe
         size, 456x256 by default): staging into (pinned) host memory, copy, resize/crop/normalise on
         the device, the model, results back -- overlapped on CUDA. Goal on a GPU: >= 60% of raw.
jpeg     frames/s of pipeline.embed.embed_images from keyframe JPEG files (adds decoding in
         `decode_workers` threads), for reference.
Random-init weights have the architecture's speed, not its meaning; nothing here is semantic.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def random_init_preset(arch: str, folder: Path):
    """A local-dir preset of open_clip architecture `arch` without weights (random init)."""
    import open_clip

    from models.presets import ModelPreset

    cfg = open_clip.get_model_config(arch)
    if cfg is None:
        raise SystemExit(f"unknown open_clip architecture {arch!r}")
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": cfg, "preprocess_cfg": {}}))
    return ModelPreset(
        name=f"{arch}-random-init", local_dir=str(folder), semantic=False, batch_size=64, gpu_batch_size=512
    )


def sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def frames_like_keyframes(n: int, h: int, w: int, seed: int = 0) -> list[np.ndarray]:
    """n distinct uint8 RGB frames (16 patterns, copied so every frame is its own array)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    patterns = [
        np.asarray(
            Image.fromarray(rng.integers(0, 256, (h // 8 + 2, w // 8 + 2, 3), dtype=np.uint8)).resize(
                (w, h), Image.BILINEAR
            )
        )
        for _ in range(16)
    ]
    return [patterns[i % 16].copy() for i in range(n)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--model", default=None, help="model preset (default random-tiny)")
    g.add_argument("--arch", help="open_clip architecture, random init (e.g. ViT-B-32)")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--precision", default="auto", choices=["auto", "fp32", "fp16"])
    ap.add_argument("--batch", type=int, default=0, help="batch size (0 = the preset's for the device)")
    ap.add_argument("--batches", type=int, default=0, help="batches timed per measurement (0 = 3 on CPU, 20 on CUDA)")
    ap.add_argument("--frame-size", default="456x256", help="decoded frame WxH (keyframes: short side 256)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating raw/stage rounds (medians reported)")
    ap.add_argument("--threads", type=int, default=0, help="PyTorch CPU threads (0 = every core)")
    ap.add_argument("--no-jpeg", action="store_true", help="skip the JPEG-decoding measurement")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    import torch

    from models.clip import OpenClipEmbedder
    from pipeline import embed as embed_stage
    from pipeline.embed import load_preset

    tmp = tempfile.TemporaryDirectory(prefix="bench-embed-")
    if args.arch:
        preset = random_init_preset(args.arch, Path(tmp.name))
    else:
        preset = load_preset(args.model or "random-tiny")
    emb = OpenClipEmbedder(
        preset, device=args.device, batch_size=args.batch, precision=args.precision, threads=args.threads
    )
    emb.load()
    device, bs = emb.device, emb.batch_size
    nb = args.batches or (20 if device == "cuda" else 3)
    w, h = (int(v) for v in args.frame_size.lower().split("x"))
    size = emb.input_size
    out = {
        "model": preset.name,
        "identity": preset.identity,
        "semantic": preset.semantic,
        "device": device,
        "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
        "precision": emb.precision,
        "batch": bs,
        "frame": f"{w}x{h}",
        "model_input": f"{size[1]}x{size[0]}",
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }

    # raw (preprocessed batches already on the device) and stage (decoded frames in RAM -> vectors),
    # alternated for `rounds` rounds so both see the same machine load; medians reported
    x = torch.randn(bs, 3, *size, device=device).to(emb._dtype)
    frames = frames_like_keyframes(nb * bs, h, w)
    emb.encode_preprocessed(x)  # warm-up (cuDNN/cuBLAS plans, lazy init)
    embed_stage.embed_frames(emb, frames[: 2 * bs], bs)  # warm-up of the stage's own path
    raws, stages = [], []
    for _ in range(args.rounds):
        sync(device)
        t0 = time.perf_counter()
        for _ in range(nb):
            emb.encode_preprocessed(x)
        sync(device)
        raws.append(nb * bs / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        vecs = embed_stage.embed_frames(emb, frames, bs)
        stages.append(len(frames) / (time.perf_counter() - t0))
        assert vecs.shape == (len(frames), emb.dim)
    raw, stage = float(np.median(raws)), float(np.median(stages))
    out["rounds"] = args.rounds
    out["raw_images_per_s"] = round(raw, 1)
    out["stage_frames_per_s"] = round(stage, 1)
    out["stage_vs_raw"] = round(stage / raw, 3)
    out["per_round"] = [{"raw": round(r, 1), "stage": round(st, 1)} for r, st in zip(raws, stages, strict=True)]

    if not args.no_jpeg:
        from PIL import Image

        folder = Path(tmp.name) / "jpeg"
        folder.mkdir()
        paths = []
        for i, f in enumerate(frames[: min(len(frames), 4 * bs)]):
            p = folder / f"{i:06d}.jpg"
            if i < 16:
                Image.fromarray(f).save(p, quality=90)
            else:
                os.link(folder / f"{i % 16:06d}.jpg", p)
            paths.append(p)
        workers = embed_stage.decode_workers()
        t0 = time.perf_counter()
        embed_stage.embed_images(emb, paths, bs, workers)
        out["jpeg_frames_per_s"] = round(len(paths) / (time.perf_counter() - t0), 1)
        out["jpeg_decode_workers"] = workers
    tmp.cleanup()

    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(
            f"{out['model']} on {device}{' (' + out['gpu'] + ')' if out['gpu'] else ''}, {out['precision']}, "
            f"batch {bs}, frames {out['frame']} -> {out['model_input']}, {os.cpu_count()} cores"
        )
        print(f"raw model      {raw:10.1f} images/s")
        print(f"embed stage    {stage:10.1f} frames/s  ({100 * stage / raw:.0f}% of raw)")
        if "jpeg_frames_per_s" in out:
            print(f"from JPEGs     {out['jpeg_frames_per_s']:10.1f} frames/s  ({workers} decode threads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
