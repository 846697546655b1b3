"""Read queries behind the web UI (pipeline/web): shots with their clip, keyframes, library overview.

Mixed into `Catalog`; every method only reads, so the web server can run them on query-only
connections while an ingest writes (WAL: readers and the writer never block each other).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

_SHOT_COLUMNS = (
    "s.id AS shot_id, s.idx AS shot, s.start_frame, s.end_frame, s.start_time, s.end_time,"
    " s.start_tc, s.end_tc, s.confidence, c.id AS clip_id, c.path AS clip, c.fps, c.start_tc AS clip_start_tc,"
    " c.reel, c.duration, c.width, c.height"
)


def _marks(n: int) -> str:
    return ",".join("?" * n)


class WebQueries:
    conn: sqlite3.Connection

    def shot_with_clip(self, shot_id: int) -> sqlite3.Row | None:
        return self.conn.execute(
            f"SELECT {_SHOT_COLUMNS} FROM shots s JOIN clips c ON c.id = s.clip_id WHERE s.id = ?", (shot_id,)
        ).fetchone()

    def first_shot_of_clip(self, clip_id: int) -> int | None:
        row = self.conn.execute("SELECT id FROM shots WHERE clip_id = ? ORDER BY idx LIMIT 1", (clip_id,)).fetchone()
        return row[0] if row else None

    def keyframe(self, keyframe_id: int) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM keyframes WHERE id = ?", (keyframe_id,)).fetchone()

    def keyframes_of_shots(self, shot_ids: Iterable[int]) -> dict[int, list[sqlite3.Row]]:
        """{shot_id: its keyframes in frame order}; shots without keyframes are absent."""
        ids = [int(i) for i in shot_ids]
        out: dict[int, list[sqlite3.Row]] = {}
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            for r in self.conn.execute(
                f"SELECT id, shot_id, frame, time, thumb FROM keyframes WHERE shot_id IN ({_marks(len(chunk))})"
                " ORDER BY shot_id, frame",
                chunk,
            ):
                out.setdefault(r["shot_id"], []).append(r)
        return out

    def browse_shots(self, limit: int, offset: int = 0, keyframe_ids: list[int] | None = None) -> list[sqlite3.Row]:
        """Shots in clip-path and shot order (the library without a query), optionally only those of some keyframes."""
        where, args = "", []
        if keyframe_ids is not None:
            if not keyframe_ids:
                return []
            where = f" WHERE s.id IN (SELECT shot_id FROM keyframes WHERE id IN ({_marks(len(keyframe_ids))}))"
            args = list(keyframe_ids)
        return self.conn.execute(
            f"SELECT {_SHOT_COLUMNS} FROM shots s JOIN clips c ON c.id = s.clip_id{where}"
            " ORDER BY c.path, s.idx LIMIT ? OFFSET ?",
            (*args, limit, offset),
        ).fetchall()

    def shots_with_clip(self, shot_ids: Iterable[int]) -> dict[int, sqlite3.Row]:
        ids = [int(i) for i in shot_ids]
        if not ids:
            return {}
        rows = self.conn.execute(
            f"SELECT {_SHOT_COLUMNS} FROM shots s JOIN clips c ON c.id = s.clip_id WHERE s.id IN ({_marks(len(ids))})",
            ids,
        ).fetchall()
        return {r["shot_id"]: r for r in rows}

    # -- filters ---------------------------------------------------------------------------
    def filter_keyframe_ids(
        self,
        day: str | None = None,
        reel: str | None = None,
        clip_text: str | None = None,
        scene: str | None = None,
        take: str | None = None,
        camera: str | None = None,
        tag: str | None = None,
        circled: bool = False,
    ) -> list[int]:
        """Keyframe ids of shots matching every given filter: ingest day (YYYY-MM-DD), reel, clip name
        substring, take fields (scene, take, camera, circled) and a tag (on the take or on the shot)."""
        where, args = [], []
        for sql, value in (
            ("substr(c.added_at, 1, 10) = ?", day),
            ("c.reel = ?", reel),
            ("instr(lower(c.path), lower(?)) > 0", clip_text),
            ("t.scene = ?", scene),
            ("t.take = ?", take),
            ("coalesce(t.camera, '') = ?", camera),
        ):
            if value:
                where.append(sql)
                args.append(value)
        if circled:
            where.append("t.circled = 1")
        if tag:
            where.append(
                "EXISTS (SELECT 1 FROM tags g WHERE g.clip_id = c.id AND g.tag = ?"
                " AND (g.shot_id IS NULL OR g.shot_id = s.id))"
            )
            args.append(tag)
        sql = (
            "SELECT k.id FROM keyframes k JOIN shots s ON s.id = k.shot_id JOIN clips c ON c.id = s.clip_id"
            " LEFT JOIN takes t ON t.clip_id = c.id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY k.id"
        )
        return [r[0] for r in self.conn.execute(sql, args)]

    def filter_choices(self) -> dict[str, list[str]]:
        def col(sql: str) -> list[str]:
            return [r[0] for r in self.conn.execute(sql)]

        return {
            "days": col("SELECT DISTINCT substr(added_at, 1, 10) FROM clips WHERE status = 'ok' ORDER BY 1 DESC"),
            "reels": col(
                "SELECT DISTINCT reel FROM clips WHERE status = 'ok' AND reel IS NOT NULL AND reel != '' ORDER BY 1"
            ),
            "scenes": col(
                "SELECT DISTINCT scene FROM takes WHERE scene IS NOT NULL AND scene != ''"
                " ORDER BY CAST(scene AS INTEGER), scene"
            ),
            "cameras": col("SELECT DISTINCT camera FROM takes WHERE camera IS NOT NULL AND camera != '' ORDER BY 1"),
            "tags": col("SELECT tag FROM tags GROUP BY tag ORDER BY count(*) DESC, tag LIMIT 200"),
        }

    def takes_of_clips(self, clip_ids: Iterable[int]) -> dict[int, sqlite3.Row]:
        ids = [int(i) for i in clip_ids]
        if not ids:
            return {}
        return {
            r["clip_id"]: r
            for r in self.conn.execute(f"SELECT * FROM takes WHERE clip_id IN ({_marks(len(ids))})", ids)
        }

    def tags_of_shot(self, clip_id: int, shot_id: int) -> list[sqlite3.Row]:
        """Tags on the take and on this shot: manual first, then automatic by score."""
        return self.conn.execute(
            "SELECT * FROM tags WHERE clip_id = ? AND (shot_id IS NULL OR shot_id = ?)"
            " ORDER BY kind = 'auto', shot_id IS NULL, coalesce(score, 1) DESC, tag",
            (clip_id, shot_id),
        ).fetchall()

    # -- library overview ------------------------------------------------------------------
    def clips_overview(self) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT c.*, (SELECT count(*) FROM shots s WHERE s.clip_id = c.id) AS shot_count,"
            " (SELECT min(s.id) FROM shots s WHERE s.clip_id = c.id) AS first_shot_id FROM clips c ORDER BY c.path"
        ).fetchall()

    def all_stage_runs(self) -> dict[int, dict[str, sqlite3.Row]]:
        out: dict[int, dict[str, sqlite3.Row]] = {}
        for r in self.conn.execute("SELECT * FROM stage_runs"):
            out.setdefault(r["clip_id"], {})[r["stage"]] = r
        return out

    def recent_events(self, levels: tuple[str, ...] = ("error", "warning"), limit: int = 200) -> list[sqlite3.Row]:
        return self.conn.execute(
            f"SELECT * FROM events WHERE level IN ({_marks(len(levels))}) ORDER BY id DESC LIMIT ?", (*levels, limit)
        ).fetchall()

    def library_counts(self, model_id: str | None) -> dict[str, int]:
        row = self.conn.execute(
            "SELECT (SELECT count(*) FROM clips WHERE status = 'ok'), (SELECT count(*) FROM shots),"
            " (SELECT count(*) FROM keyframes), (SELECT count(*) FROM vectors WHERE model_id = ?)",
            (model_id,),
        ).fetchone()
        return {"clips": row[0], "shots": row[1], "keyframes": row[2], "vectors": row[3]}

    def vector_signature(self, model_id: str) -> tuple:
        """Changes whenever the model's vectors change (keyframe ids are never reused)."""
        return tuple(
            self.conn.execute(
                "SELECT count(*), max(keyframe_id), total(keyframe_id) FROM vectors WHERE model_id = ?", (model_id,)
            ).fetchone()
        )

    def override_of(self, clip_id: int) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM select_overrides WHERE clip_id = ?", (clip_id,)).fetchone()

    def clip_thumbs(self, clip_ids: Iterable[int]) -> dict[int, int]:
        """{clip_id: a keyframe id to show for the clip} (the middle keyframe of its first shot)."""
        out = {}
        for cid in {int(i) for i in clip_ids}:
            rows = self.conn.execute(
                "SELECT k.id FROM keyframes k JOIN shots s ON s.id = k.shot_id WHERE s.clip_id = ?"
                " AND s.idx = (SELECT min(idx) FROM shots WHERE clip_id = ?) ORDER BY k.frame",
                (cid, cid),
            ).fetchall()
            if rows:
                out[cid] = rows[len(rows) // 2][0]
        return out
