"""Pytest fixtures for testing Interlace models (registered as a plugin).

- `interlace_test_db`: a DuckDB connection on a fresh file in `tmp_path`.
- `interlace_mock`: the `mock_dependency` function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from interlace.testing import mock_dependency
from interlace.warehouse.database import DuckDBWarehouse
from interlace.warehouse.table import Table

__all__ = ["interlace_mock", "interlace_test_db"]


@pytest.fixture
def interlace_test_db(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection on `tmp_path / "interlace_test.duckdb"`."""
    warehouse = DuckDBWarehouse(tmp_path / "interlace_test.duckdb")
    cursor = warehouse.cursor()
    try:
        yield cursor
    finally:
        cursor.close()
        warehouse.close()


@pytest.fixture
def interlace_mock() -> Callable[..., Table]:
    """`mock_dependency`, as a fixture."""
    mock: Callable[..., Table] = mock_dependency
    return mock
