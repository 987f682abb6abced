"""What SQL column tracing knows about a relation (table, CTE, subquery).

A relation is a list of columns, each traced back to the real upstream model
columns (`Origin`) it is computed from. Upstream models are looked up in a
`SchemaCatalog`; a table whose columns are unknown becomes an *opaque*
relation, whose columns are accepted by name with less confidence.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from sqlglot import exp

from interlace.lineage.edges import TransformationType

__all__ = [
    "UNKNOWN_RELATION",
    "Origin",
    "Relation",
    "SchemaCatalog",
    "Traced",
    "rename_columns",
    "renamed",
]

ColumnTypes = Mapping[str, str | None]


class Origin(msgspec.Struct, frozen=True):
    """One real upstream column behind a traced column."""

    model: str
    column: str
    kind: TransformationType
    node: exp.Expr | None
    """The expression that gave `kind`; rendered as the edge's expression."""
    confidence: float


class Traced(msgspec.Struct, frozen=True):
    """One column of a relation, with where its values come from."""

    name: str
    data_type: str | None
    origins: tuple[Origin, ...]


class Relation(msgspec.Struct, frozen=True):
    """The columns a FROM item or a query provides."""

    columns: dict[str, Traced]
    """By lower-case name (DuckDB identifiers are case-insensitive), in order."""
    opaque: tuple[str, ...] = ()
    """Tables with unknown columns whose columns pass through unchanged."""
    complete: bool = True
    """False when `columns` may miss some of the relation's columns."""


UNKNOWN_RELATION = Relation({}, (), False)


def rename_columns(relation: Relation, names: list[str]) -> Relation:
    """Apply a column alias list (`AS s(a, b)`) positionally.

    A renamed column's origins record the rename, so `x` read as `a` shows as
    `renamed` unless a stronger transformation already applies.
    """
    columns: dict[str, Traced] = {}
    traced = list(relation.columns.values())
    for index, name in enumerate(names):
        if index >= len(traced):
            columns[name.lower()] = Traced(name, None, ())
            continue
        column = traced[index]
        origins = column.origins
        if column.name.lower() != name.lower():
            origins = renamed(origins)
        columns[name.lower()] = Traced(name, column.data_type, origins)
    for column in traced[len(names) :]:
        columns.setdefault(column.name.lower(), column)
    return Relation(columns, relation.opaque, relation.complete)


def renamed(origins: tuple[Origin, ...]) -> tuple[Origin, ...]:
    """Origins of a column read under another name: plain copies become
    `renamed`, anything stronger is kept."""
    return tuple(
        Origin(o.model, o.column, TransformationType.RENAMED, o.node, o.confidence)
        if o.kind is TransformationType.DIRECT
        else o
        for o in origins
    )


class SchemaCatalog:
    """Known columns of upstream models, looked up case-insensitively.

    Built once per project computation and extended model by model, so the
    relation of a popular upstream is built once and shared by every query
    that reads it.
    """

    def __init__(self, schemas: Mapping[str, ColumnTypes] | None = None) -> None:
        self._schemas: dict[str, ColumnTypes] = {}
        self._partial: set[str] = set()
        self._names: dict[str, str] = {}
        self._relations: dict[str, Relation] = {}
        for model, columns in (schemas or {}).items():
            self.set(model, columns)

    def set(self, model: str, columns: ColumnTypes, *, complete: bool = True) -> None:
        """Record (or replace) the columns of `model`; none means unknown.

        `complete=False` records some columns of a model whose full list is
        unknown: other names are then accepted with less confidence.
        """
        self._relations.pop(model, None)
        self._partial.discard(model)
        if not columns:
            self._names.pop(model.lower(), None)
            self._schemas.pop(model, None)
            return
        self._names[model.lower()] = model
        self._schemas[model] = columns
        if not complete:
            self._partial.add(model)

    def get(self, model: str) -> ColumnTypes | None:
        """The columns of `model`, or None when they are unknown."""
        name = self._names.get(model.lower())
        return None if name is None else self._schemas[name]

    def __contains__(self, model: object) -> bool:
        return isinstance(model, str) and model.lower() in self._names

    def table(self, table: str) -> tuple[str, Relation]:
        """The model name (as declared) and relation of a table reference."""
        name = self._names.get(table.lower())
        if name is None:
            return table, Relation({}, (table,), False)
        relation = self._relations.get(name)
        if relation is None:
            relation = _table_relation(name, self._schemas[name])
            if name in self._partial:
                relation = Relation(relation.columns, (name,), False)
            self._relations[name] = relation
        return name, relation


def _table_relation(model: str, columns: ColumnTypes) -> Relation:
    traced = {
        column.lower(): Traced(
            column,
            data_type,
            (Origin(model, column, TransformationType.DIRECT, None, 1.0),),
        )
        for column, data_type in columns.items()
    }
    return Relation(traced)
