"""Index kind chosen by size; incremental add/remove/replace keep results equal to exact search."""

import json

import numpy as np
import pytest

from pipeline import index as index_stage
from pipeline import index_kinds as kinds
from pipeline.catalog import open_catalog
from pipeline.config import IndexSettings, load_settings
from pipeline.errors import ConfigError
from pipeline.index_kinds import IndexSpec

DIM = 32


def unit(rng, n, dim=DIM):
    x = rng.normal(size=(n, dim)).astype(np.float32)
    x[:, 0] += 2.0  # a shared direction, as in CLIP vectors
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def exact(ids, vectors, queries, k):
    scores = queries @ vectors.T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return ids[order], np.take_along_axis(scores, order, axis=1)


def assert_same_as_exact(vi, ids, vectors, queries, k=10):
    got_scores, got_ids = vi.search(queries, k)
    want_ids, want_scores = exact(ids, vectors, queries, k)
    np.testing.assert_allclose(got_scores, want_scores, atol=1e-5)
    for g, w, s in zip(got_ids, want_ids, want_scores, strict=True):  # equal up to ties in score
        assert set(g[s > s[-1] + 1e-5]) <= set(w) and set(w[s > s[-1] + 1e-5]) <= set(g)


def test_kind_follows_size_with_hysteresis():
    s = IndexSettings(exact_max=1000, nlist=0)
    assert kinds.choose(1000, s) == IndexSpec("flat")
    ivf = kinds.choose(1001, s)
    assert ivf.kind == "ivf" and ivf.encoding == "sq8" and ivf.nlist == kinds.auto_nlist(1001) == 64
    assert kinds.choose(900, s, current=ivf) == ivf  # stays IVF until half the threshold
    assert kinds.choose(499, s, current=ivf) == IndexSpec("flat")
    assert kinds.auto_nlist(1_000_000) == 1024 and kinds.auto_nlist(10) == 64
    assert kinds.needs_retrain(ivf, 2000, 8001, s) and not kinds.needs_retrain(ivf, 2000, 8000, s)
    with pytest.raises(ConfigError, match="large_encoding"):
        IndexSettings(large_encoding="hnsw")


def test_index_section_is_read_from_config_files(tmp_path):
    f = tmp_path / "lib.toml"
    f.write_text('[index]\nexact_max = 10\nlarge_encoding = "sq8"\nnprobe = 7\n')
    s = load_settings(f).index
    assert (s.exact_max, s.large_encoding, s.nprobe) == (10, "sq8", 7)
    f.write_text("[index]\nexact_mx = 10\n")
    with pytest.raises(ConfigError, match="exact_max"):
        load_settings(f)


@pytest.mark.parametrize("encoding", ["flat", "sq8"])
def test_ivf_incremental_add_remove_replace_equals_exact(encoding):
    """With every list probed, IVF-flat is exact; SQ8 is exact up to its 8-bit quantization."""
    rng = np.random.default_rng(1)
    settings = IndexSettings(exact_max=100, nlist=16, nprobe=16, large_encoding=encoding)
    all_vecs = unit(rng, 1500)
    all_ids = np.arange(10, 1510, dtype=np.int64)
    spec = kinds.choose(600, settings)
    vi = index_stage.VectorIndex.empty("m", DIM, spec, all_vecs[:600], settings)
    queries = unit(rng, 20)
    live = {}
    for lo, hi in [(0, 500), (500, 900), (900, 1200)]:  # added in increments, never retrained
        vi.add(all_ids[lo:hi], all_vecs[lo:hi])
        live.update(zip(all_ids[lo:hi].tolist(), all_vecs[lo:hi], strict=True))
    gone = all_ids[100:400:3]
    assert vi.remove(gone) == len(gone)
    for i in gone.tolist():
        del live[i]
    # a re-ingested clip: its old keyframes' vectors go, new ids come with new vectors
    replaced, fresh = all_ids[600:650], all_ids[1200:1250]
    vi.remove(replaced)
    vi.add(fresh, all_vecs[1200:1250])
    for i in replaced.tolist():
        del live[i]
    live.update(zip(fresh.tolist(), all_vecs[1200:1250], strict=True))
    ids = np.array(sorted(live), dtype=np.int64)
    np.testing.assert_array_equal(vi.ids(), ids)
    vecs = np.stack([live[i] for i in ids])
    if encoding == "flat":
        assert_same_as_exact(vi, ids, vecs, queries)
    else:
        got = vi.search(queries, 10)[1]
        want = exact(ids, vecs, queries, 10)[0]
        recall = np.mean([len(set(g) & set(w)) / 10 for g, w in zip(got, want, strict=True)])
        assert recall >= 0.9


