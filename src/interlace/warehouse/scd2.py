"""The `scd_type_2` strategy: versioned history, one current row per key.

Each run, inside the write transaction, at one instant `now` (UTC):
1. keys whose current row's hash differs from the batch are closed
   (`valid_to = now`, `is_current = false`) ...
2. ... and every batch key without a current row (changed or new) gets a
   current version (`valid_from = now`, `valid_to = NULL`);
3. with delete mode `soft` / `soft_mark`, current rows whose key is absent
   from the batch are closed (`soft_mark` also sets the deleted flag).
Keys whose hash is unchanged are never touched, so re-running with the same
data leaves the table exactly as it was. The hash is the MD5 of the tracked
columns cast to text, NULL as '', joined by '|'.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb
import msgspec

from interlace.engine.definition import ModelDefinition
from interlace.errors import WriteError
from interlace.warehouse.boundary import first_row
from interlace.warehouse.evolution import target_columns
from interlace.warehouse.identifiers import quote_ident
from interlace.warehouse.staging import StagedResult
from interlace.warehouse.strategies import (
    Counters,
    check_unique_keys,
    key_match,
    require_key_columns,
)

__all__ = ["Scd2Options", "scd2_options", "write_scd2"]

_DELETE_MODES = ("ignore", "soft", "soft_mark")


class Scd2Options(msgspec.Struct, frozen=True, kw_only=True):
    """`scd2_config` with defaults applied."""

    valid_from_col: str = "valid_from"
    valid_to_col: str = "valid_to"
    is_current_col: str = "is_current"
    hash_col: str = "_scd2_hash"
    tracked_columns: tuple[str, ...] | None = None
    """None tracks every non-key column of the result."""
    delete_mode: str = "ignore"
    deleted_col: str = "is_deleted"

    @property
    def history_columns(self) -> list[str]:
        """The columns this strategy adds to the result, in table order."""
        columns = [self.valid_from_col, self.valid_to_col, self.is_current_col]
        columns.append(self.hash_col)
        if self.delete_mode == "soft_mark":
            columns.append(self.deleted_col)
        return columns


def scd2_options(definition: ModelDefinition) -> Scd2Options:
    """Validated options of a `scd_type_2` model."""
    config: dict[str, Any] = dict(definition.scd2_config or {})
    tracked = config.get("tracked_columns")
    if isinstance(tracked, str):
        tracked = [tracked]
    if tracked is not None:
        config["tracked_columns"] = tuple(tracked)
    try:
        options = msgspec.convert(config, Scd2Options)
    except msgspec.ValidationError as exc:
        raise WriteError(
            f"Model '{definition.name}': invalid `scd2_config`: {exc}",
            model=definition.name,
        ) from exc
    if options.delete_mode not in _DELETE_MODES:
        raise WriteError(
            f"Model '{definition.name}': `scd2_config.delete_mode` is "
            f"'{options.delete_mode}'; expected ignore, soft or soft_mark",
            model=definition.name,
        )
    return options


def write_scd2(
    cursor: duckdb.DuckDBPyConnection,
    target: str,
    staged: StagedResult,
    definition: ModelDefinition,
    *,
    exists: bool,
    now: dt.datetime,
) -> Counters:
    """Apply one batch to the history table `target` (created if missing)."""
    options = scd2_options(definition)
    keys = definition.primary_key
    require_key_columns(staged, keys, definition.name)
    check_unique_keys(cursor, staged, keys, definition.name)
    hashed = _hashed_source(staged, keys, options, definition.name)
    if not exists:
        cursor.execute(
            f"CREATE TABLE {target} AS SELECT {_new_versions(options)} "
            f"FROM {hashed} AS s",
            {"now": now},
        )
        return Counters.of(inserted=staged.rows)
    _require_history_columns(cursor, target, options, definition.name)
    return _apply(cursor, target, staged, hashed, keys, options, now)


def _apply(
    cursor: duckdb.DuckDBPyConnection,
    target: str,
    staged: StagedResult,
    hashed: str,
    keys: Sequence[str],
    options: Scd2Options,
    now: dt.datetime,
) -> Counters:
    current = f"t.{quote_ident(options.is_current_col)}"
    hash_col = quote_ident(options.hash_col)
    closed = _count(
        cursor,
        f"UPDATE {target} AS t SET {_closing(options, deleted=False)} "
        f"FROM {hashed} AS s WHERE {current} AND {key_match(keys)} "
        f"AND t.{hash_col} IS DISTINCT FROM s.{hash_col}",
        now,
    )
    versions = _count(
        cursor,
        f"INSERT INTO {target} BY NAME SELECT {_new_versions(options)} "
        f"FROM {hashed} AS s WHERE NOT EXISTS "
        f"(SELECT 1 FROM {target} AS t WHERE {current} AND {key_match(keys)})",
        now,
    )
    deleted = 0
    if options.delete_mode != "ignore":
        deleted = _count(
            cursor,
            f"UPDATE {target} AS t SET "
            f"{_closing(options, deleted=options.delete_mode == 'soft_mark')} "
            f"WHERE {current} AND NOT EXISTS "
            f"(SELECT 1 FROM {staged.relation} AS s WHERE {key_match(keys)})",
            now,
        )
    return Counters.of(inserted=versions - closed, updated=closed, deleted=deleted)


def _hashed_source(
    staged: StagedResult, keys: Sequence[str], options: Scd2Options, model: str
) -> str:
    """A subquery: the staged rows plus their hash column."""
    names = [name for name, _ in staged.columns]
    reserved = [name for name in options.history_columns if name in names]
    if reserved:
        raise WriteError(
            f"Model '{model}': the result has column `{reserved[0]}`, which "
            "scd_type_2 reserves for history; rename it or set `scd2_config`",
            model=model,
        )
    tracked = options.tracked_columns
    if tracked is None:
        tracked = tuple(name for name in names if name not in keys)
    unknown = [name for name in tracked if name not in names]
    if unknown:
        raise WriteError(
            f"Model '{model}': `scd2_config.tracked_columns` names `{unknown[0]}`, "
            f"which the result does not have",
            model=model,
        )
    parts = [f"coalesce(CAST({quote_ident(name)} AS VARCHAR), '')" for name in tracked]
    digest = f"md5(concat_ws('|', {', '.join(parts)}))" if parts else "md5('')"
    hash_col = quote_ident(options.hash_col)
    return f"(SELECT *, {digest} AS {hash_col} FROM {staged.relation})"


def _new_versions(options: Scd2Options) -> str:
    columns = [
        "s.*",
        f"CAST($now AS TIMESTAMP) AS {quote_ident(options.valid_from_col)}",
        f"CAST(NULL AS TIMESTAMP) AS {quote_ident(options.valid_to_col)}",
        f"true AS {quote_ident(options.is_current_col)}",
    ]
    if options.delete_mode == "soft_mark":
        columns.append(f"false AS {quote_ident(options.deleted_col)}")
    return ", ".join(columns)


def _closing(options: Scd2Options, *, deleted: bool) -> str:
    assignments = [
        f"{quote_ident(options.valid_to_col)} = CAST($now AS TIMESTAMP)",
        f"{quote_ident(options.is_current_col)} = false",
    ]
    if deleted:
        assignments.append(f"{quote_ident(options.deleted_col)} = true")
    return ", ".join(assignments)


def _require_history_columns(
    cursor: duckdb.DuckDBPyConnection, target: str, options: Scd2Options, model: str
) -> None:
    present = {name.lower() for name in target_columns(cursor, target)}
    missing = [c for c in options.history_columns if c.lower() not in present]
    if missing:
        raise WriteError(
            f"Model '{model}': the target {target} lacks scd_type_2 column "
            f"`{missing[0]}`; expected a table created by scd_type_2",
            model=model,
        )


def _count(cursor: duckdb.DuckDBPyConnection, statement: str, now: dt.datetime) -> int:
    row = first_row(cursor, statement, {"now": now})
    return int(row[0]) if row else 0
