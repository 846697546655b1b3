"""Keeping the model busy: CPU work in worker threads, host->device copies on their own CUDA stream.

- `ordered_map(fn, items, workers, window)`: fn over items in a thread pool, results in input order,
  at most `window` in flight (JPEG decoding and uint8 staging release the GIL, so threads scale).
- `stage_batch(frames, pin)`: a list of uint8 RGB frames -> one uint8 tensor per frame size, in
  pinned (page-locked) memory on CUDA machines so the copy to the GPU is asynchronous.
- `run_batches(staged, compute, device)`: on CUDA, batch i+1 is copied on a side stream while the
  model runs batch i on the default stream, and results come back through pinned memory one batch
  late, so the CPU never waits for the GPU except for the oldest result. On the CPU the same code runs
  without streams or pinning (tests exercise it there).
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np


def ordered_map(fn: Callable, items: Iterable, workers: int, window: int) -> Iterator:
    """fn(item) for every item, computed by `workers` threads, yielded in order; bounded read-ahead."""
    if workers <= 1:
        yield from map(fn, items)
        return
    with cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dailies-feed") as pool:
        pending: collections.deque[cf.Future] = collections.deque()
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= max(1, window):
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


def batched(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class StagedBatch:
    """Frames grouped by size: groups[i] holds the frames at positions[i] of the original batch."""

    positions: list[np.ndarray]
    groups: list  # torch uint8 tensors (n, H, W, 3)
    size: int

    def order(self) -> np.ndarray:
        """Original position of each row of the concatenated groups."""
        return np.concatenate(self.positions)


def stage_batch(frames: Sequence[np.ndarray], pin: bool) -> StagedBatch:
    import torch

    by_shape: dict[tuple, list[int]] = {}
    for i, f in enumerate(frames):
        if f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3:
            raise ValueError(f"frame {i}: expected an RGB uint8 array (H, W, 3), got {f.dtype} {f.shape}")
        by_shape.setdefault(f.shape, []).append(i)
    positions, groups = [], []
    for shape, pos in by_shape.items():
        t = torch.empty((len(pos), *shape), dtype=torch.uint8, pin_memory=pin)
        np.stack([frames[i] for i in pos], out=t.numpy())
        positions.append(np.asarray(pos, np.int64))
        groups.append(t)
    return StagedBatch(positions, groups, len(frames))


def run_batches(staged: Iterable[StagedBatch], compute: Callable, device, depth: int = 2) -> Iterator[np.ndarray]:
    """compute(list of device uint8 groups) -> (n, dim) tensor in group order; yields (n, dim) float32
    arrays in each batch's original frame order."""
    import torch

    device = torch.device(device)
    if device.type != "cuda":
        for sb in staged:
            with torch.inference_mode():
                feats = compute([g.to(device) for g in sb.groups]).float().cpu().numpy()
            yield _unpermute(sb, feats)
        return
    copy_stream = torch.cuda.Stream(device)
    main_stream = torch.cuda.current_stream(device)
    pending: collections.deque = collections.deque()
    for sb in staged:
        with torch.cuda.stream(copy_stream):
            on_device = [g.to(device, non_blocking=True) for g in sb.groups]
        main_stream.wait_stream(copy_stream)
        for t in on_device:
            t.record_stream(main_stream)  # the copy stream's memory is in use on the main stream
        with torch.inference_mode():
            feats = compute(on_device).float()
        host = torch.empty(feats.shape, dtype=torch.float32, pin_memory=True)
        host.copy_(feats, non_blocking=True)
        done = torch.cuda.Event()
        done.record(main_stream)
        pending.append((sb, host, done))
        while len(pending) >= depth:
            yield _finish(*pending.popleft())
    while pending:
        yield _finish(*pending.popleft())


def _finish(sb: StagedBatch, host, done) -> np.ndarray:
    done.synchronize()
    return _unpermute(sb, host.numpy())


def _unpermute(sb: StagedBatch, feats: np.ndarray) -> np.ndarray:
    out = np.empty_like(feats)
    out[sb.order()] = feats
    return out
