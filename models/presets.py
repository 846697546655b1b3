"""Model presets are data: configs/models/NAME.toml (architecture, pretrained tag or local file).

The folder of presets is an argument (pipeline/embed.py passes the configs' `models/`): `models/`
imports nothing from `pipeline/`."""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from models.errors import UsageError

DEFAULT_ARCH_FOR_FILES = "ViT-B-32"


@dataclass(frozen=True)
class ModelPreset:
    name: str
    description: str = ""
    architecture: str = ""
    pretrained: str = ""  # open_clip pretrained tag (weights from the hub cache)
    checkpoint: str = ""  # local weights file
    local_dir: str = ""  # folder with open_clip_config.json (+ weights, or random init when none)
    semantic: bool = True
    batch_size: int = 32  # images per forward pass on the CPU
    gpu_batch_size: int = 256  # on CUDA: large batches for throughput
    sha256: str = ""
    seed: int = 0
    base_dir: str = field(default="", repr=False, compare=False)  # a relative local_dir is inside it

    @property
    def checkpoint_path(self) -> Path | None:
        return Path(os.path.expanduser(self.checkpoint)) if self.checkpoint else None

    @property
    def local_dir_path(self) -> Path | None:
        if not self.local_dir:
            return None
        p = Path(os.path.expanduser(self.local_dir))
        return p if p.is_absolute() else Path(self.base_dir) / p

    @property
    def identity(self) -> str:
        """What makes two vectors comparable: architecture + weights (+ seed for random init)."""
        local = self.local_dir_path
        if local is not None:
            cfg = local / "open_clip_config.json"
            digest = hashlib.sha256(cfg.read_bytes()).hexdigest()[:12] if cfg.exists() else "missing"
            files = dir_weights(local)
            weights = f"weights-{files[0].name}-{files[0].stat().st_size}" if files else f"random-init-seed{self.seed}"
            return f"open_clip:local-dir:{self.name}:{digest}:{weights}"
        if self.checkpoint:
            return f"open_clip:{self.architecture}:file:{self.sha256[:16] or Path(self.checkpoint).name}"
        return f"open_clip:{self.architecture}:{self.pretrained}"

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("base_dir")
        return {**data, "identity": self.identity}


def dir_weights(path: Path | None) -> list[Path]:
    if not path or not path.is_dir():
        return []
    return [p for p in path.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".safetensors")]


def list_presets(models_dir: Path) -> list[ModelPreset]:
    return [load_preset(p.stem, models_dir) for p in sorted(models_dir.glob("*.toml"))]


def load_preset(name: str, models_dir: Path) -> ModelPreset:
    path = models_dir / f"{name}.toml"
    if not path.exists():
        known = ", ".join(p.stem for p in sorted(models_dir.glob("*.toml")))
        raise UsageError(f"unknown model preset {name!r}; known presets: {known} (or give a checkpoint file path)")
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    try:
        return ModelPreset(name=name, **data, base_dir=str(models_dir))
    except TypeError as exc:
        raise UsageError(f"{path}: {exc}") from None


def resolve_model(spec: str, models_dir: Path) -> ModelPreset:
    """A preset name, a checkpoint file (ViT-B-32 unless ARCH:path), or an open_clip model folder."""
    arch, _, maybe_path = spec.partition(":") if ":" in spec and not os.path.exists(spec) else ("", "", spec)
    candidate = Path(os.path.expanduser(maybe_path))
    if candidate.is_file():
        digest = _sha256(candidate)
        return ModelPreset(
            name=candidate.name,
            description=f"local checkpoint {candidate}",
            architecture=arch or DEFAULT_ARCH_FOR_FILES,
            checkpoint=str(candidate.resolve()),
            sha256=digest,
            semantic=True,
            batch_size=64,
        )
    if candidate.is_dir():
        return ModelPreset(
            name=candidate.name,
            description=f"open_clip folder {candidate}",
            local_dir=str(candidate.resolve()),
            semantic=True,
        )
    if os.sep in spec or spec.endswith((".bin", ".pt", ".pth", ".safetensors")):
        raise UsageError(f"model file not found: {spec}; give an existing checkpoint path or a preset name")
    return load_preset(spec, models_dir)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
