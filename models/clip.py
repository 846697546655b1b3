"""open_clip under the Embedder interface. Nothing is imported or loaded until first use."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from models.base import Embedder
from models.errors import ModelError, WeightsUnavailable
from models.presets import ModelPreset, dir_weights

if TYPE_CHECKING:
    import torch  # imported where used, so that importing this module loads no torch

log = logging.getLogger("dailies.models")
HUB_HOST = ("huggingface.co", 443)
_logged_devices: set[str] = set()


def pick_device(requested: str) -> str:
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise ModelError("--device cuda was asked for, but PyTorch sees no CUDA device; use --device cpu or auto")
    device = requested if requested != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if device not in _logged_devices:
        _logged_devices.add(device)
        why = (
            ""
            if requested != "auto"
            else (" (auto: CUDA available)" if device == "cuda" else " (auto: no CUDA device)")
        )
        log.info("embedding on %s%s", device, why)
    return device


def cached_weights(preset: ModelPreset) -> str | None:
    """Path of the preset's weights on this machine, or None. Never touches the network."""
    if preset.local_dir:
        found = dir_weights(preset.local_dir_path)
        return str(found[0]) if found else None
    if preset.checkpoint:
        p = preset.checkpoint_path
        return str(p) if p and p.is_file() else None
    from open_clip.pretrained import get_pretrained_cfg

    cfg = get_pretrained_cfg(preset.architecture, preset.pretrained)
    if not cfg:
        return None
    if cfg.get("file"):
        return cfg["file"] if os.path.isfile(cfg["file"]) else None
    hub = cfg.get("hf_hub", "")
    if hub:
        from huggingface_hub import try_to_load_from_cache

        repo, filename = os.path.split(hub.rstrip("/")) if not hub.endswith("/") else (hub.rstrip("/"), "")
        names = [filename] if filename else []
        names += ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
        for name in names:
            hit = try_to_load_from_cache(repo, name)
            if isinstance(hit, str):
                return hit
    url = cfg.get("url", "")
    if url:
        p = Path(os.path.expanduser("~/.cache/clip")) / os.path.basename(url)
        return str(p) if p.is_file() else None
    return None


def availability(preset: ModelPreset, allow_download: bool = False) -> tuple[bool, str]:
    """(usable now, why) without loading anything or reaching the network."""
    local = preset.local_dir_path
    if local is not None:
        if not (local / "open_clip_config.json").is_file():
            return False, f"{local}/open_clip_config.json is missing"
        if not preset.semantic:
            return True, "random-init (not semantic)"
        if cached_weights(preset):
            return True, f"weights in {local}"
        return False, f"no weights file (.bin/.pt/.safetensors) in {local}"
    if preset.checkpoint:
        if cached_weights(preset):
            return True, f"local file {preset.checkpoint_path}"
        return False, f"checkpoint file {preset.checkpoint_path} not found"
    if cached_weights(preset):
        return True, "weights in the local cache"
    if allow_download:
        return True, "weights not cached; will be downloaded (allow_download is on)"
    return False, "weights not on this machine"


