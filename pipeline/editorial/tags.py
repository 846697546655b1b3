"""Tags on takes and shots: manual ones from the editor, automatic ones with a score and a one-line reason.

Automatic tags come from measurement where measurement works (optical flow -> camera movement, luma ->
dark/bright, Laplacian -> soft, OpenCV's Haar cascade -> faces and shot size from face height) and
from CLIP zero-shot prompts (configs/tags/NAME.toml) only when the library's model is semantic:
a random-init model's similarities say nothing about content, so those groups are not produced
and the result says why. Pure cores: `movement_tag`, `exposure_tag`, `focus_tag`, `face_tags`,
`zero_shot`; library functions: `add_tag`, `remove_tag`, `list_tags`, `auto_tag`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.config import CONFIG_DIR, TagSettings
from pipeline.editorial.ingested import StageMissing, message, missing
from pipeline.editorial.measure import TakeMetrics, stored_metrics
from pipeline.errors import ConfigError, UsageError


@dataclass
class AutoTag:
    tag: str
    score: float
    reason: str
    method: str

    def to_json(self) -> dict:
        return {"tag": self.tag, "score": round(self.score, 3), "reason": self.reason, "method": self.method}


def load_vocabulary(name: str) -> dict:
    path = Path(name) if name.endswith(".toml") else CONFIG_DIR / "tags" / f"{name}.toml"
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        known = ", ".join(sorted(p.stem for p in (CONFIG_DIR / "tags").glob("*.toml")))
        raise ConfigError(f"[tags] vocabulary {name!r}: {path} not found; known: {known}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    if "measure" not in data:
        raise ConfigError(f"{path}: needs a [measure] section listing the measured tags")
    return data


def _allowed(vocab: dict, group: str, tag: str) -> bool:
    return tag in vocab["measure"].get(group, [])


def _smooth(xs: np.ndarray, k: int = 5) -> np.ndarray:
    if len(xs) < 3:
        return xs
    k = min(k, len(xs) | 1)
    pad = np.pad(xs, (k // 2, k // 2), mode="edge")
    return np.convolve(pad, np.ones(k) / k, mode="valid")


def motion_summary(m: TakeMetrics) -> dict:
    """Median motion (percent of width per frame), jitter around the smoothed path, median scale rate."""
    dx, dy, sc = (np.array(v[1:] or [0.0], dtype=float) for v in (m.dx, m.dy, m.scale))
    known = ~(np.isnan(dx) | np.isnan(dy) | np.isnan(sc))
    dx, dy, sc = (dx[known], dy[known], sc[known]) if known.any() else (np.zeros(1),) * 3
    jitter = float(np.mean(np.hypot(dx - _smooth(dx), dy - _smooth(dy)))) if len(dx) > 2 else 0.0
    return {
        "dx": float(np.median(dx)),
        "dy": float(np.median(dy)),
        "mag": float(np.median(np.hypot(dx, dy))),
        "jitter": jitter,
        "scale": float(np.median(sc)),
    }


def movement_tag(m: TakeMetrics, s: TagSettings) -> AutoTag | None:
    if len(m.frames) < 3:
        return None
    ms = motion_summary(m)
    desc = (
        f"median motion {ms['mag']:.2f}% of width/frame, jitter {ms['jitter']:.2f}, "
        f"zoom {ms['scale'] * 100:+.2f}%/frame"
    )
    if abs(ms["scale"]) > s.zoom_divergence:
        return AutoTag(
            "zoom",
            min(1.0, abs(ms["scale"]) / (2 * s.zoom_divergence)),
            f"zoom {'in' if ms['scale'] > 0 else 'out'}: {desc}",
            "optical flow",
        )
    if ms["jitter"] > s.handheld_jitter:
        return AutoTag(
            "handheld", min(1.0, ms["jitter"] / (2 * s.handheld_jitter)), f"shaky path: {desc}", "optical flow"
        )
    if ms["mag"] > s.move_motion:
        tag = "pan" if abs(ms["dx"]) >= abs(ms["dy"]) else "tilt"
        return AutoTag(
            tag,
            min(1.0, ms["mag"] / (2 * s.move_motion)),
            f"steady {'horizontal' if tag == 'pan' else 'vertical'} motion: {desc}",
            "optical flow",
        )
    if ms["mag"] < s.static_motion:
        return AutoTag("static", 1.0 - ms["mag"] / s.static_motion, f"no global motion: {desc}", "optical flow")
    return None


def exposure_tag(m: TakeMetrics, s: TagSettings) -> AutoTag | None:
    if not m.luma:
        return None
    luma = float(np.mean(m.luma))
    if luma < s.dark_luma:
        return AutoTag("dark", (s.dark_luma - luma) / s.dark_luma, f"mean luma {luma:.2f} < {s.dark_luma}", "luma")
    if luma > s.bright_luma:
        return AutoTag(
            "bright", (luma - s.bright_luma) / (1 - s.bright_luma), f"mean luma {luma:.2f} > {s.bright_luma}", "luma"
        )
    return None


def focus_tag(m: TakeMetrics, s: TagSettings) -> AutoTag | None:
    if not m.sharpness:
        return None
    sharp = float(np.median(m.sharpness))
    if sharp < s.soft_sharpness:
        return AutoTag(
            "soft",
            1.0 - sharp / s.soft_sharpness,
            f"variance of Laplacian {sharp:.0f} < {s.soft_sharpness:.0f} (soft focus or no detail)",
            "laplacian",
        )
    return None


SHOT_SIZE_BY_FACE = [(0.5, "ECU"), (0.3, "CU"), (0.18, "MCU"), (0.1, "MS"), (0.0, "WS")]


def face_tags(images: list[np.ndarray], s: TagSettings) -> list[AutoTag]:
    """'faces' when a face is found in any keyframe, and a shot size from the largest face's height."""
    from pipeline.editorial.faces import detect_faces

    if not images:
        return []
    found = [(detect_faces(im, max(24, int(im.shape[0] * s.face_min_fraction))), im.shape[0]) for im in images]
    with_face = [(boxes, h) for boxes, h in found if len(boxes)]
    if not with_face:
        return []
    largest = max(max(b[3] for b in boxes) / h for boxes, h in with_face)
    count = max(len(boxes) for boxes, _ in with_face)
    out = [
        AutoTag(
            "faces",
            len(with_face) / len(images),
            f"{count} face(s) in {len(with_face)}/{len(images)} keyframes (Haar cascade)",
            "haar",
        )
    ]
    size = next(tag for floor, tag in SHOT_SIZE_BY_FACE if largest >= floor)
    out.append(AutoTag(size, 0.6, f"largest face is {largest:.2f} of the frame height", "face size"))
    return out


