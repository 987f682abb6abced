"""Column lineage edges and the per-model lineage result.

An edge says that one column of an upstream model feeds one output column of
a model, how (`TransformationType`) and how sure the tracing is
(`confidence`, 1.0 when every name was resolved against a known schema).
These structs are what the state store persists and the API serves.
"""

from __future__ import annotations

import enum

import msgspec

from interlace.errors import InterlaceError

__all__ = [
    "ColumnEdge",
    "LineageColumn",
    "LineageError",
    "ModelColumnLineage",
    "TransformationType",
    "supersedes",
]


class TransformationType(enum.StrEnum):
    DIRECT = "direct"
    """The value is copied under the same name."""
    RENAMED = "renamed"
    """The value is copied under another name."""
    DERIVED = "derived"
    """The value is computed from one or more columns (arithmetic, CASE...)."""
    AGGREGATED = "aggregated"
    """The value is an aggregate (`SUM`, `COUNT`...) over the column."""
    JOINED = "joined"
    """The column is a join key, or is used in a join condition."""
    FILTERED = "filtered"
    """The column only filters rows; declared by Python models, never inferred."""
    CAST = "cast"
    """The value is the column converted to another type."""
    WINDOW = "window"
    """The value is a window function over the column."""
    UNKNOWN = "unknown"
    """The source could not be resolved with certainty."""


# How much a transformation changes a value, weakest first. When a column
# passes through several queries (CTEs, subqueries, models declared in
# between), the strongest step describes the edge: `SUM` of a renamed column
# is aggregated. UNKNOWN is the strongest so that doubt is never hidden.
_STRENGTH = {
    TransformationType.DIRECT: 0,
    TransformationType.RENAMED: 1,
    TransformationType.JOINED: 2,
    TransformationType.CAST: 3,
    TransformationType.FILTERED: 4,
    TransformationType.DERIVED: 5,
    TransformationType.AGGREGATED: 6,
    TransformationType.WINDOW: 7,
    TransformationType.UNKNOWN: 8,
}


def supersedes(later: TransformationType, earlier: TransformationType) -> bool:
    """Whether step `later` describes the chain `earlier` then `later`.

    Ties go to the later step, so a chain of pass-throughs is described by the
    outermost one (its expression is the one the reader sees in the model).
    """
    return _STRENGTH[later] >= _STRENGTH[earlier]


class ColumnEdge(msgspec.Struct, frozen=True, kw_only=True):
    """One upstream column feeding one output column."""

    source_model: str
    source_column: str
    output_model: str
    output_column: str
    transformation_type: TransformationType
    transformation_expression: str | None = None
    """SQL of the expression that transforms the value, e.g. `SUM(o.amount)`."""
    confidence: float = 1.0
    """1.0 when fully resolved; lower when a schema was unknown or inferred."""


class LineageColumn(msgspec.Struct, frozen=True, kw_only=True):
    """An output column of a model, with its canonical type when known."""

    name: str
    data_type: str | None = None


class ModelColumnLineage(msgspec.Struct, frozen=True, kw_only=True):
    """The output columns of one model and the edges that feed them."""

    model: str
    columns: tuple[LineageColumn, ...] = ()
    edges: tuple[ColumnEdge, ...] = ()
    """Edges whose `output_model` is this model, in output column order."""
    warnings: tuple[str, ...] = ()
    """What could not be traced (unknown schemas, unsupported syntax)."""
    complete: bool = True
    """False when some output columns could not be listed (`*` over a table
    whose columns are unknown): `columns` is then a subset."""
    error: str | None = None
    """Why lineage could not be computed at all; columns may come from
    `fields` or schema history, and there are no edges."""

    def schema(self) -> dict[str, str | None]:
        """Column name to canonical type (None when not inferable)."""
        return {column.name: column.data_type for column in self.columns}


class LineageError(InterlaceError):
    """Lineage cannot be computed for a model (bad SQL, bad declaration).

    Raised inside `interlace.lineage` only: the project-wide computation
    records the message per model instead of failing.
    """

    code = "LINEAGE_ERROR"

    def __init__(self, message: str, *, model: str | None = None) -> None:
        super().__init__(message)
        self.model = model
