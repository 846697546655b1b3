#!/usr/bin/env python3
"""Search at scale: the index Dailies chooses for N vectors vs exact search, in one run.

    python scripts/bench_search.py --n 1000000 [--queries 200] [--json]

Vectors are SYNTHETIC but shaped like CLIP image embeddings, not i.i.d. random (ANN recall on
i.i.d. random vectors says nothing): a strong shared direction (CLIP vectors of unrelated images
have cosine ~0.5), a low-rank latent space (rank 64 in 512-d), Zipf-sized clusters (scenes/shots)
with small within-cluster spread, a little full-rank noise, L2-normalised. Queries stand in for text
queries: a different shared direction (the image/text "modality gap") plus a point near a random
cluster. Measured: index build (train + add), its memory, single-query latency p50/p95 of the
chosen index and of exact search, recall@10 against exact, incremental add/remove of 1% of the
vectors, and -- reported apart -- the time to encode a text query with the ViT-B-32 text tower
(random init: the architecture's speed, not its weights; no weights are on this machine).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import index_kinds as kinds  # noqa: E402
from pipeline.config import load_settings  # noqa: E402


def realistic_vectors(n: int, dim: int, seed: int, rank: int = 64, clusters: int | None = None, chunk: int = 100_000):
    """(vectors, generator state) -- see the module docstring. Yields chunks to keep memory flat."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.normal(size=(dim, rank)))  # dim x rank, orthonormal columns
    mean = rng.normal(size=dim)
    mean /= np.linalg.norm(mean)
    clusters = clusters or max(16, n // 200)
    centers = rng.normal(size=(clusters, rank)).astype(np.float32)
    weights = 1.0 / np.arange(1, clusters + 1) ** 0.8
    weights /= weights.sum()
    model = {"basis": basis.astype(np.float32), "mean": mean.astype(np.float32), "centers": centers}
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        which = rng.choice(clusters, size=m, p=weights)
        z = centers[which] + rng.normal(scale=0.35, size=(m, rank)).astype(np.float32)
        x = 1.2 * model["mean"] + (z / np.sqrt(rank)) @ model["basis"].T
        x += rng.normal(scale=0.25 / np.sqrt(dim), size=(m, dim)).astype(np.float32)
        out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out, model


def text_like_queries(model: dict, q: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    dim, rank = model["basis"].shape
    gap = rng.normal(size=dim).astype(np.float32)
    gap /= np.linalg.norm(gap)
    which = rng.integers(0, len(model["centers"]), size=q)
    z = model["centers"][which] + rng.normal(scale=0.6, size=(q, rank)).astype(np.float32)
    x = 0.8 * gap + 0.3 * model["mean"] + (z / np.sqrt(rank)) @ model["basis"].T
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def pct(values, p):
    return float(np.percentile(np.asarray(values) * 1000, p))


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_queries(fn, queries) -> list[float]:
    times = []
    for qv in queries:
        t0 = time.perf_counter()
        fn(qv.reshape(1, -1))
        times.append(time.perf_counter() - t0)
    return times


def text_encode_times(arch: str, count: int) -> dict:
    import open_clip
    import torch

    torch.manual_seed(0)
    model = open_clip.create_model(arch, pretrained=None).eval()  # random init: speed only
    tok = open_clip.get_tokenizer(arch)
    texts = [f"close-up, woman laughing, night exterior, take {i}" for i in range(count)]
    times = []
    with torch.inference_mode():
        model.encode_text(tok(texts[:1]), normalize=True)
        for t in texts:
            t0 = time.perf_counter()
            model.encode_text(tok([t]), normalize=True)
            times.append(time.perf_counter() - t0)
    return {"arch": arch, "weights": "random init (speed only)", "p50_ms": pct(times, 50), "p95_ms": pct(times, 95)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--config", help="settings file whose [index] section to use (default: configs/default.toml)")
    ap.add_argument("--nprobe", type=int, nargs="*", default=[], help="also report these nprobe values")
    ap.add_argument(
        "--text-arch", default="ViT-B-32", help="open_clip architecture for the text-encode timing ('' = skip)"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    settings = load_settings(*([Path(args.config)] if args.config else [])).index
    out: dict = {
        "n": args.n,
        "dim": args.dim,
        "queries": args.queries,
        "k": args.k,
        "cpu_count": os.cpu_count(),
        "vectors": "synthetic CLIP-like: shared direction + rank-64 latent, Zipf clusters, L2-normalised",
    }
    t0 = time.perf_counter()
    xb, model = realistic_vectors(args.n, args.dim, args.seed)
    xq = text_like_queries(model, args.queries, args.seed)
    out["generate_s"] = round(time.perf_counter() - t0, 2)

    import faiss

    # exact answers and exact single-query latency, straight on the array (no copy)
    t0 = time.perf_counter()
    _, truth = faiss.knn(xq, xb, args.k, metric=faiss.METRIC_INNER_PRODUCT)
    out["exact_batch_ms_per_query"] = round((time.perf_counter() - t0) * 1000 / args.queries, 2)
    exact_t = time_queries(lambda q: faiss.knn(q, xb, args.k, metric=faiss.METRIC_INNER_PRODUCT), xq[:50])
    out["exact"] = {"p50_ms": pct(exact_t, 50), "p95_ms": pct(exact_t, 95), "memory_mb": round(xb.nbytes / 2**20)}

    # the index Dailies chooses for n vectors, built the way index.rebuild builds it
    spec = kinds.choose(args.n, settings)
    ids = np.arange(1, args.n + 1, dtype=np.int64)  # keyframe ids start at 1
    rss0 = rss_mb()
    t0 = time.perf_counter()
    training = None
    if spec.kind == "ivf":
        want = kinds.train_size(spec, args.n, settings)
        training = xb[:: max(1, args.n // want)][:want]
    index = kinds.build_empty(spec, args.dim, training)
    t_train = time.perf_counter() - t0
    hold = args.n // 100  # 1% kept back for the incremental add
    for s in range(0, args.n - hold, 100_000):
        e = min(s + 100_000, args.n - hold)
        index.add_with_ids(xb[s:e], ids[s:e])
    t_add = time.perf_counter() - t0 - t_train
    t1 = time.perf_counter()
    index.add_with_ids(xb[args.n - hold :], ids[args.n - hold :])
    t_incr = time.perf_counter() - t1
    t1 = time.perf_counter()
    removed = index.remove_ids(ids[args.n - hold :])
    t_remove = time.perf_counter() - t1
    index.add_with_ids(xb[args.n - hold :], ids[args.n - hold :])
    out["index"] = {
        "kind": spec.describe(),
        "train_s": round(t_train, 2),
        "add_s": round(t_add, 2),
        "build_s": round(t_train + t_add, 2),
        "add_1pct_s": round(t_incr, 3),
        "remove_1pct_s": round(t_remove, 3),
        "removed": int(removed),
        "memory_mb": round(kinds.memory_bytes(index) / 2**20),
        "rss_growth_mb": round(rss_mb() - rss0),
    }

    def evaluate(nprobe_override=None):
        from dataclasses import replace

        params = kinds.search_params(spec, replace(settings, nprobe=nprobe_override) if nprobe_override else settings)
        found = index.search(xq, args.k, params=params)[1]
        recall = float(np.mean([len(set(found[i]) & set(ids[truth[i]])) / args.k for i in range(len(xq))]))
        times = time_queries(lambda q: index.search(q, args.k, params=params), xq)
        return {
            "nprobe": getattr(params, "nprobe", None),
            "recall_at_10": round(recall, 4),
            "p50_ms": pct(times, 50),
            "p95_ms": pct(times, 95),
        }

    out["search"] = evaluate()
    out["search_nprobe_sweep"] = [evaluate(p) for p in args.nprobe] if spec.kind == "ivf" else []
    if args.text_arch:
        out["text_encode"] = text_encode_times(args.text_arch, 30)
        enc = out["text_encode"]
        out["text_query_total_p95_ms"] = round(enc["p95_ms"] + out["search"]["p95_ms"], 2)
    for section in (out["exact"], out["search"], out.get("text_encode", {}), *out["search_nprobe_sweep"]):
        for key in ("p50_ms", "p95_ms"):
            if key in section:
                section[key] = round(section[key], 2)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(
            f"{args.n} x {args.dim} synthetic CLIP-like vectors, {args.queries} text-like queries,"
            f" {os.cpu_count()} cores"
        )
        print(
            f"index: {out['index']['kind']}: build {out['index']['build_s']} s (train {out['index']['train_s']} s), "
            f"{out['index']['memory_mb']} MB; add 1%: {out['index']['add_1pct_s']} s,"
            f" remove 1%: {out['index']['remove_1pct_s']} s"
        )
        s = out["search"]
        print(
            f"search: p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, recall@{args.k} {s['recall_at_10']}"
            f" (nprobe {s['nprobe']})"
        )
        for s in out["search_nprobe_sweep"]:
            print(
                f"  nprobe {s['nprobe']}: p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms,"
                f" recall@{args.k} {s['recall_at_10']}"
            )
        e = out["exact"]
        print(f"exact: p50 {e['p50_ms']} ms, p95 {e['p95_ms']} ms, {e['memory_mb']} MB")
        if "text_encode" in out:
            t = out["text_encode"]
            print(f"text encode ({t['arch']}, {t['weights']}): p50 {t['p50_ms']} ms, p95 {t['p95_ms']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