def zero_shot(image_vecs: np.ndarray, prompts: dict[str, np.ndarray], margin: float, model: str) -> AutoTag | None:
    """The prompt of a group that best matches the mean of a shot's keyframe vectors, if it wins by `margin`."""
    v = image_vecs.mean(axis=0)
    v = v / (np.linalg.norm(v) or 1.0)
    sims = sorted(((float(v @ t), tag) for tag, t in prompts.items()), reverse=True)
    if len(sims) < 2 or sims[0][0] - sims[1][0] < margin or sims[0][1].startswith("NO_"):
        return None
    (best, tag), (second, other) = sims[0], sims[1]
    logits = np.array([s for s, _ in sims]) * 100.0
    prob = float(np.exp(logits[0] - logits.max()) / np.exp(logits - logits.max()).sum())
    return AutoTag(tag, prob, f"CLIP: {tag} {best:.3f} vs {other} {second:.3f}", model)


# -- catalog functions ---------------------------------------------------------------------


def _shot_id(catalog, clip_id: int, shot: int | None) -> int | None:
    if shot is None:
        return None
    row = catalog.shot_by_index(clip_id, shot)
    if row is None:
        raise UsageError(f"clip {clip_id} has no shot {shot}; `dailies shots FILE` lists them")
    return row["id"]


def add_tag(catalog, clip_ref: str, tag: str, shot: int | None = None) -> dict:
    """Add a manual tag to a take (or to one of its shots, by shot index)."""
    from pipeline.editorial.takes import find_clip

    tag = tag.strip()
    if not tag:
        raise UsageError("a tag cannot be empty")
    clip = find_clip(catalog, clip_ref)
    with catalog.transaction():
        catalog.add_tag(clip["id"], _shot_id(catalog, clip["id"], shot), tag, "manual", method="editor")
    return {"clip": clip["path"], "shot": shot, "tag": tag}


