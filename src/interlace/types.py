"""The column type vocabulary shared by `fields`, schema history and the API.

Canonical spellings: `boolean`, `int8`..`int64`, `uint8`..`uint64`, `float32`,
`float64`, `decimal(p,s)`, `string`, `binary`, `date`, `time`, `timestamp`,
`timestamp_tz`, `interval`, `json`, `list<T>`, `struct<a: T, b: U>`. Python
types and DuckDB spellings are accepted on input and normalised.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "arrow_type",
    "canonical_from_arrow",
    "canonical_from_duckdb",
    "canonical_type",
    "duckdb_type",
]

_ALIASES = {
    "bool": "boolean",
    "boolean": "boolean",
    "logical": "boolean",
    "tinyint": "int8",
    "int1": "int8",
    "smallint": "int16",
    "int2": "int16",
    "short": "int16",
    "integer": "int32",
    "int": "int32",
    "int4": "int32",
    "signed": "int32",
    "bigint": "int64",
    "long": "int64",
    "utinyint": "uint8",
    "usmallint": "uint16",
    "uinteger": "uint32",
    "ubigint": "uint64",
    "real": "float32",
    "float": "float32",
    "float4": "float32",
    "double": "float64",
    "float8": "float64",
    "double precision": "float64",
    "varchar": "string",
    "text": "string",
    "str": "string",
    "char": "string",
    "bpchar": "string",
    "utf8": "string",
    "large_string": "string",
    "blob": "binary",
    "bytea": "binary",
    "bytes": "binary",
    "varbinary": "binary",
    "timestamp with time zone": "timestamp_tz",
    "timestamptz": "timestamp_tz",
    "datetime": "timestamp",
    "timestamp without time zone": "timestamp",
    "time without time zone": "time",
    "jsonb": "json",
    "numeric": "decimal(18,3)",
    "decimal": "decimal(18,3)",
}
_SIMPLE = {
    "boolean", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
    "uint64", "float32", "float64", "string", "binary", "date", "time",
    "timestamp", "timestamp_tz", "interval", "json",
}  # fmt: skip
_PYTHON_TYPES: dict[type, str] = {
    bool: "boolean",
    int: "int64",
    float: "float64",
    str: "string",
    bytes: "binary",
    dt.datetime: "timestamp",
    dt.date: "date",
    dt.time: "time",
    dt.timedelta: "interval",
    decimal.Decimal: "decimal(38,9)",
    dict: "json",
}
_DECIMAL = re.compile(r"^(?:decimal|numeric)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$")
_DUCKDB_SPELLING = {
    "boolean": "BOOLEAN",
    "int8": "TINYINT",
    "int16": "SMALLINT",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "uint8": "UTINYINT",
    "uint16": "USMALLINT",
    "uint32": "UINTEGER",
    "uint64": "UBIGINT",
    "float32": "FLOAT",
    "float64": "DOUBLE",
    "string": "VARCHAR",
    "binary": "BLOB",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMP",
    "timestamp_tz": "TIMESTAMPTZ",
    "interval": "INTERVAL",
    "json": "JSON",
}


def canonical_type(spec: str | type) -> str:
    """Normalise a type spelling to the canonical vocabulary.

    Raises `ValueError` naming the spelling when it is not understood.
    """
    if isinstance(spec, type):
        if spec in _PYTHON_TYPES:
            return _PYTHON_TYPES[spec]
        raise ValueError(f"unsupported Python type `{spec.__name__}`")
    text = " ".join(spec.strip().lower().split())
    if not text:
        raise ValueError("empty type")
    return _canonical_text(text, spec)


def _canonical_text(text: str, original: str) -> str:
    if text in _SIMPLE:
        return text
    if text in _ALIASES:
        return _ALIASES[text]
    decimal_match = _DECIMAL.match(text)
    if decimal_match:
        precision = int(decimal_match.group(1))
        scale = int(decimal_match.group(2) or 0)
        if not 1 <= precision <= 38 or scale > precision:
            raise ValueError(f"invalid decimal precision or scale in `{original}`")
        return f"decimal({precision},{scale})"
    if text.startswith("list<") and text.endswith(">"):
        return f"list<{_canonical_text(text[5:-1].strip(), original)}>"
    if text.endswith("[]"):
        return f"list<{_canonical_text(text[:-2].strip(), original)}>"
    if text.startswith(("struct<", "struct(")) and text[-1] in ">)":
        return _canonical_struct(text[7:-1], original)
    if text.startswith("varchar(") or text.startswith("char("):
        return "string"
    raise ValueError(f"unknown type `{original}`")


def _canonical_struct(body: str, original: str) -> str:
    members = []
    for part in _split_top_level(body):
        name, sep, member_type = part.replace(":", " ", 1).strip().partition(" ")
        if not sep or not name:
            raise ValueError(f"invalid struct member `{part.strip()}` in `{original}`")
        name = name.strip('"')
        members.append(f"{name}: {_canonical_text(member_type.strip(), original)}")
    return "struct<" + ", ".join(members) + ">"


def _split_top_level(body: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in body:
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if "".join(current).strip():
        parts.append("".join(current))
    return parts


def duckdb_type(canonical: str) -> str:
    """The DuckDB spelling of a canonical type."""
    if canonical in _DUCKDB_SPELLING:
        return _DUCKDB_SPELLING[canonical]
    if canonical.startswith("decimal("):
        return canonical.upper()
    if canonical.startswith("list<"):
        return f"{duckdb_type(canonical[5:-1])}[]"
    if canonical.startswith("struct<"):
        members = []
        for part in _split_top_level(canonical[7:-1]):
            name, _, member_type = part.partition(":")
            members.append(f'"{name.strip()}" {duckdb_type(member_type.strip())}')
        return "STRUCT(" + ", ".join(members) + ")"
    raise ValueError(f"unknown canonical type `{canonical}`")


def canonical_from_duckdb(spelling: str) -> str:
    """The canonical type of a DuckDB column type (as DESCRIBE reports it)."""
    text = " ".join(spelling.strip().lower().split())
    if text.startswith("struct("):
        return _canonical_struct(text[7:-1], spelling)
    if text.startswith("map("):
        return "json"
    if text.startswith("enum("):
        return "string"
    if "[" in text and text.endswith("]") and not text.endswith("[]"):
        # Fixed-size arrays (`INTEGER[3]`) read as lists.
        text = text[: text.rindex("[")] + "[]"
    try:
        return _canonical_text(text, spelling)
    except ValueError:
        return "json" if text in {"union", "variant"} else "string"


def arrow_type(canonical: str) -> pa.DataType:
    """The pyarrow type for a canonical type."""
    import pyarrow as pa

    simple = {
        "boolean": pa.bool_(),
        "int8": pa.int8(),
        "int16": pa.int16(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "uint8": pa.uint8(),
        "uint16": pa.uint16(),
        "uint32": pa.uint32(),
        "uint64": pa.uint64(),
        "float32": pa.float32(),
        "float64": pa.float64(),
        "string": pa.string(),
        "json": pa.string(),
        "binary": pa.binary(),
        "date": pa.date32(),
        "time": pa.time64("us"),
        "timestamp": pa.timestamp("us"),
        "timestamp_tz": pa.timestamp("us", tz="UTC"),
        "interval": pa.month_day_nano_interval(),
    }
    if canonical in simple:
        return simple[canonical]
    if canonical.startswith("decimal("):
        precision, scale = canonical[8:-1].split(",")
        return pa.decimal128(int(precision), int(scale))
    if canonical.startswith("list<"):
        return pa.list_(arrow_type(canonical[5:-1]))
    if canonical.startswith("struct<"):
        members = []
        for part in _split_top_level(canonical[7:-1]):
            name, _, member_type = part.partition(":")
            members.append(pa.field(name.strip(), arrow_type(member_type.strip())))
        return pa.struct(members)
    raise ValueError(f"unknown canonical type `{canonical}`")


def canonical_from_arrow(data_type: pa.DataType) -> str:
    """The canonical type of a pyarrow type."""
    import pyarrow as pa
    import pyarrow.types as t

    if t.is_dictionary(data_type):
        return canonical_from_arrow(data_type.value_type)
    checks = [
        (t.is_boolean, "boolean"),
        (t.is_int8, "int8"),
        (t.is_int16, "int16"),
        (t.is_int32, "int32"),
        (t.is_int64, "int64"),
        (t.is_uint8, "uint8"),
        (t.is_uint16, "uint16"),
        (t.is_uint32, "uint32"),
        (t.is_uint64, "uint64"),
        (t.is_float16, "float32"),
        (t.is_float32, "float32"),
        (t.is_float64, "float64"),
        (t.is_string, "string"),
        (t.is_large_string, "string"),
        (t.is_binary, "binary"),
        (t.is_large_binary, "binary"),
        (t.is_date, "date"),
        (t.is_time, "time"),
        (t.is_interval, "interval"),
        (t.is_duration, "interval"),
        (t.is_null, "string"),
    ]
    for check, name in checks:
        if check(data_type):
            return name
    if t.is_timestamp(data_type):
        return "timestamp_tz" if data_type.tz else "timestamp"
    if t.is_decimal(data_type):
        return f"decimal({data_type.precision},{data_type.scale})"
    if t.is_list(data_type) or t.is_large_list(data_type):
        return f"list<{canonical_from_arrow(data_type.value_type)}>"
    if t.is_struct(data_type):
        members = [
            f"{field.name}: {canonical_from_arrow(field.type)}" for field in data_type
        ]
        return "struct<" + ", ".join(members) + ">"
    if isinstance(data_type, pa.ExtensionType):
        return canonical_from_arrow(data_type.storage_type)
    return "json"
