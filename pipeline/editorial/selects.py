"""Setups and proposed selects: group sibling takes, score each on focus, exposure, stability,
completeness and the circled flag, rank per setup with a per-factor explanation.

Dailies proposes; the editor decides: `pin` puts a take first in its setup and `reject` last, and
every later run respects it. Only reads: the ingest's takes and measure stages made what it needs.
Pure cores: `framing_signature`, `group_setups`, `score_setup`; library functions:
`propose(catalog, settings, scene=None, clip_ids=None)`, `set_override`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from pipeline.config import SelectSettings
from pipeline.editorial.ingested import StageMissing, message
from pipeline.editorial.measure import TakeMetrics, framing_signature, stored_metrics
from pipeline.editorial.tags import motion_summary
from pipeline.editorial.takes import Take, find_clip, list_takes


@dataclass
class Factor:
    name: str
    score: float  # 0..1, 1 = best
    weight: float
    why: str


@dataclass
class Proposal:
    clip_id: int
    clip: str
    name: str
    setup: str
    scene: str | None
    take: str | None
    camera: str | None
    circled: bool
    score: float
    rank: int = 0
    override: str | None = None
    note: str | None = None
    factors: list[Factor] = field(default_factory=list)

    def to_json(self) -> dict:
        d = asdict(self)
        d["score"] = round(self.score, 4)
        for f in d["factors"]:
            f["score"] = round(f["score"], 4)
        return d

    @property
    def explanation(self) -> str:
        return "; ".join(f"{f.name} {f.score:.2f} ({f.why})" for f in self.factors if f.weight)


# -- setups --------------------------------------------------------------------------------


def framing_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Best correlation between any framing signature of take a and any of take b (rows: signatures)."""
    return float((np.atleast_2d(a) @ np.atleast_2d(b).T).max())


