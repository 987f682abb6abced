"""Arrow tables from Python rows and columns, following SPEC §4.5.

Inference per column: `bool` -> boolean, `int` -> int64 (float64 when mixed
with `float`), `str` -> string, aware / naive `datetime` -> timestamp_tz (UTC)
/ timestamp, `date`, `time`, `Decimal` -> decimal(38, s), `bytes` -> binary,
`dict` -> struct, homogeneous `list` -> list<T>. Irreconcilable mixes become
JSON text (with a warning); a column of only None takes its declared type,
else string (with a warning). Declared types (`hints`) win over inference.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from interlace.errors import SchemaInferenceError
from interlace.types import arrow_type

__all__ = ["columns_table", "rows_table"]

logger = logging.getLogger(__name__)

_SCALARS: dict[str, pa.DataType] = {
    "bool": pa.bool_(),
    "int": pa.int64(),
    "float": pa.float64(),
    "str": pa.string(),
    "datetime_tz": pa.timestamp("us", tz="UTC"),
    "datetime": pa.timestamp("us"),
    "date": pa.date32(),
    "time": pa.time64("us"),
    "bytes": pa.binary(),
}
_CONVERSION_ERRORS = (pa.ArrowException, OverflowError, TypeError, ValueError)


class _Mixed(Exception):
    """The values of a column cannot share one Arrow type."""


def rows_table(
    rows: Sequence[Mapping[str, Any]], *, model: str, hints: Mapping[str, str]
) -> pa.Table:
    """One row per mapping; columns in first-seen key order, gaps are NULL."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns = {name: [row.get(name) for row in rows] for name in names}
    return columns_table(columns, model=model, hints=hints)


def columns_table(
    columns: Mapping[str, Sequence[Any]], *, model: str, hints: Mapping[str, str]
) -> pa.Table:
    """One Arrow column per entry; `hints` maps names to canonical types."""
    arrays = [
        _column_array(str(name), list(values), hints.get(str(name)), model)
        for name, values in columns.items()
    ]
    return pa.Table.from_arrays(arrays, names=[str(name) for name in columns])


def _column_array(
    name: str, values: list[Any], declared: str | None, model: str
) -> pa.Array:
    if declared is not None:
        return _declared_array(name, values, declared, model)
    try:
        inferred = _infer(values)
    except _Mixed as exc:
        logger.warning(
            "Model '%s': column `%s` mixes %s; storing it as json", model, name, exc
        )
        return pa.array([_json_text(value) for value in values], pa.json_())
    if inferred is None:
        logger.warning(
            "Model '%s': column `%s` holds only None and declares no type; "
            "storing it as string",
            model,
            name,
        )
        return pa.nulls(len(values), pa.string())
    try:
        return pa.array(values, type=inferred)
    except _CONVERSION_ERRORS as exc:
        raise SchemaInferenceError(
            f"Model '{model}': column `{name}` cannot be converted to Arrow: {exc}",
            model=model,
        ) from exc


def _declared_array(
    name: str, values: list[Any], declared: str, model: str
) -> pa.Array:
    if declared == "json":
        texts = [
            v if v is None or isinstance(v, str) else _json_text(v) for v in values
        ]
        return pa.array(texts, pa.json_())
    target = arrow_type(declared)
    try:
        return pa.array(values, type=target)
    except _CONVERSION_ERRORS:
        pass
    try:
        inferred = _infer(values)
        array = pa.array(values, type=inferred or target)
        return array.cast(target)
    except (_Mixed, *_CONVERSION_ERRORS) as exc:
        raise SchemaInferenceError(
            f"Model '{model}': column `{name}` cannot be cast to its declared "
            f"type `{declared}`: {exc}",
            model=model,
        ) from exc


def _infer(values: Sequence[Any]) -> pa.DataType | None:
    """The Arrow type shared by `values`; None when all are None."""
    present = [value for value in values if value is not None]
    if not present:
        return None
    kinds = {_kind(value) for value in present}
    if len(kinds) == 1:
        return _homogeneous(kinds.pop(), present)
    if kinds == {"int", "float"}:
        return pa.float64()
    raise _Mixed(" and ".join(sorted(kinds)))


def _homogeneous(kind: str, present: list[Any]) -> pa.DataType:
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "decimal":
        return pa.decimal128(38, max(_scale(value) for value in present))
    if kind == "dict":
        return _struct_type(present)
    if kind == "list":
        items = [item for value in present for item in value]
        return pa.list_(_infer(items) or pa.string())
    raise _Mixed(f"unsupported values of type {kind}")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dt.datetime):
        return "datetime_tz" if value.tzinfo is not None else "datetime"
    simple: list[tuple[type | tuple[type, ...], str]] = [
        (int, "int"),
        (float, "float"),
        (str, "str"),
        (dt.date, "date"),
        (dt.time, "time"),
        (decimal.Decimal, "decimal"),
        ((bytes, bytearray, memoryview), "bytes"),
        (Mapping, "dict"),
        ((list, tuple), "list"),
    ]
    for types, kind in simple:
        if isinstance(value, types):
            return kind
    return type(value).__name__


def _scale(value: decimal.Decimal) -> int:
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        raise _Mixed("non-finite decimals")
    return min(max(-exponent, 0), 38)


def _struct_type(present: list[Mapping[Any, Any]]) -> pa.DataType:
    keys: dict[Any, None] = {}
    for value in present:
        keys.update(dict.fromkeys(value))
    if not keys or not all(isinstance(key, str) for key in keys):
        raise _Mixed("dicts without string keys")
    members = [
        pa.field(key, _infer([value.get(key) for value in present]) or pa.string())
        for key in keys
    ]
    return pa.struct(members)


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return str(value)
