"""open_clip's image preprocessing as tensor ops, so it runs on the GPU next to the model.

open_clip preprocesses PIL images on the CPU: resize (bicubic, shortest side to the input size),
centre crop, to [0, 1], normalise. `TensorPreprocess` does the same to a batch of uint8 RGB frames
already on the model's device, in float32: the resize is torch's antialiased bicubic (the same
kernel as PIL's), rounded and clamped to 0..255 as PIL's uint8 output is, and the crop offsets are
torchvision's. tests/test_gpu_embed.py checks the result against open_clip's own PIL transform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.errors import ModelError


@dataclass(frozen=True)
class PreprocessSpec:
    size: tuple[int, int]  # (height, width) of the model input
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bicubic"  # bicubic | bilinear
    resize_mode: str = "shortest"  # shortest | squash

    @classmethod
    def from_open_clip(cls, model) -> PreprocessSpec:
        """Read the model's own preprocess config (open_clip >= 2.23 keeps it on model.visual)."""
        cfg = dict(getattr(model.visual, "preprocess_cfg", {}) or {})
        size: Any = cfg.get("size") or getattr(model.visual, "image_size", 224)  # an int or (h, w)
        size = (size, size) if isinstance(size, int) else tuple(size)[-2:]
        from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

        spec = cls(
            size=(int(size[0]), int(size[1])),
            mean=tuple(cfg.get("mean") or OPENAI_DATASET_MEAN),
            std=tuple(cfg.get("std") or OPENAI_DATASET_STD),
            interpolation=cfg.get("interpolation") or "bicubic",
            resize_mode=cfg.get("resize_mode") or "shortest",
        )
        if spec.resize_mode not in ("shortest", "squash") or spec.interpolation not in ("bicubic", "bilinear"):
            raise ModelError(
                f"the model's preprocessing ({spec.resize_mode} resize, {spec.interpolation}) has no tensor "
                f"version in Dailies yet (supported: shortest/squash resize, bicubic/bilinear)"
            )
        if spec.resize_mode == "shortest" and spec.size[0] != spec.size[1]:
            raise ModelError(
                f"non-square input {spec.size} with 'shortest' resize has no tensor version in Dailies yet"
            )
        return spec

    def resized_size(self, h: int, w: int) -> tuple[int, int]:
        """torchvision Resize(int): the short side becomes the input size, the long side is truncated."""
        if self.resize_mode == "squash":
            return self.size
        s = self.size[0]
        if h <= w:
            return s, int(s * w / h)
        return int(s * h / w), s


class TensorPreprocess:
    """uint8 RGB frames (N, H, W, 3) on any device -> normalised (N, 3, h, w) float32 model input.

    The resize runs on uint8 on the CPU (PyTorch's vectorised uint8 kernel, ~4x faster there) and
    on float32 elsewhere (CUDA has no uint8 antialiased bicubic), rounded to uint8 levels either way."""

    def __init__(self, spec: PreprocessSpec, device, uint8_resize: bool | None = None):
        import torch

        self.spec = spec
        self.uint8_resize = torch.device(device).type == "cpu" if uint8_resize is None else uint8_resize
        self.mean = torch.tensor(spec.mean, dtype=torch.float32, device=device).view(1, 3, 1, 1) * 255.0
        self.std = torch.tensor(spec.std, dtype=torch.float32, device=device).view(1, 3, 1, 1) * 255.0

    def __call__(self, frames):
        import torch.nn.functional as F

        n, h, w, c = frames.shape
        if c != 3:
            raise ValueError(f"expected RGB frames (N, H, W, 3), got shape {tuple(frames.shape)}")
        x = frames.permute(0, 3, 1, 2)  # NCHW view of NHWC memory (channels-last)
        rh, rw = self.spec.resized_size(h, w)

        def resize(t):
            return F.interpolate(t, size=(rh, rw), mode=self.spec.interpolation, antialias=True, align_corners=False)

        if (rh, rw) == (h, w):
            x = x.float()
        elif self.uint8_resize:
            x = resize(x).float()
        else:
            x = resize(x.float()).round_().clamp_(0.0, 255.0)  # PIL resizes to uint8
        th, tw = self.spec.size
        top, left = int(round((rh - th) / 2.0)), int(round((rw - tw) / 2.0))
        x = x[:, :, top : top + th, left : left + tw]
        return (x - self.mean) / self.std