def group_setups(takes: list[Take], signatures: dict[int, np.ndarray], threshold: float) -> dict[str, list[Take]]:
    """Setups: same scene and camera (takes without a scene are grouped by framing alone), split into
    groups: a take joins the group holding its most similar take when that similarity (best correlation
    between their framing signatures, see `framing_similarity`) is >= threshold."""
    by_key: dict[tuple, list[Take]] = {}
    for t in takes:
        by_key.setdefault((t.scene, t.camera), []).append(t)
    setups: dict[str, list[Take]] = {}
    for (scene, camera), members in sorted(by_key.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        groups: list[list[Take]] = []
        for t in members:
            sig = signatures.get(t.clip_id)
            best, best_sim = None, threshold
            for g in groups:
                sigs = [signatures[m.clip_id] for m in g if m.clip_id in signatures]
                if sig is None or not sigs:
                    continue
                sim = max(framing_similarity(sig, other) for other in sigs)
                if sim >= best_sim:
                    best, best_sim = g, sim
            if best is None:
                groups.append([t])
            else:
                best.append(t)
        base = f"{scene or 'unslated'}" + (f"/{camera}" if camera else "")
        for i, g in enumerate(groups):
            setups[base if len(groups) == 1 else f"{base}#{i + 1}"] = g
    return setups


# -- scoring -------------------------------------------------------------------------------


def take_measures(m: TakeMetrics) -> dict:
    """The numbers the factors compare, from a take's measurements."""
    sharp = np.array(m.sharpness or [0.0])
    coarse = np.array(m.coarse or [1.0])
    return {
        # fine detail relative to coarse detail: falls with defocus, independent of gain and clipping
        "sharpness": float(np.median(sharp / np.maximum(coarse, 1e-3))),
        "laplacian": float(np.median(sharp)),
        "luma": float(np.mean(m.luma or [0.0])),
        "clipped": float(np.mean(np.array(m.clip_hi or [0.0]) + np.array(m.clip_lo or [0.0]))),
        "jitter": motion_summary(m)["jitter"] if len(m.frames) > 2 else 0.0,
        "frames": m.frame_count,
    }


def score_setup(takes: list[Take], measures: dict[int, dict], s: SelectSettings) -> list[Proposal]:
    """Score the takes of one setup against each other; the result is sorted best first (no overrides)."""
    ms = [measures[t.clip_id] for t in takes]
    best_sharp = max(x["sharpness"] for x in ms) or 1.0
    least_clip = min(x["clipped"] for x in ms)
    least_jitter = min(x["jitter"] for x in ms)
    longest = max(x["frames"] for x in ms) or 1
    out = []
    for t, x in zip(takes, ms, strict=True):
        focus = x["sharpness"] / best_sharp
        extra_clip = x["clipped"] - least_clip
        level_pen = max(0.0, abs(x["luma"] - 0.45) - 0.15) * 2  # mid-grey +- 0.15 is free
        exposure = max(0.0, 1.0 - 3 * extra_clip - level_pen)
        extra_jitter = x["jitter"] - least_jitter
        stability = 1.0 / (1.0 + max(0.0, extra_jitter - 0.05) / 0.3)  # < 0.05% of width/frame: noise
        frac = x["frames"] / longest
        factors = [
            Factor(
                "focus",
                focus,
                s.focus_weight,
                f"Laplacian variance {x['laplacian']:.0f}, {focus:.0%} of the sharpest sibling "
                f"(fine/coarse detail {x['sharpness']:.1f})",
            ),
            Factor(
                "exposure",
                exposure,
                s.exposure_weight,
                f"mean level {x['luma']:.2f}, {x['clipped']:.1%} of pixels clipped"
                + (f" ({extra_clip:+.1%} vs the cleanest sibling)" if extra_clip > 0.001 else ""),
            ),
            Factor(
                "stability",
                stability,
                s.stability_weight,
                f"camera jitter {x['jitter']:.2f}% of width/frame"
                + (f", {extra_jitter:+.2f} vs the steadiest sibling" if extra_jitter > 0.01 else ""),
            ),
            Factor(
                "completeness",
                frac,
                s.completeness_weight,
                f"{x['frames']} frames, {frac:.0%} of the longest sibling"
                + (" -- probable false start" if frac < s.false_start_fraction else ""),
            ),
            Factor(
                "circled",
                1.0 if t.circled else 0.0,
                s.circled_weight,
                "circled by the script supervisor" if t.circled else "not circled",
            ),
        ]
        total_w = sum(f.weight for f in factors) or 1.0
        score = sum(f.score * f.weight for f in factors) / total_w
        out.append(
            Proposal(t.clip_id, t.path, t.name, "", t.scene, t.take, t.camera, t.circled, score, factors=factors)
        )
    return sorted(out, key=lambda p: (-p.score, p.name))


def _signatures(catalog, takes: list[Take], metrics: dict[int, TakeMetrics]) -> dict[int, np.ndarray]:
    """Framing signatures from the measurement pass (frame 0 and every second or so), else the middle keyframe."""
    import cv2

    out = {}
    for t in takes:
        if metrics.get(t.clip_id) is not None and metrics[t.clip_id].framing:
            out[t.clip_id] = np.array(metrics[t.clip_id].framing, dtype=np.float32)
            continue
        kfs = catalog.keyframes_of_clip(t.clip_id)
        if kfs:
            im = cv2.imread(str(catalog.root / kfs[len(kfs) // 2]["thumb"]))
            if im is not None:
                out[t.clip_id] = framing_signature(im)
    return out


def propose(catalog, settings, scene: str | None = None, clip_ids: set[int] | None = None) -> dict[str, list[Proposal]]:
    """Ranked proposals per setup. `scene` limits to one scene; `clip_ids` keeps the setups that contain
    one of these clips (e.g. search hits), siblings included. Editor overrides are applied. Reads the
    measurements the ingest stored; StageMissing when none of the takes has them (a library ingested
    before measure was a stage), and takes without them are left out (`ingested.missing` lists them)."""
    takes = list_takes(catalog, scene)
    metrics = stored_metrics(catalog, [t.clip_id for t in takes])
    if takes and not metrics:
        raise StageMissing(message("measure", [t.path for t in takes]))
    takes = [t for t in takes if t.clip_id in metrics]  # the others: `ingested.missing` names them
    measures = {cid: take_measures(m) for cid, m in metrics.items()}
    setups = group_setups(takes, _signatures(catalog, takes, metrics), settings.selects.framing_similarity)
    overrides = catalog.overrides()
    result = {}
    for name, members in setups.items():
        if clip_ids is not None and not any(t.clip_id in clip_ids for t in members):
            continue
        ranked = score_setup(members, measures, settings.selects)
        for p in ranked:
            p.setup = name
            o = overrides.get(p.clip_id)
            if o is not None:
                p.override, p.note = o["action"], o["note"]
        order = {"pin": 0, None: 1, "reject": 2}
        ranked.sort(key=lambda p: order[p.override])  # stable: score order kept inside each group
        for i, p in enumerate(ranked, 1):
            p.rank = i
        result[name] = ranked
    return result


def set_override(catalog, clip_ref: str, action: str | None, note: str | None = None) -> dict:
    """Pin (first in its setup), reject (last), or clear (action None) the editor's choice for a take."""
    from pipeline.errors import UsageError

    if action not in ("pin", "reject", None):
        raise UsageError(f"override must be pin, reject or clear, not {action!r}")
    clip = find_clip(catalog, clip_ref)
    with catalog.transaction():
        catalog.set_override(clip["id"], action, note)
    return {"clip": clip["path"], "override": action, "note": note}
