"""Column lineage in SQLite: one row per model, one row per edge.

`lineage_models` (migration 2) holds what a model's lineage was computed from
and its output columns; `column_lineage` (migration 1, `position` from
migration 2) holds the edges into each output column. Saving a model's
lineage replaces both, so a recomputation never leaves edges of an older
definition behind.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Collection, Sequence
from typing import Any

import msgspec

from interlace.state.records import (
    LineageColumnRecord,
    LineageEdgeRecord,
    LineageModelRecord,
)
from interlace.state.sqlite.tables import decode_timestamp, encode_timestamp
from interlace.state.writes import SaveColumnLineage

__all__ = [
    "edges_from_rows",
    "edges_query",
    "models_from_rows",
    "models_query",
    "save_column_lineage",
]

_EDGE_COLUMNS = (
    "source_model, source_column, output_model, output_column, "
    "transformation_type, transformation_expression, confidence"
)
_MODEL_COLUMNS = "model_name, definition_hash, columns, complete, error, computed_at"

_INSERT_EDGE = (
    f"INSERT OR REPLACE INTO column_lineage ({_EDGE_COLUMNS}, computed_at, "
    "position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_MODEL = (
    f"INSERT OR REPLACE INTO lineage_models ({_MODEL_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)

_columns_encoder = msgspec.json.Encoder()
_columns_decoder = msgspec.json.Decoder(list[LineageColumnRecord])


def save_column_lineage(
    conn: sqlite3.Connection, writes: Sequence[SaveColumnLineage], now: dt.datetime
) -> None:
    """Replace each written model's row and edges; later writes win."""
    stamp = encode_timestamp(now)
    for write in writes:
        conn.execute(
            "DELETE FROM column_lineage WHERE output_model = ?", (write.model_name,)
        )
        conn.execute(_UPSERT_MODEL, _model_row(write, stamp))
        conn.executemany(_INSERT_EDGE, _edge_rows(write, stamp))


def _model_row(write: SaveColumnLineage, stamp: str) -> tuple[Any, ...]:
    return (
        write.model_name,
        write.definition_hash,
        _columns_encoder.encode(write.columns).decode(),
        int(write.complete),
        write.error,
        stamp,
    )


def _edge_rows(write: SaveColumnLineage, stamp: str) -> list[tuple[Any, ...]]:
    rows = []
    for position, edge in enumerate(write.edges):
        if edge.output_model != write.model_name:
            raise ValueError(
                f"`SaveColumnLineage` for `{write.model_name}`: expected edges into "
                f"`{write.model_name}`, found an edge into `{edge.output_model}` "
                f"(`$.edges[{position}]`)"
            )
        rows.append(
            (
                edge.source_model,
                edge.source_column,
                edge.output_model,
                edge.output_column,
                edge.transformation_type,
                edge.transformation_expression,
                edge.confidence,
                stamp,
                position,
            )
        )
    return rows


def edges_query(models: Collection[str] | None) -> tuple[str, tuple[str, ...]]:
    """The edges into `models` (all for None), by model, in saved order."""
    where, params = _model_filter("output_model", models)
    sql = (
        f"SELECT {_EDGE_COLUMNS} FROM column_lineage{where} "
        "ORDER BY output_model, position"
    )
    return sql, params


def models_query(models: Collection[str] | None) -> tuple[str, tuple[str, ...]]:
    where, params = _model_filter("model_name", models)
    sql = f"SELECT {_MODEL_COLUMNS} FROM lineage_models{where} ORDER BY model_name"
    return sql, params


def _model_filter(
    column: str, models: Collection[str] | None
) -> tuple[str, tuple[str, ...]]:
    if models is None:
        return "", ()
    names = tuple(dict.fromkeys(models))
    if not names:
        # `IN ()` is not SQL; no model asked for means no rows.
        return " WHERE 0", ()
    marks = ", ".join("?" * len(names))
    return f" WHERE {column} IN ({marks})", names


def edges_from_rows(rows: Sequence[Sequence[Any]]) -> list[LineageEdgeRecord]:
    return [
        LineageEdgeRecord(
            source_model=row[0],
            source_column=row[1],
            output_model=row[2],
            output_column=row[3],
            transformation_type=row[4],
            transformation_expression=row[5],
            confidence=row[6],
        )
        for row in rows
    ]


def models_from_rows(rows: Sequence[Sequence[Any]]) -> list[LineageModelRecord]:
    return [
        LineageModelRecord(
            model_name=row[0],
            definition_hash=row[1],
            columns=_columns_decoder.decode(row[2]),
            complete=bool(row[3]),
            error=row[4],
            computed_at=decode_timestamp(row[5]),
        )
        for row in rows
    ]
