"""The SQLite state backend; all SQLite-specific SQL lives in this package."""

from __future__ import annotations

from interlace.state.sqlite.migrations import MIGRATIONS, Migration
from interlace.state.sqlite.store import SQLiteStateStore

__all__ = ["MIGRATIONS", "Migration", "SQLiteStateStore"]
