"""Canonical types of SQL output expressions, where they follow from inputs.

This is deliberately small: pass-through columns, casts, common aggregates
and window functions, predicates and string operations. Anything else is
None (unknown) rather than a guess; schema history fills the gap once the
model has run.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping

from sqlglot import exp

from interlace.types import canonical_type

__all__ = ["infer_type"]

ColumnTypes = Mapping[int, str | None]
"""Type of each resolved column reference, by `id()` of its node."""

_FIXED: dict[type[exp.Expr], str] = {
    exp.Count: "int64",
    exp.CountIf: "int64",
    exp.RowNumber: "int64",
    exp.Rank: "int64",
    exp.DenseRank: "int64",
    exp.Ntile: "int64",
    exp.ApproxDistinct: "int64",
    exp.Length: "int64",
    exp.Avg: "float64",
    exp.Stddev: "float64",
    exp.StddevSamp: "float64",
    exp.Variance: "float64",
    exp.PercentRank: "float64",
    exp.CumeDist: "float64",
    exp.Div: "float64",
    exp.DPipe: "string",
    exp.Concat: "string",
    exp.Upper: "string",
    exp.Lower: "string",
    exp.CurrentDate: "date",
    exp.CurrentTimestamp: "timestamp_tz",
    exp.Exists: "boolean",
    exp.Boolean: "boolean",
}
_FIRST_ARGUMENT = (
    exp.Min,
    exp.Max,
    exp.AnyValue,
    exp.First,
    exp.Last,
    exp.FirstValue,
    exp.LastValue,
    exp.Lag,
    exp.Lead,
    exp.Coalesce,
    exp.Nullif,
    exp.Abs,
    exp.Neg,
    exp.Greatest,
    exp.Least,
    exp.Paren,
    exp.Alias,
    exp.Window,
)
_INTEGERS = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}


def infer_type(node: exp.Expr, columns: ColumnTypes) -> str | None:
    """The canonical type of `node`, or None when it cannot be inferred."""
    if isinstance(node, exp.Column):
        return columns.get(id(node))
    fixed = _FIXED.get(type(node))
    if fixed is not None:
        return fixed
    if isinstance(node, exp.Cast):
        return _declared(node.args.get("to"))
    if isinstance(node, _FIRST_ARGUMENT):
        return infer_type(node.this, columns)
    if isinstance(node, exp.Predicate | exp.Connector | exp.Not):
        return "boolean"
    rule = _RULES.get(type(node))
    return None if rule is None else rule(node, columns)


def _declared(data_type: exp.Expr | None) -> str | None:
    """The canonical type a CAST names, without running the SQL generator."""
    if not isinstance(data_type, exp.DataType):
        return None
    params = data_type.expressions
    name = data_type.this.value if isinstance(data_type.this, enum.Enum) else ""
    if not params:
        return _canonical(name)
    if name == "DECIMAL" and len(params) <= 2:
        return _canonical(f"decimal({','.join(param.name for param in params)})")
    return _canonical(data_type.sql(dialect="duckdb"))


@functools.lru_cache(maxsize=256)
def _canonical(spelling: str) -> str | None:
    try:
        return canonical_type(spelling)
    except ValueError:
        return None


def _literal(node: exp.Expr, columns: ColumnTypes) -> str | None:
    if not isinstance(node, exp.Literal):
        return None
    if node.is_string:
        return "string"
    text = node.this
    if text.isdigit():
        # DuckDB types integer literals as INTEGER until they overflow it.
        return "int32" if int(text) < 2**31 else "int64"
    return None


def _sum(node: exp.Expr, columns: ColumnTypes) -> str | None:
    argument = infer_type(node.this, columns)
    if argument is None:
        return None
    if argument in _INTEGERS:
        return "decimal(38,0)"
    if argument.startswith("float"):
        return "float64"
    if argument.startswith("decimal("):
        return f"decimal(38,{argument[:-1].split(',')[1]})"
    return None


def _case(node: exp.Expr, columns: ColumnTypes) -> str | None:
    for branch in node.args.get("ifs") or []:
        found = infer_type(branch.args["true"], columns)
        if found is not None:
            return found
    default = node.args.get("default")
    return None if default is None else infer_type(default, columns)


def _if(node: exp.Expr, columns: ColumnTypes) -> str | None:
    return infer_type(node.args["true"], columns)


def _arithmetic(node: exp.Expr, columns: ColumnTypes) -> str | None:
    left = infer_type(node.this, columns)
    right = infer_type(node.expression, columns)
    if left == right:
        return left
    if "float64" in (left, right):
        return "float64"
    return None


_RULES: dict[type[exp.Expr], Callable[[exp.Expr, ColumnTypes], str | None]] = {
    exp.Literal: _literal,
    exp.Sum: _sum,
    exp.Case: _case,
    exp.If: _if,
    exp.Add: _arithmetic,
    exp.Sub: _arithmetic,
    exp.Mul: _arithmetic,
}
