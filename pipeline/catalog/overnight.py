"""Queries of the overnight batch: checksums, card MHL status, proxies, batch runs (mixed into Catalog)."""

from __future__ import annotations

import json
import sqlite3


class OvernightQueries:
    conn: sqlite3.Connection

    # -- verification ----------------------------------------------------------------------
    def set_clip_hashes(self, clip_id: int, checksum: str, hashes: dict[str, str]) -> None:
        self.conn.execute(
            "UPDATE clips SET checksum = ?, hashes_json = ? WHERE id = ?",
            (checksum, json.dumps(hashes, sort_keys=True), clip_id),
        )

    def set_clip_mhl(self, clip_id: int, card: str | None, status: str, detail: str | None = None) -> None:
        self.conn.execute(
            "UPDATE clips SET card = ?, mhl_status = ?, mhl_detail = ? WHERE id = ?", (card, status, detail, clip_id)
        )

    def set_clip_editorial(self, clip_id: int, reel: str | None, reel_source: str | None, drop_frame: bool) -> None:
        self.conn.execute(
            "UPDATE clips SET reel = ?, reel_source = ?, drop_frame = ? WHERE id = ?",
            (reel, reel_source, int(drop_frame), clip_id),
        )

    def clips_on_card(self, card: str) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM clips WHERE card = ? ORDER BY path", (card,)).fetchall()

    def set_card(
        self,
        path: str,
        mhl_status: str,
        algorithm: str | None = None,
        generation: str | None = None,
        detail: str | None = None,
        missing: list[str] | None = None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO cards(path, mhl_status, algorithm, generation, detail, missing_json) VALUES(?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(path) DO UPDATE SET mhl_status = excluded.mhl_status, algorithm = excluded.algorithm,"
            " generation = COALESCE(excluded.generation, cards.generation), detail = excluded.detail,"
            " missing_json = excluded.missing_json, checked_at = excluded.checked_at",
            (path, mhl_status, algorithm, generation, detail, json.dumps(missing or [])),
        )

    def cards(self) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM cards ORDER BY path").fetchall()

    def card(self, path: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM cards WHERE path = ?", (path,)).fetchone()

    # -- proxies ---------------------------------------------------------------------------
    def set_proxy(
        self,
        clip_id: int,
        preset: str,
        path: str,
        frame_count: int,
        start_tc: str | None,
        reel: str | None,
        size: int,
        seconds: float | None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO proxies(clip_id, preset, path, frame_count, start_tc, reel, bytes, seconds)"
            " VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(clip_id, preset) DO UPDATE SET path = excluded.path,"
            " frame_count = excluded.frame_count, start_tc = excluded.start_tc, reel = excluded.reel,"
            " bytes = excluded.bytes, seconds = excluded.seconds, finished_at = excluded.finished_at",
            (clip_id, preset, path, frame_count, start_tc, reel, size, seconds),
        )

    def proxies(self, clip_id: int) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM proxies WHERE clip_id = ? ORDER BY preset", (clip_id,)).fetchall()

    def drop_proxy(self, clip_id: int, preset: str) -> None:
        self.conn.execute("DELETE FROM proxies WHERE clip_id = ? AND preset = ?", (clip_id, preset))

    # -- batch runs ------------------------------------------------------------------------
    def start_batch(self, argv: list[str], log_path: str) -> int:
        cur = self.conn.execute(
            "INSERT INTO batch_runs(argv_json, log_path) VALUES(?, ?)", (json.dumps(argv), log_path)
        )
        assert cur.lastrowid is not None  # set by the INSERT
        return cur.lastrowid

    def finish_batch(self, run_id: int, status: str, summary: dict) -> None:
        self.conn.execute(
            "UPDATE batch_runs SET status = ?, summary_json = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
            " WHERE id = ?",
            (status, json.dumps(summary), run_id),
        )

    def batch_runs(self) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM batch_runs ORDER BY id").fetchall()

    # -- report ----------------------------------------------------------------------------
    def clip_days(self, day_start_hour: int = 0) -> list[str]:
        """Dailies days (YYYY-MM-DD, local time) on which clips were first catalogued, newest first; a day
        runs from `day_start_hour` on that date to the same hour the next day."""
        rows = self.conn.execute(
            "SELECT DISTINCT date(added_at, 'localtime', ?) FROM clips ORDER BY 1 DESC", (_shift(day_start_hour),)
        ).fetchall()
        return [r[0] for r in rows if r[0]]

    def clips_of_day(self, day: str | None, day_start_hour: int = 0) -> list[sqlite3.Row]:
        if day is None:
            return self.conn.execute("SELECT * FROM clips ORDER BY path").fetchall()
        return self.conn.execute(
            "SELECT * FROM clips WHERE date(added_at, 'localtime', ?) = ? ORDER BY path", (_shift(day_start_hour), day)
        ).fetchall()

    def report_keyframes(self, clip_id: int) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT k.frame, k.time, k.thumb, s.idx AS shot, s.start_tc"
            " FROM keyframes k JOIN shots s ON s.id = k.shot_id"
            " WHERE s.clip_id = ? ORDER BY k.frame",
            (clip_id,),
        ).fetchall()

    def events_since(self, since: str | None, levels: tuple[str, ...] = ("error", "warning")) -> list[sqlite3.Row]:
        marks = ",".join("?" * len(levels))
        return self.conn.execute(
            f"SELECT * FROM events WHERE level IN ({marks}) AND at >= ? ORDER BY id", (*levels, since or "")
        ).fetchall()


def _shift(day_start_hour: int) -> str:
    """SQLite date modifier that moves a local time back to the start of its dailies day."""
    return f"-{int(day_start_hour)} hours"
