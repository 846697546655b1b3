"""What the web server keeps for its lifetime: reader connections, the model (loaded once, on first
use), the vector index (reloaded only when the catalog's vectors change) and small query caches.

`WebState` is the `pipeline.search.Vectors` of the server's searches (model_info, text_vector,
image_vector, index)."""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline import index as index_stage
from pipeline.catalog import Catalog, open_catalog, open_reader
from pipeline.config import Settings
from pipeline.errors import UsageError
from pipeline.search import library_model


class LRU:
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int):
        self.size = max(1, size)
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


def default_embedder_factory(settings: Settings) -> Callable:
    def make(preset):
        from models.clip import OpenClipEmbedder

        return OpenClipEmbedder(preset, device=settings.embed.device)

    return make


class WebState:
    def __init__(self, library: Path, settings: Settings, embedder_factory: Callable | None = None):
        self.root = Path(library).expanduser().resolve()
        self.settings = settings
        self._make_embedder = embedder_factory or default_embedder_factory(settings)
        self._local = threading.local()
        self._readers: list[Catalog] = []
        self._readers_lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._embedder = None
        self._presets: dict[str, tuple] = {}
        self._index_lock = threading.Lock()
        self._index: index_stage.VectorIndex | None = None
        self._index_sig: tuple | None = None
        self.text_vectors = LRU(settings.web.query_cache)
        self.image_queries = LRU(64)  # key -> (vector, JPEG bytes of the re-encoded query image)
        self.model_loads = 0  # how often a model was built (tests check "once")
        self._writer: Catalog | None = None
        self._writer_lock = threading.Lock()
        self.report_names = LRU(16)  # (report.json, mtime) -> the file names that report lists (routes/report.py)

    # -- catalog ---------------------------------------------------------------------------
    def reader(self) -> Catalog:
        """This thread's query-only connection to the catalog (opened on first use)."""
        cat = getattr(self._local, "catalog", None)
        if cat is None:
            self._limit_threads()
            cat = open_reader(self.root)
            self._local.catalog = cat
            with self._readers_lock:
                self._readers.append(cat)
        return cat

    @contextlib.contextmanager
    def writer(self):
        """The one read-write connection (tags, take fields, select overrides), one user at a time."""
        with self._writer_lock:
            if self._writer is None:
                self._writer = open_catalog(self.root, create=False)
            yield self._writer

    def _limit_threads(self) -> None:
        """`[web] threads` for FAISS in this request thread (OpenMP's thread count is per calling thread)."""
        n = self.settings.web.threads
        if n:
            import faiss

            faiss.omp_set_num_threads(n)

    def close(self) -> None:
        with self._readers_lock:
            for cat in self._readers:
                cat.close()
            self._readers.clear()
        with self._writer_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def unchanged(self, cat: Catalog) -> bool:
        """True when no connection has committed to the catalog since this thread last asked."""
        version = cat.conn.execute("PRAGMA data_version").fetchone()[0]
        same = getattr(self._local, "data_version", None) == version
        self._local.data_version = version
        return same

    # -- model -----------------------------------------------------------------------------
    def preset(self):
        """The library's model preset (checked against its files once per model id, not per request)."""
        cat = self.reader()
        model_id = cat.meta_get("model")
        with self._model_lock:
            if model_id is None or model_id not in self._presets:
                preset = library_model(cat)  # CatalogError when nothing is embedded yet
                row = cat.model(preset.identity)
                assert row is not None  # library_model has just read this row
                self._presets[preset.identity] = (preset, int(row["dim"]))
                model_id = preset.identity
            return self._presets[model_id]

    def model_info(self) -> tuple[str, str, bool, int]:
        """(model id, preset name, semantic, dim) of the library; CatalogError when nothing is embedded."""
        preset, dim = self.preset()
        return preset.identity, preset.name, preset.semantic, dim

    def embedder(self):
        """The library's model, built and loaded once, on the first query that needs it."""
        preset, _dim = self.preset()
        with self._model_lock:
            if self._embedder is None or self._embedder.name != preset.identity:
                embedder = self._make_embedder(preset)
                embedder.load()
                if self.settings.web.threads:  # after load: the embedder sizes PyTorch's pool for batch work
                    import torch

                    torch.set_num_threads(self.settings.web.threads)
                self._embedder = embedder
                self.model_loads += 1
            return self._embedder

    def text_vector(self, text: str) -> np.ndarray:
        key = (self.preset()[0].identity, text)
        vec = self.text_vectors.get(key)
        if vec is None:
            vec = self.embedder().embed_texts([text])[0]
            self.text_vectors.put(key, vec)
        return vec

    def image_vector(self, key: str) -> np.ndarray:
        """The vector of an uploaded query image, by the key its upload answered with."""
        held = self.image_queries.get(key)
        if held is None:
            raise UsageError(
                "that uploaded image is no longer held by the server (it keeps the last 64); upload it again"
            )
        return held[0]

    # -- index -----------------------------------------------------------------------------
    def index(self, model_id: str, dim: int) -> index_stage.VectorIndex:
        """The model's index, brought in line with the catalog only when its vectors changed."""
        cat = self.reader()
        fresh = self.unchanged(cat)
        if fresh and self._index is not None and self._index_sig is not None and self._index_sig[0] == model_id:
            return self._index  # nothing committed since this thread last checked: the cache is current
        sig = (model_id, *cat.vector_signature(model_id))
        with self._index_lock:
            if self._index is None or self._index_sig != sig:
                self._index, _ = index_stage.sync(cat, model_id, dim, save=False, settings=self.settings.index)
                self._index_sig = sig
            return self._index
