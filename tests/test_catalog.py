import numpy as np
import pytest

from pipeline import index
from pipeline.catalog import open_catalog
from pipeline.catalog.migrations import MIGRATIONS
from pipeline.config import Settings, load_settings
from pipeline.errors import CatalogError, ConfigError, IndexMismatch


def test_catalog_is_wal_with_foreign_keys_and_migrated(tmp_path):
    cat = open_catalog(tmp_path / "lib")
    assert cat.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert cat.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert cat.conn.execute("PRAGMA user_version").fetchone()[0] == max(m[0] for m in MIGRATIONS)
    cat.close()
    cat = open_catalog(tmp_path / "lib")  # reopening applies nothing twice
    assert cat.conn.execute("PRAGMA user_version").fetchone()[0] == max(m[0] for m in MIGRATIONS)


def test_missing_library_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="no Dailies library"):
        open_catalog(tmp_path / "nothing", create=False)


def _filled(tmp_path, n=50, dim=8):
    cat = open_catalog(tmp_path / "lib")
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    with cat.transaction():
        clip = cat.upsert_clip("/x.mov")
        cat.replace_analysis(
            clip["id"],
            [
                {
                    "index": 0,
                    "start_frame": 0,
                    "end_frame": 9,
                    "start_time": 0,
                    "end_time": 1,
                    "start_tc": "00:00:00:00",
                    "end_tc": "00:00:00:09",
                    "confidence": 1.0,
                }
            ],
            [],
            {0: [(i, i / 10, f"t/{i}.jpg") for i in range(n)]},
        )
        cat.ensure_model("m1", "m1", dim, True, {})
        ids = [r["id"] for r in cat.keyframes_missing_vectors(clip["id"], "m1")]
        cat.add_vectors("m1", ids, vecs)
    return cat, np.array(ids), vecs


def test_index_is_rebuilt_from_vectors_and_stamped(tmp_path):
    cat, ids, vecs = _filled(tmp_path)
    vi, stats = index.sync(cat, "m1", 8)
    assert stats["rebuilt"] and vi.ntotal == 50
    scores, got = vi.search(vecs[7:8], 3)
    assert got[0][0] == ids[7] and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(IndexMismatch, match="belongs to m1"):
        index.VectorIndex.load(cat.root, "m1", 16)
    # removing a shot removes its keyframes and vectors; the next sync drops them from the index
    with cat.transaction():
        cat.conn.execute("DELETE FROM keyframes WHERE id IN (?, ?)", (int(ids[0]), int(ids[1])))
    vi, stats = index.sync(cat, "m1", 8)
    assert stats == {"rebuilt": False, "added": 0, "removed": 2, "total": 48, "kind": "exact (Flat, inner product)"}
    assert set(vi.ids()) == set(ids[2:].tolist())
    assert index.VectorIndex.load(cat.root, "m1", 8).ntotal == 48


def test_settings_reject_unknown_keys_and_bad_types(tmp_path):
    assert load_settings() == Settings()  # configs/default.toml documents exactly the defaults
    bad = tmp_path / "bad.toml"
    bad.write_text("[shots]\ntreshold = 30\n")
    with pytest.raises(ConfigError, match="unknown key.*treshold.*known keys.*threshold"):
        load_settings(bad)
    bad.write_text("[shots]\nthreshold = 'high'\n")
    with pytest.raises(ConfigError, match="threshold must be float"):
        load_settings(bad)
    good = tmp_path / "good.toml"
    good.write_text("[shots]\nthreshold = 30\n")
    s = load_settings(good)
    assert s.shots.threshold == 30.0 and s.replace("shots", threshold=None).shots.threshold == 30.0
    assert s.replace("shots", threshold=12.0).shots.threshold == 12.0


def test_migrations_are_appended_in_ascending_order():
    """A library at version N skips every migration numbered <= N: a new one must come after the last."""
    numbers = [number for number, _name, _sql in MIGRATIONS]
    assert numbers == sorted(set(numbers)), f"migration numbers must be unique and ascending as listed: {numbers}"