def remove_tag(catalog, clip_ref: str, tag: str, shot: int | None = None) -> bool:
    """Remove a manual tag; False when the clip did not have it."""
    from pipeline.editorial.takes import find_clip

    clip = find_clip(catalog, clip_ref)
    with catalog.transaction():
        return catalog.remove_tag(clip["id"], _shot_id(catalog, clip["id"], shot), tag.strip()) > 0


def list_tags(catalog, clip_ref: str | None = None) -> list[dict]:
    """Every tag (manual and automatic) of one clip or of the library."""
    from pipeline.editorial.takes import find_clip

    clip_id = find_clip(catalog, clip_ref)["id"] if clip_ref else None
    return [
        {
            "clip": r["path"],
            "clip_id": r["clip_id"],
            "shot": r["shot"],
            "tag": r["tag"],
            "kind": r["kind"],
            "score": r["score"],
            "reason": r["reason"],
            "method": r["method"],
        }
        for r in catalog.tags_of(clip_id)
    ]


def _keyframe_images(catalog, rows) -> list[np.ndarray]:
    import cv2

    out = []
    for r in rows:
        im = cv2.imread(str(catalog.root / r["thumb"]))
        if im is not None:
            out.append(im)
    return out


def auto_tag(catalog, settings: TagSettings, embedder=None, preset=None) -> dict:
    """Replace the automatic tags of every measured clip, and report what was not produced and why (and the
    clips the ingest's measure stage has not measured: a library ingested before it was a stage).
    `embedder`/`preset`: the library's model, for CLIP groups (only used when preset.semantic)."""
    vocab = load_vocabulary(settings.vocabulary)
    groups = vocab.get("clip", {})
    not_produced = []
    prompt_vecs = {}
    if groups and (preset is None or not preset.semantic):
        why = (
            f"the library's model {preset.name} is random-init (not semantic)"
            if preset
            else "the library has no embeddings"
        )
        not_produced = [
            {"group": g, "why": f"{why}; CLIP tags need real weights (see `dailies models`)"} for g in groups
        ]
    elif groups:
        for g, prompts in groups.items():
            vecs = embedder.embed_texts(list(prompts.values()))
            prompt_vecs[g] = dict(zip(prompts, vecs, strict=True))
    from pipeline.editorial.faces import FaceDetectorUnavailable, cascade_path

    try:
        cascade_path()
        faces_ok = True
    except FaceDetectorUnavailable as exc:
        faces_ok = False
        not_produced.append({"group": "faces", "why": str(exc)})
    ok = [c for c in catalog.clips() if c["status"] == "ok"]
    metrics = stored_metrics(catalog, [c["id"] for c in ok])  # measured by the ingest
    if ok and not metrics:
        raise StageMissing(message("measure", [c["path"] for c in ok]))
    counts: dict[str, int] = {}
    for clip_id, m in metrics.items():
        kfs = catalog.keyframes_of_clip(clip_id)
        with catalog.transaction():
            catalog.clear_auto_tags(clip_id)
            for shot in catalog.shots(clip_id):
                window = m.window(shot["start_frame"], shot["end_frame"])
                shot_kfs = [k for k in kfs if k["shot_id"] == shot["id"]]
                found = [
                    t
                    for t, g in (
                        (movement_tag(window, settings), "movement"),
                        (exposure_tag(window, settings), "exposure"),
                        (focus_tag(window, settings), "focus"),
                    )
                    if t and _allowed(vocab, g, t.tag)
                ]
                if faces_ok:
                    found += [
                        t
                        for t in face_tags(_keyframe_images(catalog, shot_kfs), settings)
                        if _allowed(vocab, "faces", t.tag) or _allowed(vocab, "shot_size", t.tag)
                    ]
                if prompt_vecs and shot_kfs:
                    vecs = [catalog.vector_of(k["id"], preset.identity) for k in shot_kfs]
                    vecs = np.array([v for v in vecs if v is not None])
                    for pv in prompt_vecs.values():
                        t = zero_shot(vecs, pv, settings.clip_min_margin, preset.identity) if len(vecs) else None
                        if t:
                            found.append(t)
                for t in found:
                    catalog.add_tag(clip_id, shot["id"], t.tag, "auto", t.score, t.reason, t.method)
                    counts[t.tag] = counts.get(t.tag, 0) + 1
    return {
        "clips": len(metrics),
        "tags": counts,
        "not_produced": not_produced,
        "missing_stages": missing(catalog, ("measure",)),
    }