def _fill_catalog(catalog, clip_path, n_shots, per_shot, rng, model="m"):
    with catalog.transaction():
        clip = catalog.upsert_clip(clip_path)
        shots = [
            {
                "index": i,
                "start_frame": i * 10,
                "end_frame": i * 10 + 9,
                "start_time": i,
                "end_time": i + 1,
                "start_tc": "00:00:00:00",
                "end_tc": "00:00:00:09",
                "confidence": 1.0,
            }
            for i in range(n_shots)
        ]
        kfs = {
            i: [(i * 10 + j, float(i), f"thumbs/{clip_path}-{i}-{j}.jpg") for j in range(per_shot)]
            for i in range(n_shots)
        }
        catalog.replace_analysis(clip["id"], shots, [], kfs)
        catalog.ensure_model(model, model, DIM, False, {})
        ids = [r["id"] for r in catalog.keyframes_missing_vectors(clip["id"], model)]
        catalog.add_vectors(model, ids, unit(rng, len(ids)))
    return clip["id"]


def _catalog_vectors(catalog, model="m"):
    ids, vecs = zip(*catalog.iter_vectors(model, DIM), strict=True)
    return np.concatenate(ids), np.concatenate(vecs)


def test_sync_switches_kind_by_size_keeps_ids_and_replaces_reingested_clip(tmp_path):
    rng = np.random.default_rng(2)
    catalog = open_catalog(tmp_path / "lib")
    settings = IndexSettings(exact_max=300, nlist=8, nprobe=8, train_per_list=40, large_encoding="flat")
    queries = unit(rng, 10)
    _fill_catalog(catalog, "/a.mov", 20, 10, rng)  # 200 vectors: exact
    vi, info = index_stage.sync(catalog, "m", DIM, settings=settings)
    assert info["rebuilt"] and vi.spec.kind == "flat"
    first_ids = vi.ids()
    _fill_catalog(catalog, "/b.mov", 20, 10, rng)  # 400: crosses the threshold -> IVF, same ids
    vi, info = index_stage.sync(catalog, "m", DIM, settings=settings)
    assert info["rebuilt"] and vi.spec.kind == "ivf" and "call for IVF8" in info["reason"]
    assert set(first_ids) <= set(vi.ids().tolist())
    stamp = json.loads(next((tmp_path / "lib" / "index").glob("*.json")).read_text())
    assert stamp["kind"] == "IVF8,flat" and stamp["count"] == 400 and stamp["trained_on"] == 400
    ids, vecs = _catalog_vectors(catalog)
    assert_same_as_exact(vi, ids, vecs, queries)
    # re-ingest of clip a: new analysis, new keyframe ids; the old vectors leave the index, no rebuild
    _fill_catalog(catalog, "/a.mov", 15, 10, rng)
    vi, info = index_stage.sync(catalog, "m", DIM, settings=settings)
    assert not info["rebuilt"], info
    assert info["added"] == 150 and info["removed"] == 200 and vi.ntotal == 350
    assert not set(first_ids) & set(vi.ids().tolist())
    ids, vecs = _catalog_vectors(catalog)
    np.testing.assert_array_equal(vi.ids(), ids)
    assert_same_as_exact(vi, ids, vecs, queries)
    # the saved file reloads as the same IVF index
    again = index_stage.VectorIndex.load(catalog.root, "m", DIM, settings)
    assert again.spec == vi.spec and again.ntotal == 350
    # nothing changed in the catalog: the change counter says so, no ids are read or compared
    assert again.catalog_changes == catalog.vectors_changes("m") == 400 + 150 + 200  # inserts + cascade deletes

    def no_ids(*_a, **_k):
        raise AssertionError("vector_ids read although nothing changed")

    real_ids, catalog.vector_ids = catalog.vector_ids, no_ids
    vi, info = index_stage.sync(catalog, "m", DIM, settings=settings)
    assert info == {"rebuilt": False, "added": 0, "removed": 0, "total": 350, "kind": "IVF8,flat"}
    catalog.vector_ids = real_ids
    # growth past retrain_growth x the training size retrains (a rebuild with fresh lists)
    _fill_catalog(catalog, "/c.mov", 130, 10, rng)
    vi, info = index_stage.sync(catalog, "m", DIM, settings=settings)
    assert info["rebuilt"] and "retraining" in info["reason"] and vi.trained_on == 1650
    catalog.close()
