"""Which FAISS index for how many vectors: exact up to a threshold, then an inverted-file (IVF) index.

Pure functions, no catalog: `choose(n, settings, current)` names the kind and its parameters,
`build_empty(spec, dim, training)` makes the FAISS object. The ids stored in every kind are the
catalog's keyframe ids, so a hit maps back to its shot whatever the kind.

Why IVF and not HNSW above the threshold: an IVF index takes new vectors without retraining
(`add_with_ids`), removes them (`remove_ids`, needed when a clip is re-ingested) and builds a
million 512-d vectors in about a minute on two cores; FAISS's HNSW cannot remove vectors and took
835 s to build the same million here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import faiss
import numpy as np

from pipeline.config import IndexSettings
from pipeline.errors import ConfigError

ENCODINGS = {"flat": "Flat", "sq8": "SQ8", "pq": "PQ{m}"}  # [index] large_encoding -> FAISS factory part


@dataclass(frozen=True)
class IndexSpec:
    kind: str  # "flat" (exact) | "ivf"
    nlist: int = 0
    encoding: str = ""  # ivf only: flat | sq8 | pq
    pq_m: int = 0

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> IndexSpec:
        return cls(**data)

    def describe(self) -> str:
        if self.kind == "flat":
            return "exact (Flat, inner product)"
        return f"IVF{self.nlist},{self.encoding}" + (f"{self.pq_m}" if self.encoding == "pq" else "")


def auto_nlist(n: int) -> int:
    """About sqrt(n) lists, a power of two, between 64 and 65536 (1M vectors -> 1024 lists)."""
    return int(min(65536, max(64, 2 ** round(math.log2(max(1, math.sqrt(n)))))))


def choose(n: int, settings: IndexSettings, current: IndexSpec | None = None) -> IndexSpec:
    """The index for n vectors. Exact up to `exact_max`; IVF above. Hysteresis: an IVF index stays IVF
    until n falls below half the threshold, so a library at the threshold does not flip back and forth."""
    stays_ivf = current is not None and current.kind == "ivf" and n >= settings.exact_max // 2
    if n <= settings.exact_max and not stays_ivf:
        return IndexSpec("flat")
    if current is not None and current.kind == "ivf" and current.encoding == settings.large_encoding:
        return current  # keep the trained lists; `needs_retrain` decides when they are outgrown
    nlist = settings.nlist or auto_nlist(n)
    return IndexSpec("ivf", nlist, settings.large_encoding, settings.pq_m if settings.large_encoding == "pq" else 0)


def needs_retrain(spec: IndexSpec, trained_on: int, n: int, settings: IndexSettings) -> bool:
    """An IVF index trained on `trained_on` vectors is retrained once the library grew `retrain_growth` times."""
    return spec.kind == "ivf" and trained_on > 0 and n > settings.retrain_growth * trained_on


def train_size(spec: IndexSpec, n: int, settings: IndexSettings) -> int:
    """Vectors used to train the IVF lists: `train_per_list` per list, never more than there are."""
    return min(n, spec.nlist * settings.train_per_list)


def factory_string(spec: IndexSpec) -> str:
    if spec.kind == "flat":
        return "IDMap2,Flat"
    if spec.encoding not in ENCODINGS:
        raise ConfigError(f"[index] large_encoding must be one of {', '.join(ENCODINGS)}; got {spec.encoding!r}")
    return f"IVF{spec.nlist}," + ENCODINGS[spec.encoding].format(m=spec.pq_m)


def build_empty(spec: IndexSpec, dim: int, training: np.ndarray | None = None) -> faiss.Index:
    """An empty index of `spec`; IVF kinds are trained on `training` (rows L2-normalised)."""
    index = faiss.index_factory(dim, factory_string(spec), faiss.METRIC_INNER_PRODUCT)
    if spec.kind == "ivf":
        if training is None or len(training) < spec.nlist:
            have = 0 if training is None else len(training)
            raise ValueError(
                f"an IVF index of {spec.nlist} lists needs at least {spec.nlist} training vectors, got {have}"
            )
        index.train(np.ascontiguousarray(training, np.float32))
    return index


def spec_of(index: faiss.Index) -> IndexSpec:
    """Read the spec back from a loaded FAISS object (used to check a saved file against its stamp)."""
    if isinstance(index, faiss.IndexIDMap2) or isinstance(index, faiss.IndexIDMap):
        return IndexSpec("flat")
    ivf = faiss.downcast_index(faiss.extract_index_ivf(index))
    if isinstance(ivf, faiss.IndexIVFFlat):
        return IndexSpec("ivf", ivf.nlist, "flat")
    if isinstance(ivf, faiss.IndexIVFScalarQuantizer):
        return IndexSpec("ivf", ivf.nlist, "sq8")
    if isinstance(ivf, faiss.IndexIVFPQ):
        return IndexSpec("ivf", ivf.nlist, "pq", ivf.pq.M)
    raise ValueError(f"unsupported FAISS index type {type(index).__name__}")


def stored_ids(index: faiss.Index) -> np.ndarray:
    """Every id held by the index, sorted."""
    if index.ntotal == 0:
        return np.zeros(0, np.int64)
    if isinstance(index, (faiss.IndexIDMap2, faiss.IndexIDMap)):
        return np.sort(faiss.vector_to_array(index.id_map).astype(np.int64))
    ivf = faiss.extract_index_ivf(index)
    lists = ivf.invlists
    assert lists is not None  # an IVF index always holds its inverted lists
    parts = [
        faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy() for i in range(ivf.nlist) if lists.list_size(i)
    ]
    return np.sort(np.concatenate(parts).astype(np.int64))


def memory_bytes(index: faiss.Index) -> int:
    """Approximate RAM held by the index: stored codes + ids (+ the IVF centroids)."""
    if isinstance(index, (faiss.IndexIDMap2, faiss.IndexIDMap)):
        return index.ntotal * (index.d * 4 + 8)
    ivf = faiss.extract_index_ivf(index)
    return index.ntotal * (ivf.code_size + 8) + ivf.nlist * index.d * 4


def search_params(spec: IndexSpec, settings: IndexSettings):
    """Per-query parameters: how many IVF lists to visit (`nprobe`, 0 = auto: nlist/16, at least 16)."""
    if spec.kind != "ivf":
        return None
    nprobe = settings.nprobe or max(16, spec.nlist // 16)
    params = faiss.SearchParametersIVF()
    params.nprobe = min(nprobe, spec.nlist)
    return params
