"""Model lineage and column lineage (SPEC §8.2), computed without running code.

- `model_lineage`: models around one model within a number of hops.
- `compute_project_lineage` / `compute_model_lineage`: output columns and
  `ColumnEdge`s of SQL models (traced with sqlglot) and Python models (from
  `fields` and the `column_lineage` declaration).
- `LineageIndex`: upstream and downstream lineage of one column, and the
  columns of a model with their direct sources.

Persistence and rendering live elsewhere (state store, CLI, service).
"""

from interlace.lineage.compute import (
    ProjectLineage,
    compute_model_lineage,
    compute_project_lineage,
)
from interlace.lineage.edges import (
    ColumnEdge,
    LineageColumn,
    LineageError,
    ModelColumnLineage,
    TransformationType,
)
from interlace.lineage.models import (
    LineageNode,
    ModelEdge,
    ModelLineage,
    model_lineage,
)
from interlace.lineage.python_columns import python_column_lineage
from interlace.lineage.queries import (
    ColumnLineage,
    ColumnLineageStep,
    ColumnSource,
    LineageIndex,
    ModelColumn,
)
from interlace.lineage.sql_columns import sql_column_lineage
from interlace.lineage.sql_relations import SchemaCatalog

__all__ = [
    "ColumnEdge",
    "ColumnLineage",
    "ColumnLineageStep",
    "ColumnSource",
    "LineageColumn",
    "LineageError",
    "LineageIndex",
    "LineageNode",
    "ModelColumn",
    "ModelColumnLineage",
    "ModelEdge",
    "ModelLineage",
    "ProjectLineage",
    "SchemaCatalog",
    "TransformationType",
    "compute_model_lineage",
    "compute_project_lineage",
    "model_lineage",
    "python_column_lineage",
    "sql_column_lineage",
]
