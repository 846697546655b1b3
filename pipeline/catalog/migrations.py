"""Numbered, append-only migrations, applied in order when a catalog opens.

Never edit a migration that has shipped: add the next one. `PRAGMA user_version` records the last applied.
A new migration takes a number above the last one in this list (the gaps -- 2, 5 -- were numbers reserved
for parallel branches that needed none): a library already at version N never applies a number below N,
so a migration slipped in below the last one would silently never run there (tests/test_catalog.py checks).
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "create tables",
        """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE clips (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    size INTEGER,
    mtime_ns INTEGER,
    content_hash TEXT,
    status TEXT NOT NULL DEFAULT 'new',   -- new | ok | failed | skipped
    error TEXT,
    probe_json TEXT,
    fps TEXT,
    frame_count INTEGER,
    duration REAL,
    width INTEGER,
    height INTEGER,
    start_tc TEXT,
    reel TEXT,
    added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT
);
CREATE TABLE stage_runs (
    clip_id INTEGER NOT NULL REFERENCES clips(id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    settings_hash TEXT NOT NULL,
    status TEXT NOT NULL,                 -- done | pending | failed
    detail TEXT,
    seconds REAL,
    finished_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (clip_id, stage)
);
CREATE TABLE shots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    clip_id INTEGER NOT NULL REFERENCES clips(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start_frame INTEGER NOT NULL,
    end_frame INTEGER NOT NULL,
    start_time REAL NOT NULL,
    end_time REAL NOT NULL,
    start_tc TEXT NOT NULL,
    end_tc TEXT NOT NULL,
    confidence REAL NOT NULL DEFAULT 1.0,
    UNIQUE (clip_id, idx)
);
CREATE TABLE gradual (
    clip_id INTEGER NOT NULL REFERENCES clips(id) ON DELETE CASCADE,
    first_frame INTEGER NOT NULL,
    last_frame INTEGER NOT NULL,
    kind TEXT,
    confidence REAL NOT NULL DEFAULT 1.0
);
CREATE TABLE keyframes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: these ids are the FAISS ids
    shot_id INTEGER NOT NULL REFERENCES shots(id) ON DELETE CASCADE,
    frame INTEGER NOT NULL,
    time REAL NOT NULL,
    thumb TEXT NOT NULL                    -- path relative to the library folder
);
CREATE INDEX keyframes_shot ON keyframes(shot_id);
CREATE TABLE models (
    id TEXT PRIMARY KEY,                   -- model identity, stamped on vectors and indexes
    name TEXT NOT NULL,
    dim INTEGER NOT NULL,
    semantic INTEGER NOT NULL,
    info_json TEXT
);
CREATE TABLE vectors (
    keyframe_id INTEGER NOT NULL REFERENCES keyframes(id) ON DELETE CASCADE,
    model_id TEXT NOT NULL REFERENCES models(id),
    vector BLOB NOT NULL,                  -- float32, L2-normalised
    PRIMARY KEY (keyframe_id, model_id)
);
CREATE INDEX vectors_model ON vectors(model_id);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    level TEXT NOT NULL,
    path TEXT,
    stage TEXT,
    message TEXT NOT NULL
);
""",
    ),
    (
        3,
        "overnight: checksums, cards and MHL status, proxies, batch runs",
        """
-- 'md5:...' or 'xxh64:...': the requested algorithm
ALTER TABLE clips ADD COLUMN checksum TEXT;
-- every digest computed while reading: {"xxh64": "...", "md5": "..."}
ALTER TABLE clips ADD COLUMN hashes_json TEXT;
-- folder the clip was verified in (MHL root)
ALTER TABLE clips ADD COLUMN card TEXT;
-- verified | recorded | mismatch | pending | not-recorded
ALTER TABLE clips ADD COLUMN mhl_status TEXT;
ALTER TABLE clips ADD COLUMN mhl_detail TEXT;
ALTER TABLE clips ADD COLUMN drop_frame INTEGER;
-- metadata | filename | NULL (no reel)
ALTER TABLE clips ADD COLUMN reel_source TEXT;
CREATE TABLE cards (
    path TEXT PRIMARY KEY,
    mhl_status TEXT NOT NULL,                        -- written | verified | mismatch | missing | failed | off
    algorithm TEXT,
    generation TEXT,                                 -- the .mhl file of the last generation written
    detail TEXT,
    missing_json TEXT,                               -- files the card's MHL lists that are not on disk
    checked_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE proxies (
    clip_id INTEGER NOT NULL REFERENCES clips(id) ON DELETE CASCADE,
    preset TEXT NOT NULL,
    path TEXT NOT NULL,                              -- relative to the library folder
    frame_count INTEGER NOT NULL,
    start_tc TEXT,
    reel TEXT,
    bytes INTEGER NOT NULL,
    seconds REAL,
    finished_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (clip_id, preset)
);
CREATE TABLE batch_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running',          -- running | done | interrupted (a killed run stays 'running')
    argv_json TEXT,
    log_path TEXT,
    summary_json TEXT
)
""",
    ),
    # 4 (issue 5): takes, tags, take measurements, editor overrides of proposed selects.
    (
        4,
        "takes, tags, select overrides",
        """
CREATE TABLE takes (
    clip_id INTEGER PRIMARY KEY REFERENCES clips(id) ON DELETE CASCADE,
    scene TEXT,
    setup TEXT,
    take TEXT,
    camera TEXT,
    roll TEXT,
    circled INTEGER,
    notes TEXT,
    sources TEXT,                          -- JSON {field: "name" | "metadata" | "ale:FILE" | "cli"}
    updated_at TEXT
);
CREATE INDEX takes_scene ON takes(scene);
CREATE TABLE tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    clip_id INTEGER NOT NULL REFERENCES clips(id) ON DELETE CASCADE,
    shot_id INTEGER REFERENCES shots(id) ON DELETE CASCADE,   -- NULL: the tag is on the whole take
    shot_key INTEGER GENERATED ALWAYS AS (coalesce(shot_id, -1)) VIRTUAL,
    tag TEXT NOT NULL,
    kind TEXT NOT NULL,                    -- manual | auto
    score REAL,
    reason TEXT,
    method TEXT,                           -- measurement name or model identity
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (clip_id, shot_key, tag, kind)
);
CREATE INDEX tags_tag ON tags(tag);
CREATE TABLE take_metrics (
    clip_id INTEGER PRIMARY KEY REFERENCES clips(id) ON DELETE CASCADE,
    key TEXT NOT NULL,                     -- content hash + measurement settings hash
    metrics_json TEXT NOT NULL
);
CREATE TABLE select_overrides (
    clip_id INTEGER PRIMARY KEY REFERENCES clips(id) ON DELETE CASCADE,
    action TEXT NOT NULL,                  -- pin | reject
    note TEXT,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
""",
    ),
    (
        6,
        "vector change counters (index sync fast path)",
        # _migrate runs the statements split at ";\n": a trigger's inner ";" stays before "END;" on its line
        """
CREATE TRIGGER vectors_changed_ins AFTER INSERT ON vectors BEGIN
    INSERT INTO meta(key, value) VALUES('vectors_changes:' || NEW.model_id, '1')
    ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1; END;
CREATE TRIGGER vectors_changed_del AFTER DELETE ON vectors BEGIN
    INSERT INTO meta(key, value) VALUES('vectors_changes:' || OLD.model_id, '1')
    ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1; END;
INSERT INTO meta(key, value) SELECT 'vectors_changes:' || model_id, '0' FROM vectors GROUP BY model_id;
""",
    ),
]
