"""The shape of one output expression of a SELECT.

Tracing needs, per output expression, the columns it reads, the subqueries
it contains and whether it aggregates or is a window function. One walk over
the expression collects all of it; the walk stops at subqueries, which are
traced as queries of their own.
"""

from __future__ import annotations

import msgspec
from sqlglot import exp

from interlace.lineage.edges import TransformationType

__all__ = ["Shape", "shape_of", "step_kind", "unwrap"]

_NO_NAMES: frozenset[str] = frozenset()


class Shape(msgspec.Struct, frozen=True):
    columns: list[exp.Column]
    """Column references in reading order (lambda parameters excluded)."""
    subqueries: list[exp.Query]
    window: bool
    aggregate: bool
    """An aggregate function outside any window."""


def unwrap(node: exp.Expr) -> exp.Expr:
    """The expression inside any parentheses and alias."""
    while isinstance(node, exp.Paren | exp.Alias):
        node = node.this
    return node


def shape_of(node: exp.Expr) -> Shape:
    """Walk `node` once, depth first and left to right."""
    columns: list[exp.Column] = []
    subqueries: list[exp.Query] = []
    window = aggregate = False
    stack: list[tuple[exp.Expr, bool, frozenset[str]]] = [(node, False, _NO_NAMES)]
    while stack:
        current, in_window, bound = stack.pop()
        if isinstance(current, exp.Column):
            if _is_reference(current, bound):
                columns.append(current)
            continue
        if isinstance(current, exp.Query):
            subqueries.append(current)
            continue
        if isinstance(current, exp.Window):
            window = in_window = True
        elif isinstance(current, exp.AggFunc):
            aggregate = aggregate or not in_window
        elif isinstance(current, exp.Lambda):
            bound = bound | {param.name.lower() for param in current.expressions}
        elif isinstance(current, exp.Comprehension):
            bound = bound | {current.expression.name.lower()}
        _push_children(stack, current, in_window, bound)
    return Shape(columns, subqueries, window, aggregate)


def _is_reference(column: exp.Column, bound: frozenset[str]) -> bool:
    if isinstance(column.this, exp.Star):
        return False
    return not (bound and not column.table and column.name.lower() in bound)


def _push_children(
    stack: list[tuple[exp.Expr, bool, frozenset[str]]],
    node: exp.Expr,
    in_window: bool,
    bound: frozenset[str],
) -> None:
    # Children are pushed last-first so that they pop in reading order.
    for value in reversed(node.args.values()):
        if isinstance(value, exp.Expr):
            stack.append((value, in_window, bound))
        elif isinstance(value, list):
            for item in reversed(value):
                if isinstance(item, exp.Expr):
                    stack.append((item, in_window, bound))


def step_kind(node: exp.Expr, shape: Shape) -> TransformationType | None:
    """How one output expression transforms the columns it reads.

    None for a plain column reference: whether it is `direct`, `renamed` or
    `joined` depends on names and joins the caller knows.
    """
    base = unwrap(node)
    if isinstance(base, exp.Column):
        return None
    if isinstance(base, exp.Cast) and isinstance(unwrap(base.this), exp.Column):
        return TransformationType.CAST
    if shape.window:
        return TransformationType.WINDOW
    if shape.aggregate:
        return TransformationType.AGGREGATED
    return TransformationType.DERIVED
