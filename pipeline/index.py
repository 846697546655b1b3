"""FAISS inner-product index over keyframe vectors, one per model, stamped with the model identity.

The catalog's `vectors` table is the source of truth; the index file is derived and can always be
rebuilt from it (`dailies index rebuild`). Ids in the index are keyframe ids (never reused), so a hit
maps back to its shot through the catalog. The kind of index follows the library's size
(index_kinds.py): exact up to `[index] exact_max` vectors, IVF above; `sync` adds new vectors and
drops removed ones without a rebuild, and rebuilds only when the kind changes or an IVF index
has outgrown its training.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from pipeline import index_kinds as kinds
from pipeline.catalog import Catalog
from pipeline.config import IndexSettings
from pipeline.errors import CatalogError, DiskFull, IndexMismatch, is_disk_full
from pipeline.index_kinds import IndexSpec

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
    spec: IndexSpec
    trained_on: int = 0  # IVF: the library's vector count when its lists were trained
    settings: IndexSettings = IndexSettings()
    catalog_changes: int | None = None  # the catalog's vector change counter this index reflects

    @classmethod
    def empty(
        cls,
        model_id: str,
        dim: int,
        spec: IndexSpec | None = None,
        training: np.ndarray | None = None,
        settings: IndexSettings | None = None,
    ) -> VectorIndex:
        spec = spec or IndexSpec("flat")
        return cls(model_id, dim, kinds.build_empty(spec, dim, training), spec, 0, settings or IndexSettings())

    @property
    def ntotal(self) -> int:
        return self.index.ntotal

    def ids(self) -> np.ndarray:
        return kinds.stored_ids(self.index)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, np.float32), np.asarray(ids, np.int64))

    def remove(self, ids: np.ndarray) -> int:
        if len(ids) == 0:
            return 0
        # faiss's stub names only IDSelector; its Python wrapper (replacement_remove_ids) also takes an id array
        return int(self.index.remove_ids(np.asarray(ids, np.int64)))  # type: ignore[arg-type]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, self.ntotal))
        params = kinds.search_params(self.spec, self.settings)
        return self.index.search(np.ascontiguousarray(queries, np.float32), k, params=params)

    def save(self, root: Path) -> None:
        ipath, spath = index_paths(root, self.model_id)
        ipath.parent.mkdir(parents=True, exist_ok=True)
        tmp = ipath.with_suffix(".faiss.tmp")
        stamp = {
            "model": self.model_id,
            "dim": self.dim,
            "count": self.ntotal,
            "kind": self.spec.describe(),
            "spec": self.spec.to_json(),
            "trained_on": self.trained_on,
            "catalog_changes": self.catalog_changes,
        }
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
                f"again"
            ) from None
        # A reader between these two renames sees a new index with an old stamp: it rebuilds from the catalog.
        os.replace(tmp, ipath)
        os.replace(stmp, spath)

    @classmethod
    def load(cls, root: Path, model_id: str, dim: int, settings: IndexSettings | None = None) -> VectorIndex:
        """Load the saved index for `model_id`; IndexMismatch if the file is absent, foreign or damaged."""
        ipath, spath = index_paths(root, model_id)
        if not ipath.exists() or not spath.exists():
            raise IndexMismatch(f"no index file for {model_id}")
        stamp = json.loads(spath.read_text())
        if stamp.get("model") != model_id or stamp.get("dim") != dim:
            raise IndexMismatch(f"{ipath} belongs to {stamp.get('model')} (dim {stamp.get('dim')}), not {model_id}")
        try:
            index = faiss.read_index(str(ipath))
            spec = IndexSpec.from_json(stamp["spec"]) if "spec" in stamp else IndexSpec("flat")
            found = kinds.spec_of(index)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise IndexMismatch(f"{ipath} cannot be read ({exc})") from None
        if index.d != dim or index.ntotal != stamp.get("count") or found != spec:
            raise IndexMismatch(f"{ipath} does not match its stamp")
        return cls(
            model_id,
            dim,
            index,
            spec,
            int(stamp.get("trained_on", 0)),
            settings or IndexSettings(),
            stamp.get("catalog_changes"),
        )


def _training_sample(catalog: Catalog, model_id: str, dim: int, n: int, want: int) -> np.ndarray:
    """`want` vectors drawn evenly across the catalog (every k-th), in one streaming pass."""
    stride = max(1, n // max(1, want))
    parts, seen = [], 0
    for _ids, vectors in catalog.iter_vectors(model_id, dim):
        first = (-seen) % stride
        parts.append(vectors[first::stride])
        seen += len(vectors)
    sample = np.concatenate(parts) if parts else np.zeros((0, dim), np.float32)
    return sample[:want]


def rebuild(
    catalog: Catalog, model_id: str, dim: int, settings: IndexSettings | None = None, spec: IndexSpec | None = None
) -> VectorIndex:
    """A new index of the kind `settings` choose for the catalog's vector count, filled from the catalog."""
    settings = settings or IndexSettings()
    changes = catalog.vectors_changes(model_id)  # read first: a later change makes the stamp look older, never newer
    n = catalog.vector_count(model_id)
    spec = spec or kinds.choose(n, settings)
    t0 = time.monotonic()
    training = None
    if spec.kind == "ivf":
        training = _training_sample(catalog, model_id, dim, n, kinds.train_size(spec, n, settings))
        if len(training) < spec.nlist:  # too few vectors for that many lists: stay exact
            spec, training = IndexSpec("flat"), None
    vi = VectorIndex.empty(model_id, dim, spec, training, settings)
    vi.trained_on = n if spec.kind == "ivf" else 0
    vi.catalog_changes = changes
    for ids, vectors in catalog.iter_vectors(model_id, dim):
        vi.add(ids, vectors)
    log.info("index built: %d vectors, %s, %.1fs", vi.ntotal, spec.describe(), time.monotonic() - t0)
    return vi