def _hub_offline() -> bool:
    """huggingface_hub's own HF_HUB_OFFLINE switch, as that library reads it."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _hub_reachable(timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection(HUB_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def weights_help(preset: ModelPreset) -> str:
    return (
        f"model weights for {preset.name} ({preset.architecture}/{preset.pretrained}) are not on this machine. "
        f"Either run `dailies models fetch {preset.name}` on a connected machine and copy "
        f"~/.cache/huggingface to this one, or download the checkpoint file there and use "
        f"`--model /path/to/open_clip_pytorch_model.bin` here (or `--model random-tiny` for a non-semantic test run)"
    )


PRECISIONS = ("auto", "fp32", "fp16")


class OpenClipEmbedder(Embedder):
    """open_clip model; frames are preprocessed as tensors on the model's device (models/preprocess.py).

    precision "auto" is fp16 on CUDA and fp32 on the CPU; "fp16" on the CPU runs (slowly) and is
    what the tests use to exercise the GPU's numeric path. `threads` sets PyTorch's CPU threads
    (0 = every core). `stage_workers` threads stage batches into (pinned) host memory (0 = auto: on
    CUDA min(8, cores/2), so copying frames keeps up with the GPU; on the CPU one, in line)."""

    @classmethod
    def for_ingest(cls, preset: ModelPreset, embed, allow_download: bool) -> OpenClipEmbedder:
        """The ingest's embedder from the `[embed]` settings (pipeline.config.EmbedSettings), on this
        machine or in a Ray actor."""
        return cls(
            preset,
            device=embed.device,
            allow_download=allow_download,
            batch_size=embed.batch_size,
            precision=embed.precision,
            threads=embed.cpu_threads,
        )

    def __init__(
        self,
        preset: ModelPreset,
        device: str = "auto",
        allow_download: bool = False,
        batch_size: int = 0,
        precision: str = "auto",
        threads: int = 0,
        stage_workers: int = 0,
    ):
        if precision not in PRECISIONS:
            raise ModelError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
        self.preset = preset
        self.name = preset.identity
        self.requested_device = device
        self.allow_download = allow_download
        self.requested_batch_size = batch_size
        self.requested_precision = precision
        self.threads = threads
        self.stage_workers = stage_workers
        self._model: Any = None  # the open_clip model (untyped), set by load()
        self._lock = threading.Lock()
        self.dim = self._config_dim()

    def _config_dim(self) -> int:
        import open_clip

        local = self.preset.local_dir_path
        if local is not None:
            import json

            cfg = json.loads((local / "open_clip_config.json").read_text())
            return int(cfg["model_cfg"]["embed_dim"])
        cfg = open_clip.get_model_config(self.preset.architecture)
        if cfg is None:
            raise ModelError(
                f"unknown open_clip architecture {self.preset.architecture!r}; see open_clip.list_models()"
            )
        return int(cfg["embed_dim"])

    @property
    def batch_size(self) -> int:
        """Explicit size, else the preset's: `gpu_batch_size` on CUDA (throughput), `batch_size` on the CPU."""
        if self.requested_batch_size:
            return self.requested_batch_size
        device = self.device if self._model is not None else pick_device(self.requested_device)
        return self.preset.gpu_batch_size if device == "cuda" else self.preset.batch_size

    # -- loading ---------------------------------------------------------------------------
    def load(self) -> None:
        with self._lock:
            if self._model is None:
                self._load()

    def _load(self) -> None:
        import open_clip
        import torch

        p = self.preset
        self.device = pick_device(self.requested_device)
        precision = self.requested_precision
        if precision == "auto":
            precision = "fp16" if self.device == "cuda" else "fp32"
        if p.local_dir:
            if p.semantic and not cached_weights(p):
                raise WeightsUnavailable(
                    f"no weights file (.bin/.pt/.safetensors) in model folder {p.local_dir_path}; copy the "
                    f"checkpoint there, or use --model random-tiny for a non-semantic test run"
                )
            name, pretrained = f"local-dir:{p.local_dir_path}", None
        elif p.checkpoint:
            if not cached_weights(p):
                raise WeightsUnavailable(f"checkpoint file {p.checkpoint_path} not found; check the path in --model")
            name, pretrained = p.architecture, str(p.checkpoint_path)
        else:
            name, pretrained = p.architecture, p.pretrained
            if not cached_weights(p):
                if not self.allow_download:
                    raise WeightsUnavailable(weights_help(p))
                if _hub_offline() or not _hub_reachable():
                    raise WeightsUnavailable("the model hub cannot be reached and " + weights_help(p))
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(p.seed)
                model, _, preprocess = open_clip.create_model_and_transforms(
                    name, pretrained=pretrained, precision=precision, device=self.device
                )
            tokenizer = open_clip.get_tokenizer(name)
        except WeightsUnavailable:
            raise
        except Exception as exc:
            raise ModelError(f"open_clip could not load {p.name}: {exc}") from exc
        model.eval()
        if self.device == "cpu":
            torch.set_num_threads(self.threads or max(1, os.cpu_count() or 1))
        from models.preprocess import PreprocessSpec, TensorPreprocess

        self.precision = precision
        self._tensor_preprocess = TensorPreprocess(PreprocessSpec.from_open_clip(model), self.device)
        self._model, self._preprocess, self._tokenizer = model, preprocess, tokenizer
        self._dtype = torch.float16 if precision == "fp16" else torch.float32
        log.debug("%s loaded on %s (%s, batch %d)", p.name, self.device, precision, self.batch_size)

    # -- encoding --------------------------------------------------------------------------
    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.embed_frames([np.asarray(im.convert("RGB")) for im in images])

    def embed_frames(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        out = list(self.embed_batches([frames]))
        return out[0] if out else np.zeros((0, self.dim), np.float32)

    def embed_batches(self, batches: Iterable[Sequence[np.ndarray]]) -> Iterator[np.ndarray]:
        """Batches of uint8 RGB frames -> vectors; staging, copies and inference overlap on CUDA."""
        from models.overlap import ordered_map, run_batches, stage_batch

        self.load()
        pin = self.device == "cuda"
        workers = self.stage_workers or (min(8, max(1, (os.cpu_count() or 2) // 2)) if pin else 1)
        staged = ordered_map(lambda b: stage_batch(b, pin), (b for b in batches if len(b)), workers, workers + 1)
        yield from run_batches(staged, self.encode_staged, self.device)

    def encode_staged(self, groups: list) -> torch.Tensor:
        """Device-side work: uint8 frame groups (one tensor per size) -> normalised features."""
        import torch

        x = torch.cat([self._tensor_preprocess(g) for g in groups]).to(self._dtype)
        feats = self._model.encode_image(x).float()  # normalised in fp32: fp16 norms are off by ~1e-3
        return torch.nn.functional.normalize(feats, dim=-1)

    def encode_preprocessed(self, x) -> torch.Tensor:
        """The bare model on an already preprocessed batch (what bench_embed calls the raw rate)."""
        import torch

        self.load()
        with torch.inference_mode():
            return self._model.encode_image(x.to(self.device, self._dtype), normalize=True)

    @property
    def input_size(self) -> tuple[int, int]:
        self.load()
        return self._tensor_preprocess.spec.size

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        self.load()
        tokens = self._tokenizer(list(texts)).to(self.device)
        with torch.inference_mode():
            feats = self._model.encode_text(tokens, normalize=True)
        return feats.float().cpu().numpy()
