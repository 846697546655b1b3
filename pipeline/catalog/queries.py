"""Every query of the catalog, as methods of `Catalog` (see db.py). No SQL outside this package."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator

import numpy as np


class Queries:
    conn: sqlite3.Connection

    # -- meta ------------------------------------------------------------------------------
    def meta_get(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def meta_set(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- clips -----------------------------------------------------------------------------
    def clip_by_path(self, path: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM clips WHERE path = ?", (path,)).fetchone()

    def clip(self, clip_id: int) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM clips WHERE id = ?", (clip_id,)).fetchone()

    def clips(self) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM clips ORDER BY path").fetchall()

    def upsert_clip(self, path: str) -> sqlite3.Row:
        self.conn.execute("INSERT INTO clips(path) VALUES(?) ON CONFLICT(path) DO NOTHING", (path,))
        row = self.clip_by_path(path)
        assert row is not None  # inserted just above, or there already
        return row

    def set_clip_source(self, clip_id: int, size: int, mtime_ns: int, content_hash: str) -> None:
        self.conn.execute(
            "UPDATE clips SET size = ?, mtime_ns = ?, content_hash = ?,"
            " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
            (size, mtime_ns, content_hash, clip_id),
        )

    def set_clip_probe(self, clip_id: int, info_json: dict) -> None:
        self.conn.execute(
            "UPDATE clips SET probe_json = ?, fps = ?, frame_count = ?, duration = ?, width = ?, height = ?,"
            " start_tc = ?, reel = ? WHERE id = ?",
            (
                json.dumps(info_json),
                info_json["fps"],
                info_json["frame_count"],
                info_json["duration"],
                info_json["display_width"],
                info_json["display_height"],
                info_json.get("start_tc"),
                info_json.get("reel"),
                clip_id,
            ),
        )

    def set_frame_count(self, clip_id: int, frame_count: int) -> None:
        self.conn.execute("UPDATE clips SET frame_count = ? WHERE id = ?", (frame_count, clip_id))

    def set_clip_status(self, clip_id: int, status: str, error: str | None = None) -> None:
        self.conn.execute(
            "UPDATE clips SET status = ?, error = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
            (status, error, clip_id),
        )

    # -- stage bookkeeping -----------------------------------------------------------------
    def stage_run(self, clip_id: int, stage: str) -> sqlite3.Row | None:
        return self.conn.execute(
            "SELECT * FROM stage_runs WHERE clip_id = ? AND stage = ?", (clip_id, stage)
        ).fetchone()

    def stage_runs(self, clip_id: int) -> dict[str, sqlite3.Row]:
        rows = self.conn.execute("SELECT * FROM stage_runs WHERE clip_id = ?", (clip_id,)).fetchall()
        return {r["stage"]: r for r in rows}

    def record_stage(
        self,
        clip_id: int,
        stage: str,
        content_hash: str,
        settings_hash: str,
        status: str,
        detail: str | None = None,
        seconds: float | None = None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO stage_runs(clip_id, stage, content_hash, settings_hash, status, detail, seconds)"
            " VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(clip_id, stage) DO UPDATE SET"
            " content_hash = excluded.content_hash, settings_hash = excluded.settings_hash, status = excluded.status,"
            " detail = excluded.detail, seconds = excluded.seconds, finished_at = excluded.finished_at",
            (clip_id, stage, content_hash, settings_hash, status, detail, seconds),
        )

    def clips_lacking(self, stage: str) -> list[sqlite3.Row]:
        """The ok clips without a done run of `stage` for their current content (id, path), by path."""
        return self.conn.execute(
            "SELECT c.id, c.path FROM clips c LEFT JOIN stage_runs r ON r.clip_id = c.id AND r.stage = ?"
            " AND r.status = 'done' AND r.content_hash = c.content_hash"
            " WHERE c.status = 'ok' AND r.clip_id IS NULL ORDER BY c.path",
            (stage,),
        ).fetchall()

    def is_done(self, clip_id: int, stage: str, content_hash: str, settings_hash: str) -> bool:
        row = self.stage_run(clip_id, stage)
        return bool(
            row
            and row["status"] == "done"
            and row["content_hash"] == content_hash
            and row["settings_hash"] == settings_hash
        )

    # -- shots and keyframes ---------------------------------------------------------------
    def replace_analysis(
        self, clip_id: int, shots: list[dict], gradual: list[tuple], keyframes: dict[int, list[tuple]]
    ) -> None:
        """Replace a clip's shots, transitions and keyframes (their vectors go with them)."""
        self.conn.execute("DELETE FROM shots WHERE clip_id = ?", (clip_id,))
        self.conn.execute("DELETE FROM gradual WHERE clip_id = ?", (clip_id,))
        for s in shots:
            cur = self.conn.execute(
                "INSERT INTO shots(clip_id, idx, start_frame, end_frame, start_time, end_time, start_tc, end_tc,"
                " confidence)"
                " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    clip_id,
                    s["index"],
                    s["start_frame"],
                    s["end_frame"],
                    s["start_time"],
                    s["end_time"],
                    s["start_tc"],
                    s["end_tc"],
                    s["confidence"],
                ),
            )
            self.conn.executemany(
                "INSERT INTO keyframes(shot_id, frame, time, thumb) VALUES(?, ?, ?, ?)",
                [(cur.lastrowid, frame, time, thumb) for frame, time, thumb in keyframes.get(s["index"], [])],
            )
        self.conn.executemany(
            "INSERT INTO gradual(clip_id, first_frame, last_frame, kind, confidence) VALUES(?, ?, ?, ?, ?)",
            [(clip_id, *g) for g in gradual],
        )

    def shots(self, clip_id: int) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM shots WHERE clip_id = ? ORDER BY idx", (clip_id,)).fetchall()

    def gradual(self, clip_id: int) -> list[sqlite3.Row]:
        """A clip's gradual transitions (first_frame, last_frame, kind, confidence), in order."""
        return self.conn.execute(
            "SELECT first_frame, last_frame, kind, confidence FROM gradual WHERE clip_id = ? ORDER BY first_frame",
            (clip_id,),
        ).fetchall()

    def count_shots(self, clip_id: int) -> int:
        return self.conn.execute("SELECT count(*) FROM shots WHERE clip_id = ?", (clip_id,)).fetchone()[0]

    def keyframes_missing_vectors(self, clip_id: int, model_id: str) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT k.id, k.thumb FROM keyframes k JOIN shots s ON s.id = k.shot_id"
            " WHERE s.clip_id = ?"
            " AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.keyframe_id = k.id AND v.model_id = ?)"
            " ORDER BY k.id",
            (clip_id, model_id),
        ).fetchall()

    # -- models and vectors ----------------------------------------------------------------
    def ensure_model(self, model_id: str, name: str, dim: int, semantic: bool, info: dict) -> None:
        self.conn.execute(
            "INSERT INTO models(id, name, dim, semantic, info_json) VALUES(?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
            (model_id, name, dim, int(semantic), json.dumps(info)),
        )

    def model(self, model_id: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM models WHERE id = ?", (model_id,)).fetchone()

    def add_vectors(self, model_id: str, ids: Iterable[int], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.conn.executemany(
            "INSERT OR REPLACE INTO vectors(keyframe_id, model_id, vector) VALUES(?, ?, ?)",
            [(int(i), model_id, v.tobytes()) for i, v in zip(ids, vectors, strict=True)],
        )

    def vector_ids(self, model_id: str) -> np.ndarray:
        rows = self.conn.execute("SELECT keyframe_id FROM vectors WHERE model_id = ? ORDER BY keyframe_id", (model_id,))
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def vectors_changes(self, model_id: str) -> int | None:
        """A counter bumped by every insert/delete of this model's vectors (migration 6's triggers)."""
        value = self.meta_get(f"vectors_changes:{model_id}")
        return int(value) if value is not None else None

    def vector_count(self, model_id: str) -> int:
        return self.conn.execute("SELECT count(*) FROM vectors WHERE model_id = ?", (model_id,)).fetchone()[0]

    def iter_vectors(
        self, model_id: str, dim: int, ids: np.ndarray | None = None, batch: int = 50_000
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, vectors) in batches; all of a model's vectors, or only `ids`."""
        if ids is None:
            cur = self.conn.execute(
                "SELECT keyframe_id, vector FROM vectors WHERE model_id = ? ORDER BY keyframe_id", (model_id,)
            )
            rows_iter = iter(lambda: cur.fetchmany(batch), [])
        else:
            chunks = [ids[i : i + 900] for i in range(0, len(ids), 900)]
            rows_iter = (
                self.conn.execute(
                    "SELECT keyframe_id, vector FROM vectors"
                    f" WHERE model_id = ? AND keyframe_id IN ({','.join('?' * len(c))})",
                    (model_id, *map(int, c)),
                ).fetchall()
                for c in chunks
            )
        for rows in rows_iter:
            if rows:
                yield (
                    np.array([r[0] for r in rows], dtype=np.int64),
                    np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), dim),
                )

    def vector_of(self, keyframe_id: int, model_id: str) -> np.ndarray | None:
        row = self.conn.execute(
            "SELECT vector FROM vectors WHERE keyframe_id = ? AND model_id = ?", (keyframe_id, model_id)
        ).fetchone()
        return np.frombuffer(row[0], dtype=np.float32) if row else None

    # -- search results --------------------------------------------------------------------
    def keyframe_hits(self, ids: Iterable[int]) -> dict[int, sqlite3.Row]:
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        rows = self.conn.execute(
            "SELECT k.id AS keyframe_id, k.frame, k.thumb, s.id AS shot_id, s.idx AS shot, s.start_frame, s.end_frame,"
            " s.start_time, s.end_time, s.start_tc, s.end_tc, c.id AS clip_id, c.path AS clip"
            f" FROM keyframes k JOIN shots s ON s.id = k.shot_id JOIN clips c ON c.id = s.clip_id"
            f" WHERE k.id IN ({','.join('?' * len(ids))})",
            ids,
        ).fetchall()
        return {r["keyframe_id"]: r for r in rows}

    # -- events ----------------------------------------------------------------------------
    def log_event(self, level: str, message: str, path: str | None = None, stage: str | None = None) -> None:
        self.conn.execute(
            "INSERT INTO events(level, path, stage, message) VALUES(?, ?, ?, ?)", (level, path, stage, message)
        )

    def events(self, level: str | None = None) -> list[sqlite3.Row]:
        if level:
            return self.conn.execute("SELECT * FROM events WHERE level = ? ORDER BY id", (level,)).fetchall()
        return self.conn.execute("SELECT * FROM events ORDER BY id").fetchall()
