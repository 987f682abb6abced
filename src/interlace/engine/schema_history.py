"""Reading a model's schema history, and the difference between two versions.

The CLI (`interlace schema ...`) and the service (`/models/{name}/schema/...`)
both answer from here, so they agree on the rules of SPEC §10.11: a model
that has never been materialised has a synthetic version 1 built from its
`fields` (no detection time) and a current version numbered 0; version 0
asked for explicitly means "current".
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import msgspec

from interlace.engine.definition import ModelDefinition
from interlace.state.ids import iso_utc
from interlace.state.records import SchemaColumn, SchemaVersionRecord
from interlace.state.store import StateStore

__all__ = [
    "ColumnDiff",
    "DiffChange",
    "SchemaDiff",
    "SchemaVersionView",
    "current_schema",
    "diff_document",
    "diff_schemas",
    "fields_columns",
    "schema_at",
    "schema_history",
    "version_document",
]


class SchemaVersionView(msgspec.Struct, frozen=True, kw_only=True):
    """A recorded version, or one derived from `fields` (`detected_at` None)."""

    version: int
    detected_at: dt.datetime | None
    columns: list[SchemaColumn]


class DiffChange(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"
    """Present in both versions with different types."""
    UNCHANGED = "unchanged"


class ColumnDiff(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    change: DiffChange
    old_type: str | None
    new_type: str | None


class SchemaDiff(msgspec.Struct, frozen=True, kw_only=True):
    """Every column of two versions: the new ones' in order, then removals."""

    from_version: int
    to_version: int
    columns: list[ColumnDiff]

    def of(self, change: DiffChange) -> list[ColumnDiff]:
        return [column for column in self.columns if column.change is change]


def fields_columns(definition: ModelDefinition) -> list[SchemaColumn]:
    """Columns declared by `fields`; nullability is unknown, so nullable."""
    keys = set(definition.primary_key)
    return [
        SchemaColumn(name=name, type=kind, is_primary_key=name in keys)
        for name, kind in (definition.fields or {}).items()
    ]


def schema_history(
    store: StateStore | None,
    definition: ModelDefinition,
    *,
    limit: int,
    offset: int = 0,
) -> tuple[list[SchemaVersionView], int]:
    """Versions newest first and their total; see the module docstring.

    `store` is None when no state database exists yet.
    """
    if store is not None:
        records, total = store.schema_versions(
            definition.name, limit=limit, offset=offset
        )
        if total:
            return [_view(record) for record in records], total
    synthetic = _synthetic(definition)
    if synthetic is None:
        return [], 0
    return ([synthetic] if offset == 0 and limit > 0 else []), 1


def current_schema(
    store: StateStore | None, definition: ModelDefinition
) -> SchemaVersionView:
    """The latest recorded version, else version 0 with the `fields` columns."""
    latest = None if store is None else store.latest_schema_version(definition.name)
    if latest is not None:
        return _view(latest)
    return SchemaVersionView(
        version=0, detected_at=None, columns=fields_columns(definition)
    )


def schema_at(
    store: StateStore | None, definition: ModelDefinition, version: int
) -> SchemaVersionView | None:
    """Version `version` (0: current); None when there is no such version."""
    if version == 0:
        return current_schema(store, definition)
    if store is not None:
        record = store.schema_version(definition.name, version)
        if record is not None:
            return _view(record)
        if store.latest_schema_version(definition.name) is not None:
            return None
    return _synthetic(definition) if version == 1 else None


def diff_schemas(old: SchemaVersionView, new: SchemaVersionView) -> SchemaDiff:
    """Column by column, from `old` to `new` (names compare case-insensitively)."""
    before = {column.name.lower(): column for column in old.columns}
    after = {column.name.lower() for column in new.columns}
    columns = [
        _compared(before.get(column.name.lower()), column) for column in new.columns
    ]
    columns += [
        ColumnDiff(
            name=column.name,
            change=DiffChange.REMOVED,
            old_type=column.type,
            new_type=None,
        )
        for column in old.columns
        if column.name.lower() not in after
    ]
    return SchemaDiff(from_version=old.version, to_version=new.version, columns=columns)


def version_document(view: SchemaVersionView) -> dict[str, Any]:
    """A version in the JSON shape of SPEC §10.11 (API and `--format json`)."""
    return {
        "version": view.version,
        "detected_at": None if view.detected_at is None else iso_utc(view.detected_at),
        "columns": [msgspec.structs.asdict(column) for column in view.columns],
    }


def diff_document(model: str, diff: SchemaDiff) -> dict[str, Any]:
    """A diff in the JSON shape of SPEC §10.11 (API and `--format json`)."""
    return {
        "model": model,
        "from_version": diff.from_version,
        "to_version": diff.to_version,
        "diff": [msgspec.structs.asdict(column) for column in diff.columns],
        "added": [
            {"name": column.name, "type": column.new_type}
            for column in diff.of(DiffChange.ADDED)
        ],
        "removed": [
            {"name": column.name, "type": column.old_type}
            for column in diff.of(DiffChange.REMOVED)
        ],
        "modified": [
            {
                "column": column.name,
                "old_type": column.old_type,
                "new_type": column.new_type,
            }
            for column in diff.of(DiffChange.MODIFIED)
        ],
    }


def _compared(old: SchemaColumn | None, new: SchemaColumn) -> ColumnDiff:
    if old is None:
        change = DiffChange.ADDED
    elif old.type != new.type:
        change = DiffChange.MODIFIED
    else:
        change = DiffChange.UNCHANGED
    return ColumnDiff(
        name=new.name,
        change=change,
        old_type=None if old is None else old.type,
        new_type=new.type,
    )


def _view(record: SchemaVersionRecord) -> SchemaVersionView:
    return SchemaVersionView(
        version=record.version,
        detected_at=record.detected_at,
        columns=list(record.columns),
    )


def _synthetic(definition: ModelDefinition) -> SchemaVersionView | None:
    if not definition.fields:
        return None
    return SchemaVersionView(
        version=1, detected_at=None, columns=fields_columns(definition)
    )
