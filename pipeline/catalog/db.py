"""Opening the catalog: WAL mode, foreign keys, migrations, one writer at a time."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from ..errors import CatalogError
from .migrations import MIGRATIONS
from .overnight import OvernightQueries
from .queries import Queries
from .web_queries import WebQueries
from .workflow import WorkflowQueries

CATALOG_NAME = "catalog.sqlite"


class Catalog(Queries, OvernightQueries, WebQueries, WorkflowQueries):
    def __init__(self, conn: sqlite3.Connection, root: Path):
        self.conn = conn
        self.root = root

    @contextlib.contextmanager
    def transaction(self):
        """All writes of a unit of work commit together or not at all."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()

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
            raise CatalogError(f"no Dailies library at {root} (no {CATALOG_NAME}); run `dailies ingest` first "
                               f"or pass --library / set DAILIES_LIBRARY")
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
        raise CatalogError(f"no Dailies library at {root} (no {CATALOG_NAME}); run `dailies ingest` first "
                           f"or pass --library / set DAILIES_LIBRARY")
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
        raise CatalogError(f"{path} is at schema {version}, this Dailies reads {MIGRATIONS[-1][0]}; "
                           f"open it once with a writer (`dailies ingest` or `dailies serve`) to migrate")
    return Catalog(conn, root)
