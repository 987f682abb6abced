"""Quoting of SQL identifiers and literals for generated DuckDB statements.

Every statement the warehouse builds quotes names, because model and column
names come from users and may collide with keywords or contain capitals.
"""

from __future__ import annotations

__all__ = ["qualified", "quote_ident", "quote_literal"]


def quote_ident(name: str) -> str:
    """`name` as a double-quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """`text` as a single-quoted string literal."""
    return "'" + text.replace("'", "''") + "'"


def qualified(schema: str, name: str) -> str:
    """`"schema"."name"`."""
    return f"{quote_ident(schema)}.{quote_ident(name)}"
