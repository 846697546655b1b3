"""The SQLite catalog: every SQL statement of Dailies lives in this package."""

from .db import Catalog, open_catalog

__all__ = ["Catalog", "open_catalog"]
