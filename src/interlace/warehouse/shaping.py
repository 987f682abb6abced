"""Fields, strict and column mapping (SPEC §4.9), applied in SQL.

Order: `column_mapping` renames (old -> new), then `fields` casts (keyed by
the new names), then `strict` projects onto the declared columns in declared
order. Without `strict`, undeclared columns are kept and missing declared
ones are added as typed NULLs. The result is one SELECT list, applied to
whatever source is being staged, so shaping costs no extra pass over data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from interlace.engine.definition import ModelDefinition
from interlace.errors import SchemaInferenceError
from interlace.types import canonical_type, duckdb_type
from interlace.warehouse.identifiers import quote_ident

__all__ = ["declared_columns_ddl", "declared_types", "raw_hints", "shaped_select"]

logger = logging.getLogger(__name__)


def declared_types(definition: ModelDefinition) -> dict[str, str]:
    """`fields` with canonical type spellings (empty when undeclared)."""
    return {
        name: canonical_type(spec) for name, spec in (definition.fields or {}).items()
    }


def raw_hints(definition: ModelDefinition) -> dict[str, str]:
    """Declared types keyed by the names the model returns (before renames).

    Python values are converted with these hints so that, for example, a
    column of only None gets its declared type instead of string.
    """
    declared = declared_types(definition)
    mapping = definition.column_mapping or {}
    renamed_to = set(mapping.values())
    hints = {old: declared[new] for old, new in mapping.items() if new in declared}
    for name, kind in declared.items():
        if name not in renamed_to and name not in hints:
            hints[name] = kind
    return hints


def shaped_select(definition: ModelDefinition, source_columns: Sequence[str]) -> str:
    """The SELECT list that shapes a source with `source_columns`."""
    mapping = definition.column_mapping or {}
    unknown = sorted(set(mapping) - set(source_columns))
    if unknown:
        logger.warning(
            "Model '%s': column_mapping names columns the result does not have: %s",
            definition.name,
            ", ".join(unknown),
        )
    declared = declared_types(definition)
    expressions: dict[str, str] = {}
    for source in source_columns:
        target = mapping.get(source, source)
        if target in expressions:
            raise SchemaInferenceError(
                f"Model '{definition.name}': column `{target}` appears twice after "
                "column_mapping; expected unique column names",
                model=definition.name,
            )
        expressions[target] = _cast(quote_ident(source), declared.get(target))
    for name, kind in declared.items():
        expressions.setdefault(name, _cast("NULL", kind))
    order = list(declared) if definition.strict and declared else list(expressions)
    return ", ".join(f"{expressions[name]} AS {quote_ident(name)}" for name in order)


def declared_columns_ddl(definition: ModelDefinition) -> str:
    """`"a" BIGINT, "b" VARCHAR` for the declared fields, in order."""
    return ", ".join(
        f"{quote_ident(name)} {duckdb_type(kind)}"
        for name, kind in declared_types(definition).items()
    )


def _cast(expression: str, kind: str | None) -> str:
    if kind is None:
        return expression
    return f"CAST({expression} AS {duckdb_type(kind)})"
