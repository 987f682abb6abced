"""How state records map to the rows of SQLite tables.

Every field of a record is a column of the same name. Datetimes are stored as
ISO-8601 UTC text with microseconds and a `Z` suffix: fixed width, so text
order is time order and range filters can use plain indexes. Dicts and lists
are stored as JSON text encoded by msgspec.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

import msgspec

from interlace.state.records import (
    EventRecord,
    IdempotencyRecord,
    ModelStateRecord,
    RunRecord,
    TaskLogRecord,
    TaskRecord,
)

__all__ = [
    "EVENTS",
    "IDEMPOTENCY_KEYS",
    "MODEL_STATE",
    "RUNS",
    "TASKS",
    "TASK_LOGS",
    "ColumnMap",
    "decode_timestamp",
    "encode_timestamp",
]

R = TypeVar("R", bound=msgspec.Struct)

_json_encoder = msgspec.json.Encoder()
_json_decoder = msgspec.json.Decoder()


def encode_timestamp(value: dt.datetime) -> str:
    """Sortable UTC text, e.g. `2026-03-01T10:05:00.113000Z`.

    msgspec renders datetimes about thirty times faster than `isoformat`,
    which matters for batches of thousands of writes; it omits a zero
    fraction, which is put back so that every value has the same width.
    """
    if value.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {value!r}")
    text = _json_encoder.encode(value.astimezone(dt.UTC))[1:-1].decode()
    return text if value.microsecond else text[:-1] + ".000000Z"


def decode_timestamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class ColumnMap(Generic[R]):
    """The columns of one table and the conversions of one record type."""

    def __init__(self, table: str, record_type: type[R], key: str) -> None:
        self.table = table
        self.record_type = record_type
        self.key = key
        info = msgspec.inspect.type_info(record_type)
        if not isinstance(info, msgspec.inspect.StructType):
            raise TypeError(f"expected a msgspec Struct type, got {record_type!r}")
        self.fields: tuple[str, ...] = tuple(f.name for f in info.fields)
        self.select_list = ", ".join(f'"{name}"' for name in self.fields)
        self._accepts = {f.name: _accepted_types(f.type) for f in info.fields}
        self._timestamps = frozenset(
            name for name, types in self._accepts.items() if dt.datetime in types
        )
        self._json = frozenset(
            name
            for name, types in self._accepts.items()
            if dict in types or list in types
        )
        # Updates of one shape repeat by the thousand; validate each once.
        self._shapes: dict[tuple[str, ...], tuple[str, ...]] = {}

    def to_row(self, record: R) -> tuple[Any, ...]:
        values = msgspec.structs.astuple(record)
        return tuple(
            self._encode(name, value)
            for name, value in zip(self.fields, values, strict=True)
        )

    def from_row(self, row: Sequence[Any]) -> R:
        values = {
            name: self._decode(name, value)
            for name, value in zip(self.fields, row, strict=True)
        }
        return self.record_type(**values)

    def from_rows(self, rows: Iterable[Sequence[Any]]) -> list[R]:
        return [self.from_row(row) for row in rows]

    def check_changes(self, write: str, changes: dict[str, Any]) -> tuple[str, ...]:
        """Validate the field names of an update; returns them in table order."""
        names = tuple(changes)
        shape = self._shapes.get(names)
        if shape is None:
            shape = self._shapes[names] = self._checked_shape(write, names)
        return shape

    def encode_change(self, write: str, name: str, value: Any) -> Any:
        """Type-check one updated value against the record field and encode it."""
        accepted = self._accepts[name]
        # `bool` is an `int` subclass; a flag in a count column is a bug.
        if not isinstance(value, accepted) or (
            isinstance(value, bool) and bool not in accepted
        ):
            self._raise_type_error(write, name, value)
        return self._encode(name, value)

    def _checked_shape(self, write: str, names: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(names) - set(self.fields))
        if unknown:
            raise ValueError(
                f"`{write}` names unknown `{self.record_type.__name__}` fields "
                f"{unknown}; expected some of {list(self.fields)}"
            )
        if self.key in names:
            raise ValueError(f"`{write}` cannot change the key field `{self.key}`")
        return tuple(name for name in self.fields if name in names)

    def _raise_type_error(self, write: str, name: str, value: Any) -> None:
        expected = " | ".join(
            f"`{t.__name__}`" if t is not type(None) else "`None`"
            for t in self._accepts[name]
        )
        raise ValueError(
            f"`{write}` field `{name}` of `{self.record_type.__name__}`: "
            f"expected {expected}, found `{type(value).__name__}` ({value!r})"
        )

    def _encode(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        if name in self._timestamps:
            return encode_timestamp(value)
        if name in self._json:
            return _json_encoder.encode(value).decode()
        return value

    def _decode(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        if name in self._timestamps:
            return decode_timestamp(value)
        if name in self._json:
            return _json_decoder.decode(value)
        return value


_PYTHON_TYPES: dict[type[msgspec.inspect.Type], tuple[type, ...]] = {
    msgspec.inspect.StrType: (str,),
    msgspec.inspect.IntType: (int,),
    msgspec.inspect.FloatType: (float, int),
    msgspec.inspect.BoolType: (bool,),
    msgspec.inspect.DateTimeType: (dt.datetime,),
    msgspec.inspect.DictType: (dict,),
    msgspec.inspect.ListType: (list,),
    msgspec.inspect.NoneType: (type(None),),
}


def _accepted_types(field_type: msgspec.inspect.Type) -> tuple[type, ...]:
    """The Python types a record field accepts, for cheap update checks."""
    members = (
        field_type.types
        if isinstance(field_type, msgspec.inspect.UnionType)
        else (field_type,)
    )
    accepted: list[type] = []
    for member in members:
        if type(member) not in _PYTHON_TYPES:
            raise TypeError(f"no SQLite column mapping for record field type {member}")
        accepted.extend(_PYTHON_TYPES[type(member)])
    return tuple(accepted)


RUNS = ColumnMap("runs", RunRecord, "run_id")
TASKS = ColumnMap("tasks", TaskRecord, "task_id")
MODEL_STATE = ColumnMap("model_state", ModelStateRecord, "model_name")
EVENTS = ColumnMap("events", EventRecord, "id")
TASK_LOGS = ColumnMap("task_logs", TaskLogRecord, "line")
IDEMPOTENCY_KEYS = ColumnMap("idempotency_keys", IdempotencyRecord, "key")
