"""How a result's columns differ from its target's, and which changes widen.

Both sides are (name, canonical type) pairs (`interlace.types`), so a
DuckDB `INTEGER` and a declared `int32` compare equal. Names compare
case-insensitively, as DuckDB resolves them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Sequence

import msgspec

__all__ = [
    "ChangeKind",
    "ColumnChange",
    "compare_columns",
    "describe_change",
    "is_safe_widening",
]

_SIGNED = ("int8", "int16", "int32", "int64")
_INTEGERS = frozenset(
    (*_SIGNED, "uint8", "uint16", "uint32", "uint64"),
)
_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")


class ChangeKind(enum.StrEnum):
    ADDED = "added"
    """The result has a column the target lacks."""
    REMOVED = "removed"
    """The target has a column the result lacks."""
    TYPE_CHANGED = "type_changed"
    """Both have the column, with different types."""


class ColumnChange(msgspec.Struct, frozen=True, kw_only=True):
    """One column that differs between a target and a new result."""

    name: str
    """The result's spelling, or the target's for a removed column."""
    kind: ChangeKind
    old_type: str | None = None
    new_type: str | None = None


def compare_columns(
    target: Sequence[tuple[str, str]],
    result: Sequence[tuple[str, str]],
    *,
    managed: Collection[str] = (),
) -> list[ColumnChange]:
    """Changes from `target` to `result`: additions and type changes in
    result order, then removals in target order.

    `managed` names target columns a strategy maintains itself (the
    `scd_type_2` history columns); they are never reported as removed.
    """
    existing = {name.lower(): kind for name, kind in target}
    produced = {name.lower() for name, _ in result}
    skipped = {name.lower() for name in managed}
    changes = []
    for name, kind in result:
        old = existing.get(name.lower())
        if old is None:
            changes.append(
                ColumnChange(name=name, kind=ChangeKind.ADDED, new_type=kind)
            )
        elif old != kind:
            changes.append(
                ColumnChange(
                    name=name, kind=ChangeKind.TYPE_CHANGED, old_type=old, new_type=kind
                )
            )
    changes += [
        ColumnChange(name=name, kind=ChangeKind.REMOVED, old_type=kind)
        for name, kind in target
        if name.lower() not in produced and name.lower() not in skipped
    ]
    return changes


def is_safe_widening(old: str, new: str) -> bool:
    """True when `old` -> `new` is one of the safe widenings of SPEC §8.1.

    They are int8 -> int16 -> int32 -> int64, float32 -> float64, any
    integer -> float64 (integers beyond 2**53 round) and decimal(p,s) ->
    decimal(p',s) with p' > p: DuckDB converts existing values in place
    and no conversion can fail.
    """
    if old in _SIGNED and new in _SIGNED:
        return _SIGNED.index(old) < _SIGNED.index(new)
    if new == "float64":
        return old == "float32" or old in _INTEGERS
    old_decimal, new_decimal = _DECIMAL.match(old), _DECIMAL.match(new)
    if old_decimal and new_decimal:
        same_scale = old_decimal.group(2) == new_decimal.group(2)
        return same_scale and int(new_decimal.group(1)) > int(old_decimal.group(1))
    return False


def describe_change(change: ColumnChange) -> str:
    """`added column `coupon` (string)`, as error messages list changes."""
    if change.kind is ChangeKind.ADDED:
        return f"added column `{change.name}` ({change.new_type})"
    if change.kind is ChangeKind.REMOVED:
        return f"removed column `{change.name}` ({change.old_type})"
    return f"column `{change.name}` changed type {change.old_type} -> {change.new_type}"
