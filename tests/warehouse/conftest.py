"""Shared fixtures: a real DuckDB file per test and definition builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from interlace.engine.definition import ModelDefinition, ModelType
from interlace.warehouse.database import DuckDBWarehouse
from interlace.warehouse.materialise import WriteResult, materialise

RUN_ID = "run_0123456789ab"


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBWarehouse]:
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    yield warehouse
    warehouse.close()


@pytest.fixture
def cursor(warehouse: DuckDBWarehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    cursor = warehouse.cursor()
    yield cursor
    cursor.close()


def _definition(name: str = "orders", **options: Any) -> ModelDefinition:
    """A Python model definition in schema `s` with the given options."""
    values: dict[str, Any] = {
        "name": name,
        "type": ModelType.PYTHON,
        "schema": "s",
        "connection": None,
    }
    values.update(options)
    return ModelDefinition(**values)


@pytest.fixture
def run_id() -> str:
    """The run id `write` uses."""
    return RUN_ID


def never() -> bool:
    return False


@pytest.fixture
def write(
    warehouse: DuckDBWarehouse, cursor: duckdb.DuckDBPyConnection
) -> Callable[..., WriteResult]:
    """`write(definition, value)` materialises on the test cursor."""

    def write(model: ModelDefinition, value: Any, **kwargs: Any) -> WriteResult:
        kwargs.setdefault("cancelled", never)
        return materialise(warehouse, cursor, model, value, run_id=RUN_ID, **kwargs)

    return write


@pytest.fixture
def define() -> Callable[..., ModelDefinition]:
    """`define(name, **options)` builds a Python model definition in `s`."""
    return _definition


@pytest.fixture
def fetch(cursor: duckdb.DuckDBPyConnection) -> Callable[[str], list[Any]]:
    """`fetch(query)` returns all rows of a query on the test cursor."""

    def fetch(query: str) -> list[Any]:
        return cursor.execute(query).fetchall()

    return fetch
