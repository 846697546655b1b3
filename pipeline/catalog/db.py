"""Opening the catalog: WAL mode, foreign keys, migrations, one writer at a time."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from pathlib import Path

from pipeline.catalog.migrations import MIGRATIONS
from pipeline.catalog.overnight import OvernightQueries
from pipeline.catalog.queries import Queries
from pipeline.catalog.web_queries import WebQueries
from pipeline.catalog.workflow import WorkflowQueries
from pipeline.errors import CatalogError, DiskFull

CATALOG_NAME = "catalog.sqlite"
# SQLite needs its -shm (32 KiB) and a first WAL page to open a catalog in WAL mode.
_ROOM_TO_OPEN = 64 * 1024


class Catalog(Queries, OvernightQueries, WebQueries, WorkflowQueries):
    def __init__(self, conn: sqlite3.Connection, root: Path):
        self.conn = conn
        self.root = root

    @contextlib.contextmanager
    def transaction(self):
        """All writes of a unit of work commit together or not at all (readers see before or after)."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise (self._explain(exc) or exc) from None
        try:
            yield self.conn
            self.conn.commit()
        except BaseException as exc:
            if self.conn.in_transaction:
                self.conn.rollback()
            explained = self._explain(exc) if isinstance(exc, sqlite3.OperationalError) else None
            if explained:
                raise explained from None
            raise

    @contextlib.contextmanager
    def snapshot(self):
        """Reads inside see one committed state of the catalog, however many statements they take,
        while an ingest goes on writing (WAL: readers and the writer never block each other)."""
        self.conn.execute("BEGIN DEFERRED")
        try:
            yield self.conn
        finally:
            if self.conn.in_transaction:
                self.conn.rollback()

    def _explain(self, exc: sqlite3.OperationalError) -> CatalogError | None:
        """A message for the person running Dailies, for what the disk or another process caused."""
        text = str(exc)
        if "full" in text:
            return DiskFull(
                f"the library's disk is full ({self.root}: {text}); the catalog is unchanged by the "
                f"failed write -- free some space and run the same command again"
            )
        if "locked" in text or "busy" in text:
            return CatalogError(
                f"{self.root}: the catalog stayed locked by another process for too long ({text}); "
                f"try again when the other Dailies command has finished"
            )
        if "disk I/O" in text:
            return CatalogError(
                f"{self.root}: the disk failed while writing the catalog ({text}); check the disk, "
                f"then run the same command again (committed work is kept)"
            )
        return None

    def close(self) -> None:
        self.conn.close()


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    ordered = sorted(MIGRATIONS, key=lambda m: m[0])
    numbers = [m[0] for m in ordered]
    if len(set(numbers)) != len(numbers):
        raise CatalogError(f"duplicate migration numbers in pipeline/catalog/migrations.py: {numbers}")
    latest = numbers[-1]
    if current > latest:
        raise CatalogError(
            f"{path} was written by a newer Dailies (schema {current}, this one knows {latest}); upgrade Dailies"
        )
    for number, _name, sql in ordered:
        if number <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        # Another process (an ingest creating the library while `dailies clips` opens it) may have applied
        # this migration since we looked: read the version again now that we hold the write lock.
        if conn.execute("PRAGMA user_version").fetchone()[0] >= number:
            conn.rollback()
            continue
        try:
            for statement in sql.split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def open_catalog(library: str | Path, create: bool = True, readonly: bool = False) -> Catalog:
    root = Path(library).expanduser().resolve()
    path = root / CATALOG_NAME
    if not path.exists():
        if not create:
            raise CatalogError(
                f"no Dailies library at {root} (no {CATALOG_NAME}); run `dailies ingest` first "
                f"or pass --library / set DAILIES_LIBRARY"
            )
        root.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        if not readonly:
            _migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        free = shutil.disk_usage(root).free
        if isinstance(exc, sqlite3.OperationalError) and ("full" in str(exc) or free < _ROOM_TO_OPEN):
            raise DiskFull(
                f"the library's disk is full ({root}: {free // 1024} KiB free, {exc}); nothing was "
                f"changed -- free some space and run the same command again"
            ) from None
        raise CatalogError(f"{path}: cannot open the catalog ({exc}); is it a Dailies library?") from None
    return Catalog(conn, root)


def open_reader(library: str | Path) -> Catalog:
    """A query-only connection for readers (web UI): never migrates, never writes, never blocks an ingest.

    The catalog must exist and be at the schema this code knows (open it once with `open_catalog`
    to migrate). In WAL mode a reader sees the last committed state while a writer works.
    """
    root = Path(library).expanduser().resolve()
    path = root / CATALOG_NAME
    if not path.exists():
        raise CatalogError(
            f"no Dailies library at {root} (no {CATALOG_NAME}); run `dailies ingest` first "
            f"or pass --library / set DAILIES_LIBRARY"
        )
    try:
        conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA query_only=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise CatalogError(f"{path}: cannot open the catalog ({exc}); is it a Dailies library?") from None
    if version != MIGRATIONS[-1][0]:
        conn.close()
        raise CatalogError(
            f"{path} is at schema {version}, this Dailies reads {MIGRATIONS[-1][0]}; "
            f"open it once with a writer (`dailies ingest` or `dailies serve`) to migrate"
        )
    return Catalog(conn, root)
