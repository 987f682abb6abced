"""Request and response bodies of the lineage endpoints (SPEC §10.5, §10.11)."""

from __future__ import annotations

import msgspec

__all__ = [
    "ColumnBody",
    "ColumnLineageBody",
    "ColumnLineageStepBody",
    "ColumnSourceBody",
    "ColumnsBody",
    "LineageBody",
    "LineageColumnBody",
    "LineageEdgeBody",
    "LineageModelBody",
    "LineageNodeBody",
    "ModelEdgeBody",
    "ModelLineageBody",
    "RefreshBody",
    "RefreshErrorBody",
    "RefreshRequest",
]


class RefreshRequest(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """`POST /api/v1/lineage/refresh`; no `models` means every model."""

    models: list[str] | None = None


class RefreshErrorBody(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    error: str


class RefreshBody(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    """True when every refreshed model's lineage could be computed."""
    success: int
    errors: int
    error_details: list[RefreshErrorBody]


class LineageColumnBody(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    data_type: str | None
    sources_count: int


class LineageModelBody(msgspec.Struct, frozen=True, kw_only=True):
    columns: list[LineageColumnBody]


class LineageEdgeBody(msgspec.Struct, frozen=True, kw_only=True):
    source_model: str
    source_column: str
    output_model: str
    output_column: str
    transformation_type: str
    transformation_expression: str | None
    confidence: float


class LineageBody(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /api/v1/lineage`."""

    models: dict[str, LineageModelBody]
    edges: list[LineageEdgeBody]


class ColumnSourceBody(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    column: str
    transformation: str


class ColumnBody(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    data_type: str | None
    nullable: bool
    is_primary_key: bool
    description: str | None
    sources: list[ColumnSourceBody]


class ColumnsBody(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """`GET /api/v1/models/{name}/columns`; `lineage_error` only when lineage
    could not be computed."""

    model: str
    columns: list[ColumnBody]
    lineage_error: str | None = None


class ColumnLineageStepBody(msgspec.Struct, frozen=True, kw_only=True):
    source_model: str
    source_column: str
    output_model: str
    output_column: str
    transformation: str
    depth: int
    """Edges between this step and the column asked about (1 = direct)."""


class ColumnLineageBody(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /api/v1/models/{name}/columns/{column}/lineage`."""

    model: str
    column: str
    data_type: str | None
    sources: list[ColumnLineageStepBody]
    dependents: list[ColumnLineageStepBody]


class LineageNodeBody(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    type: str
    schema: str
    materialise: str
    strategy: str | None
    layer: int
    tags: list[str]


class ModelEdgeBody(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    target: str


class ModelLineageBody(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /api/v1/models/{name}/lineage`."""

    model: str
    root: str
    direction: str
    depth: int
    nodes: list[LineageNodeBody]
    edges: list[ModelEdgeBody]
