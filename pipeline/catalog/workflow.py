"""Catalog queries of the assistant-editor workflow: takes, tags, take measurements, select overrides.

Mixed into `Catalog` (db.py). Tables come from migration 4.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

TAKE_FIELDS = ("scene", "setup", "take", "camera", "roll", "circled", "notes")


class WorkflowQueries:
    conn: sqlite3.Connection

    # -- takes -----------------------------------------------------------------------------
    def take(self, clip_id: int) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM takes WHERE clip_id = ?", (clip_id,)).fetchone()

    def takes(self) -> list[sqlite3.Row]:
        """Every ok clip joined with its take row (take columns are NULL where nothing is known)."""
        return self.conn.execute(
            "SELECT c.id AS clip_id, c.path, c.fps, c.frame_count, c.duration, c.start_tc, c.reel, c.content_hash,"
            " c.width, c.height, c.probe_json, c.reel_source,"
            " t.scene, t.setup, t.take, t.camera, t.roll, t.circled, t.notes, t.sources"
            " FROM clips c LEFT JOIN takes t ON t.clip_id = c.id WHERE c.status = 'ok' ORDER BY c.path"
        ).fetchall()

    def set_take_fields(self, clip_id: int, fields: dict, source: str) -> None:
        """Write some take fields (None values are skipped); `sources` remembers where each came from."""
        fields = {k: v for k, v in fields.items() if v is not None}
        unknown = set(fields) - set(TAKE_FIELDS)
        if unknown:
            raise ValueError(f"unknown take field(s): {sorted(unknown)}")
        row = self.take(clip_id)
        sources = json.loads(row["sources"]) if row and row["sources"] else {}
        sources.update({k: source for k in fields})
        self.conn.execute("INSERT INTO takes(clip_id) VALUES(?) ON CONFLICT(clip_id) DO NOTHING", (clip_id,))
        if fields:
            sets = ", ".join(f"{k} = ?" for k in fields)
            self.conn.execute(
                f"UPDATE takes SET {sets}, sources = ?,"
                " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE clip_id = ?",
                (
                    *[int(v) if isinstance(v, bool) else v for v in fields.values()],
                    json.dumps(sources, sort_keys=True),
                    clip_id,
                ),
            )

    # -- tags ------------------------------------------------------------------------------
    def add_tag(
        self,
        clip_id: int,
        shot_id: int | None,
        tag: str,
        kind: str,
        score: float | None = None,
        reason: str | None = None,
        method: str | None = None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO tags(clip_id, shot_id, tag, kind, score, reason, method) VALUES(?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(clip_id, shot_key, tag, kind) DO UPDATE SET score = excluded.score,"
            " reason = excluded.reason, method = excluded.method",
            (clip_id, shot_id, tag, kind, score, reason, method),
        )

    def remove_tag(self, clip_id: int, shot_id: int | None, tag: str, kind: str = "manual") -> int:
        cur = self.conn.execute(
            "DELETE FROM tags WHERE clip_id = ? AND shot_key = ? AND tag = ? AND kind = ?",
            (clip_id, shot_id if shot_id is not None else -1, tag, kind),
        )
        return cur.rowcount

    def clear_auto_tags(self, clip_id: int) -> None:
        self.conn.execute("DELETE FROM tags WHERE clip_id = ? AND kind = 'auto'", (clip_id,))

    def tags_of(self, clip_id: int | None = None) -> list[sqlite3.Row]:
        sql = (
            "SELECT g.*, c.path, s.idx AS shot FROM tags g JOIN clips c ON c.id = g.clip_id"
            " LEFT JOIN shots s ON s.id = g.shot_id"
        )
        if clip_id is None:
            return self.conn.execute(sql + " ORDER BY c.path, s.idx, g.kind, g.tag").fetchall()
        return self.conn.execute(sql + " WHERE g.clip_id = ? ORDER BY s.idx, g.kind, g.tag", (clip_id,)).fetchall()

    def shot_by_index(self, clip_id: int, idx: int) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM shots WHERE clip_id = ? AND idx = ?", (clip_id, idx)).fetchone()

    def keyframes_of_clip(self, clip_id: int) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT k.id, k.frame, k.thumb, s.id AS shot_id, s.idx AS shot FROM keyframes k"
            " JOIN shots s ON s.id = k.shot_id WHERE s.clip_id = ? ORDER BY k.frame",
            (clip_id,),
        ).fetchall()

    # -- measurements ----------------------------------------------------------------------
    def take_metrics(self, clip_id: int, key: str) -> dict | None:
        row = self.conn.execute(
            "SELECT metrics_json FROM take_metrics WHERE clip_id = ? AND key = ?", (clip_id, key)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def stored_metrics(self, clip_ids: Iterable[int]) -> dict[int, dict]:
        """clip id -> the measurements its done measure stage run stored for its current content."""
        ids = [int(i) for i in clip_ids]
        out = {}
        for at in range(0, len(ids), 500):
            part = ids[at : at + 500]
            rows = self.conn.execute(
                "SELECT m.clip_id, m.metrics_json FROM take_metrics m JOIN clips c ON c.id = m.clip_id"
                " JOIN stage_runs r ON r.clip_id = m.clip_id AND r.stage = 'measure' AND r.status = 'done'"
                " AND r.content_hash = c.content_hash AND m.key = r.content_hash || ':' || r.settings_hash"
                f" WHERE m.clip_id IN ({','.join('?' * len(part))})",
                part,
            ).fetchall()
            out.update({r[0]: json.loads(r[1]) for r in rows})
        return out

    def set_take_metrics(self, clip_id: int, key: str, metrics: dict) -> None:
        self.conn.execute(
            "INSERT INTO take_metrics(clip_id, key, metrics_json) VALUES(?, ?, ?)"
            " ON CONFLICT(clip_id) DO UPDATE SET key = excluded.key, metrics_json = excluded.metrics_json",
            (clip_id, key, json.dumps(metrics)),
        )

    # -- select overrides ------------------------------------------------------------------
    def set_override(self, clip_id: int, action: str | None, note: str | None = None) -> None:
        if action is None:
            self.conn.execute("DELETE FROM select_overrides WHERE clip_id = ?", (clip_id,))
            return
        self.conn.execute(
            "INSERT INTO select_overrides(clip_id, action, note) VALUES(?, ?, ?)"
            " ON CONFLICT(clip_id) DO UPDATE SET action = excluded.action, note = excluded.note,"
            " at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            (clip_id, action, note),
        )

    def overrides(self) -> dict[int, sqlite3.Row]:
        return {r["clip_id"]: r for r in self.conn.execute("SELECT * FROM select_overrides").fetchall()}
