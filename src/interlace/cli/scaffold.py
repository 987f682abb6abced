"""The files `interlace init` writes: a small project that runs offline.

The example graph mixes every kind of model so that a new user sees each one
working: SQL `raw_orders` (generated rows) feeds the Python model
`orders_enriched`, which feeds the SQL aggregate `daily_revenue` and the
`merge_by_key` model `region_totals`; `page_views` declares a stream.
"""

from __future__ import annotations

from pathlib import Path

from interlace.errors import ConfigError

__all__ = ["SCAFFOLD_FILES", "write_scaffold"]

_NAME = "__PROJECT_NAME__"

_CONFIG = """\
# Interlace project configuration. `{env}` is replaced by the environment
# (--env, else INTERLACE_ENV, else dev); `${VAR:-default}` reads variables.
name: __PROJECT_NAME__
description: Example pipeline created by `interlace init`
models_dir: models

connections:
  default:
    type: duckdb
    path: data/{env}/warehouse.duckdb

state:
  path: .interlace/state.db

# A project-wide retry policy (retries are off unless configured); a model's
# own `retry=` option overrides it.
# retry:
#   max_attempts: 2
#   initial_delay: 1.0
#   max_delay: 30.0
"""

_SQL_MODELS = """\
-- Generated orders, so the example needs no data files or network.
-- @name: raw_orders
-- @description: One hundred generated orders over a week
SELECT
    i AS order_id,
    DATE '2026-01-01' + CAST(i % 7 AS INTEGER) AS order_date,
    ['north', 'south', 'west'][CAST(i % 3 AS INTEGER) + 1] AS region,
    ROUND(CAST(5 + (i * 37) % 95 AS DOUBLE) * 1.01, 2) AS amount
FROM range(1, 101) AS generated(i);

-- Revenue per day, read from the Python model `orders_enriched`.
-- @name: daily_revenue
-- @description: Orders and gross revenue per day
SELECT
    order_date,
    COUNT(*) AS orders,
    ROUND(SUM(gross_amount), 2) AS revenue
FROM orders_enriched
GROUP BY order_date
ORDER BY order_date;
"""

_PYTHON_MODELS = '''\
"""Python models of the example pipeline.

Each parameter of a model names an upstream model (SQL or Python) and
receives it as a lazy `Table`; `context` gives the run's details.
"""

from interlace import model, stream

TAX_RATE = 0.2


@model(
    fields={
        "order_id": "int64",
        "order_date": "date",
        "region": "string",
        "amount": "float64",
        "gross_amount": "float64",
        "size": "string",
    },
)
def orders_enriched(raw_orders, context):
    """Orders with tax applied and a size bucket."""
    rows = raw_orders.arrow().to_pylist()
    context.logger.info("enriching %d orders", len(rows))
    return [
        {
            **row,
            "gross_amount": round(row["amount"] * (1 + TAX_RATE), 2),
            "size": "large" if row["amount"] >= 50 else "small",
        }
        for row in rows
    ]


@model(strategy="merge_by_key", primary_key="region")
def region_totals(orders_enriched):
    """Totals per region, upserted on the region key."""
    return orders_enriched.sql(
        "SELECT region, COUNT(*) AS orders, ROUND(SUM(gross_amount), 2) AS revenue"
        " FROM orders_enriched GROUP BY region"
    )


@stream(
    fields={
        "event_id": "string",
        "user_id": "string",
        "url": "string",
        "ts": "timestamp_tz",
    },
    idempotency_key="event_id",
)
def page_views():
    """Page views published to POST /api/v1/streams/page_views."""
'''

_TESTS = '''\
"""Unit tests for the example models; run `pytest` in the project directory."""

import datetime as dt

from interlace.testing import mock_dependency, test_model_sync

from models.example import orders_enriched


def test_orders_enriched_applies_tax_and_buckets_sizes():
    day = dt.date(2026, 1, 1)
    raw = mock_dependency(
        [
            {"order_id": 1, "order_date": day, "region": "north", "amount": 10.0},
            {"order_id": 2, "order_date": day, "region": "south", "amount": 80.0},
        ]
    )

    result = test_model_sync(orders_enriched, deps={"raw_orders": raw})

    assert result.status == "success", result.error
    assert [row["gross_amount"] for row in result.rows] == [12.0, 96.0]
    assert [row["size"] for row in result.rows] == ["small", "large"]
'''

_CONFTEST = '''\
"""Lets tests import model files as `models.<file>`.

pytest puts the directory of this root `conftest.py` on `sys.path`.
"""
'''

_GITIGNORE = """\
# Interlace runtime files (state store, service file) and local warehouses.
.interlace/
data/
logs/
__pycache__/
"""

SCAFFOLD_FILES: dict[str, str] = {
    "config.yaml": _CONFIG,
    "models/example.sql": _SQL_MODELS,
    "models/example.py": _PYTHON_MODELS,
    "tests/test_example.py": _TESTS,
    "conftest.py": _CONFTEST,
    ".gitignore": _GITIGNORE,
}


def write_scaffold(directory: Path) -> list[Path]:
    """Write the example project into `directory`; returns the files written.

    Refuses when `config.yaml` exists, so an existing project is never
    overwritten; other existing files (a `.gitignore`) are left untouched.
    """
    config = directory / "config.yaml"
    if config.exists():
        raise ConfigError(
            "a project already exists here; `interlace init` will not overwrite "
            "config.yaml",
            path=config,
        )
    name = directory.resolve().name or "interlace_project"
    written = []
    for relative, template in SCAFFOLD_FILES.items():
        path = directory / relative
        if path.exists():
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(template.replace(_NAME, name), encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot write the new project: {exc}", path=path
            ) from exc
        written.append(path)
    return written
