"""The SQLite catalog: every SQL statement of Dailies lives in this package."""

from pipeline.catalog.db import Catalog, open_catalog, open_reader

__all__ = ["Catalog", "open_catalog", "open_reader"]
