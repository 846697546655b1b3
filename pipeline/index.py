"""FAISS inner-product index over keyframe vectors, one per model, stamped with the model identity.

The catalog's `vectors` table is the source of truth; the index file is derived and can always be
rebuilt from it (`dailies index rebuild`). Ids in the index are keyframe ids (never reused), so a hit
maps back to its shot through the catalog.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from .catalog import Catalog
from .errors import CatalogError, DiskFull, IndexMismatch
from .sources import is_disk_full

log = logging.getLogger("dailies.index")


def index_paths(root: Path, model_id: str) -> tuple[Path, Path]:
    slug = hashlib.sha256(model_id.encode()).hexdigest()[:16]
    base = root / "index"
    return base / f"{slug}.faiss", base / f"{slug}.json"


@dataclass
class VectorIndex:
    model_id: str
    dim: int
    index: faiss.Index

    @classmethod
    def empty(cls, model_id: str, dim: int) -> "VectorIndex":
        return cls(model_id, dim, faiss.IndexIDMap2(faiss.IndexFlatIP(dim)))

    @property
    def ntotal(self) -> int:
        return self.index.ntotal

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self.index.id_map).astype(np.int64) if self.ntotal else np.zeros(0, np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, np.float32), np.asarray(ids, np.int64))

    def remove(self, ids: np.ndarray) -> int:
        if len(ids) == 0:
            return 0
        return int(self.index.remove_ids(np.asarray(ids, np.int64)))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, self.ntotal))
        return self.index.search(np.ascontiguousarray(queries, np.float32), k)

    def save(self, root: Path) -> None:
        ipath, spath = index_paths(root, self.model_id)
        ipath.parent.mkdir(parents=True, exist_ok=True)
        tmp = ipath.with_suffix(".faiss.tmp")
        stamp = {"model": self.model_id, "dim": self.dim, "count": self.ntotal, "kind": type(self.index.index).__name__}
        stmp = spath.with_suffix(".json.tmp")
        try:
            faiss.write_index(self.index, str(tmp))
            stmp.write_text(json.dumps(stamp, indent=1))
        except (OSError, RuntimeError) as exc:  # faiss reports a full disk as a RuntimeError
            tmp.unlink(missing_ok=True)
            stmp.unlink(missing_ok=True)
            full = is_disk_full(exc) or "No space left" in str(exc)
            raise (DiskFull if full else CatalogError)(
                f"cannot write the vector index under {ipath.parent} ({exc}); the catalog is intact and the index "
                f"is rebuilt from it -- {'free some space' if full else 'fix the folder'} and run the same command "
                f"again") from None
        # A reader between these two renames sees a new index with an old stamp: it rebuilds from the catalog.
        os.replace(tmp, ipath)
        os.replace(stmp, spath)

    @classmethod
    def load(cls, root: Path, model_id: str, dim: int) -> "VectorIndex":
        """Load the saved index for `model_id`; IndexMismatch if the file is absent, foreign or damaged."""
        ipath, spath = index_paths(root, model_id)
        if not ipath.exists() or not spath.exists():
            raise IndexMismatch(f"no index file for {model_id}")
        stamp = json.loads(spath.read_text())
        if stamp.get("model") != model_id or stamp.get("dim") != dim:
            raise IndexMismatch(f"{ipath} belongs to {stamp.get('model')} (dim {stamp.get('dim')}), not {model_id}")
        try:
            index = faiss.read_index(str(ipath))
        except RuntimeError as exc:
            raise IndexMismatch(f"{ipath} cannot be read ({exc})") from None
        if index.d != dim or index.ntotal != stamp.get("count"):
            raise IndexMismatch(f"{ipath} does not match its stamp")
        return cls(model_id, dim, index)


def rebuild(catalog: Catalog, model_id: str, dim: int) -> VectorIndex:
    vi = VectorIndex.empty(model_id, dim)
    for ids, vectors in catalog.iter_vectors(model_id, dim):
        vi.add(ids, vectors)
    return vi


def sync(catalog: Catalog, model_id: str, dim: int, save: bool = True) -> tuple[VectorIndex, dict]:
    """Bring the saved index in line with the catalog's vectors: add what is new, drop what is gone."""
    try:
        vi = VectorIndex.load(catalog.root, model_id, dim)
    except IndexMismatch as exc:
        log.debug("building index from stored vectors: %s", exc)
        vi = rebuild(catalog, model_id, dim)
        if save:
            vi.save(catalog.root)
        return vi, {"rebuilt": True, "added": vi.ntotal, "removed": 0, "total": vi.ntotal}
    want = catalog.vector_ids(model_id)
    have = vi.ids()
    new = np.setdiff1d(want, have, assume_unique=True)
    gone = np.setdiff1d(have, want, assume_unique=True)
    removed = vi.remove(gone)
    for ids, vectors in catalog.iter_vectors(model_id, dim, ids=new):
        vi.add(ids, vectors)
    if save and (len(new) or removed):
        vi.save(catalog.root)
    return vi, {"rebuilt": False, "added": int(len(new)), "removed": removed, "total": vi.ntotal}