def sync(
    catalog: Catalog, model_id: str, dim: int, save: bool = True, settings: IndexSettings | None = None
) -> tuple[VectorIndex, dict]:
    """Bring the saved index in line with the catalog's vectors: add what is new, drop what is gone.

    A rebuild happens only when there is no usable saved index, when the vector count calls for
    another kind (exact <-> IVF), or when an IVF index outgrew its training (`retrain_growth`).
    When the catalog's vector change counter equals the one in the index's stamp, nothing changed
    and no ids are compared (a search on a million vectors does not read a million ids first)."""
    settings = settings or IndexSettings()
    try:
        vi = VectorIndex.load(catalog.root, model_id, dim, settings)
    except IndexMismatch as exc:
        log.debug("building index from stored vectors: %s", exc)
        return _rebuilt(catalog, model_id, dim, settings, save, reason=str(exc))
    changes = catalog.vectors_changes(model_id)
    if changes is not None and changes == vi.catalog_changes and kinds.choose(vi.ntotal, settings, vi.spec) == vi.spec:
        return vi, {"rebuilt": False, "added": 0, "removed": 0, "total": vi.ntotal, "kind": vi.spec.describe()}
    want = catalog.vector_ids(model_id)
    spec = kinds.choose(len(want), settings, vi.spec)
    if spec != vi.spec or kinds.needs_retrain(vi.spec, vi.trained_on, len(want), settings):
        why = (
            f"{len(want)} vectors call for {spec.describe()} (was {vi.spec.describe()})"
            if spec != vi.spec
            else f"IVF lists trained on {vi.trained_on} vectors, the library now holds {len(want)}: retraining"
        )
        log.info("index: %s", why)
        return _rebuilt(catalog, model_id, dim, settings, save, reason=why)
    have = vi.ids()
    new = np.setdiff1d(want, have, assume_unique=True)
    gone = np.setdiff1d(have, want, assume_unique=True)
    removed = vi.remove(gone)
    for ids, vectors in catalog.iter_vectors(model_id, dim, ids=new):
        vi.add(ids, vectors)
    stale_stamp = vi.catalog_changes != changes
    vi.catalog_changes = changes
    if save and (len(new) or removed or stale_stamp):
        vi.save(catalog.root)
    return vi, {
        "rebuilt": False,
        "added": int(len(new)),
        "removed": removed,
        "total": vi.ntotal,
        "kind": vi.spec.describe(),
    }


def _rebuilt(catalog, model_id, dim, settings, save, reason: str) -> tuple[VectorIndex, dict]:
    vi = rebuild(catalog, model_id, dim, settings)
    if save:
        vi.save(catalog.root)
    return vi, {
        "rebuilt": True,
        "reason": reason,
        "added": vi.ntotal,
        "removed": 0,
        "total": vi.ntotal,
        "kind": vi.spec.describe(),
    }
