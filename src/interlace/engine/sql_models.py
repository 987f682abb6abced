"""Parsing `.sql` model files: headers, options and queries (SPEC 4.6).

A header is a run of `--` comment lines containing a `-- @model(...)` or
`-- @name: ...` line; free comments may surround the directives. Each query
runs from its header to the next header or the end of the file. A file
without any header is one model named after the file's stem.

`-- @model(...)` arguments are read with `ast` and converted literal by
literal, so nothing in a header is ever executed. The call may continue on
the following comment lines while its parentheses are open.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from pathlib import Path
from typing import Any

import msgspec

from interlace.engine.definition import ModelType
from interlace.engine.options import MODEL_OPTIONS, unknown_option_message
from interlace.errors import DiscoveryError

__all__ = ["SqlModelSpec", "parse_sql_file", "parse_sql_text"]

logger = logging.getLogger(__name__)

_DIRECTIVE = re.compile(r"^\s*--\s*@(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<rest>.*)$")
_COMMA_SPLIT = frozenset({"dependencies", "tags", "primary_key"})
_JSON_KEYS = frozenset(
    {
        "schedule", "retry", "retry_policy", "fields", "checks", "scd2_config",
        "column_mapping", "column_lineage", "incremental",
    }
)  # fmt: skip
_NAMED_CONSTANTS = {
    "true": True, "false": False, "null": None,
    "True": True, "False": False, "None": None,
}  # fmt: skip


class SqlModelSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One model found in a SQL file, before defaults are applied."""

    options: dict[str, Any]
    """Header options, converted but not yet validated."""
    sql: str
    """The query, without its header and trailing semicolons."""
    line: int
    """Line of the header's `@model(` or `@name:` directive (1 without header)."""
    sql_line: int
    """Line where the query starts, to place SQL parse errors."""


class _Run(msgspec.Struct, frozen=True):
    """A run of comment lines, as 0-based indexes `[start, end)`."""

    start: int
    end: int


def parse_sql_file(path: Path) -> list[SqlModelSpec]:
    """Every model of one `.sql` file, in file order."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DiscoveryError(f"cannot read SQL model: {exc}", path=path) from exc
    return parse_sql_text(text, path)


def parse_sql_text(text: str, path: Path) -> list[SqlModelSpec]:
    """Like `parse_sql_file` for text already read; `path` is for errors."""
    lines = text.splitlines()
    runs = _comment_runs(lines)
    headers = [run for run in runs if _is_header(lines, run)]
    _warn_stray_directives(lines, [run for run in runs if run not in headers], path)
    if not headers:
        return [_model(lines, None, 0, len(lines), path)]
    _reject_leading_sql(lines, headers[0].start, path)
    ends = [header.start for header in headers[1:]] + [len(lines)]
    return [
        _model(lines, header, header.end, end, path)
        for header, end in zip(headers, ends, strict=True)
    ]


def _comment_runs(lines: list[str]) -> list[_Run]:
    runs, start = [], None
    for index, line in enumerate([*lines, ""]):
        is_comment = line.lstrip().startswith("--")
        if is_comment and start is None:
            start = index
        elif not is_comment and start is not None:
            runs.append(_Run(start, index))
            start = None
    return runs


def _is_header(lines: list[str], run: _Run) -> bool:
    for line in lines[run.start : run.end]:
        match = _DIRECTIVE.match(line)
        if match is None:
            continue
        key, rest = match.group("key"), match.group("rest")
        if (key == "model" and rest.startswith("(")) or (
            key == "name" and rest.startswith(":")
        ):
            return True
    return False


def _warn_stray_directives(lines: list[str], runs: list[_Run], path: Path) -> None:
    """Directives outside a header are comments; say so rather than ignore them."""
    for run in runs:
        for index in range(run.start, run.end):
            match = _DIRECTIVE.match(lines[index])
            if match and match.group("key") in MODEL_OPTIONS:
                logger.warning(
                    "%s:%s: `@%s` is outside a model header and is ignored; a "
                    "header needs a `-- @model(...)` or `-- @name:` line",
                    path,
                    index + 1,
                    match.group("key"),
                )


def _reject_leading_sql(lines: list[str], first_header: int, path: Path) -> None:
    for index in range(first_header):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith("--"):
            raise DiscoveryError(
                "SQL before the first model header belongs to no model",
                path=path,
                line=index + 1,
            )


def _model(
    lines: list[str], header: _Run | None, start: int, end: int, path: Path
) -> SqlModelSpec:
    options, line = ({}, 1) if header is None else _header_options(lines, header, path)
    body = lines[start:end]
    code_lines = [
        offset
        for offset, text in enumerate(body)
        if text.strip() and not text.lstrip().startswith("--")
    ]
    if not code_lines:
        raise DiscoveryError("the model has an empty query", path=path, line=line)
    # Trailing comment lines are notes before the next header, not query.
    sql = "\n".join(body[: code_lines[-1] + 1]).strip()
    while sql.endswith(";"):
        sql = sql[:-1].rstrip()
    first = start + 1 + next(offset for offset, text in enumerate(body) if text.strip())
    return SqlModelSpec(options=options, sql=sql, line=line, sql_line=first)


def _header_options(
    lines: list[str], run: _Run, path: Path
) -> tuple[dict[str, Any], int]:
    options: dict[str, Any] = {}
    model_line = run.start + 1
    index = run.start
    while index < run.end:
        match = _DIRECTIVE.match(lines[index])
        line = index + 1
        index += 1
        if match is None:
            continue
        key, rest = match.group("key"), match.group("rest")
        if key == "model" and rest.startswith("("):
            model_line = line
            call, index = _call_text(lines, rest, index, run.end)
            found = _call_options(call, path, line)
        elif rest.startswith(":"):
            model_line = line if key == "name" else model_line
            found = {key: _convert(key, rest[1:].strip(), path, line)}
        else:
            continue
        _merge(options, found, path, line)
    return options, model_line


def _call_text(lines: list[str], rest: str, index: int, end: int) -> tuple[str, int]:
    """The `(...)` of `@model`, continued over comment lines while unbalanced."""
    text = rest
    while not _parses(text) and index < end:
        text += "\n" + lines[index].lstrip()[2:]
        index += 1
    return text, index


def _parses(text: str) -> bool:
    try:
        ast.parse("_" + text.strip(), mode="eval")
    except SyntaxError:
        return False
    return True


def _call_options(text: str, path: Path, line: int) -> dict[str, Any]:
    try:
        tree = ast.parse("_" + text.strip(), mode="eval")
    except SyntaxError as exc:
        message = f"invalid `@model(...)` header: {exc.msg}"
        raise DiscoveryError(message, path=path, line=line) from None
    call = tree.body
    if not isinstance(call, ast.Call) or call.args:
        raise DiscoveryError(
            "`@model(...)` takes keyword arguments only", path=path, line=line
        )
    options = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            raise DiscoveryError(
                "`**` is not allowed in `@model(...)`", path=path, line=line
            )
        _check_key(keyword.arg, path, line)
        try:
            options[keyword.arg] = _literal(keyword.value)
        except ValueError as exc:
            message = f"`{keyword.arg}`: {exc}"
            raise DiscoveryError(message, path=path, line=line) from None
    return options


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant) and not isinstance(node.value, bytes):
        return node.value
    if isinstance(node, ast.Name) and node.id in _NAMED_CONSTANTS:
        return _NAMED_CONSTANTS[node.id]
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(item) for item in node.elts]
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {
            _literal(key): _literal(value)
            for key, value in zip(node.keys, node.values, strict=True)
            if key is not None
        }
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _literal(node.operand)
        if isinstance(operand, int | float) and not isinstance(operand, bool):
            return -operand if isinstance(node.op, ast.USub) else operand
    raise ValueError(f"expected a literal value, got `{ast.unparse(node)}`")


def _check_key(key: str, path: Path, line: int) -> None:
    if key not in MODEL_OPTIONS:
        message = unknown_option_message(key, ModelType.SQL)
        raise DiscoveryError(message, path=path, line=line)


def _convert(key: str, value: str, path: Path, line: int) -> Any:
    """`-- @key: value` text to a Python value, by the rules of SPEC 4.6."""
    _check_key(key, path, line)
    if key in _COMMA_SPLIT:
        return [part.strip() for part in value.split(",") if part.strip()]
    if key in _JSON_KEYS:
        return _json_value(key, value, path, line)
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _json_value(key: str, value: str, path: Path, line: int) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        if key == "fields" and not value.lstrip().startswith("{"):
            return _field_pairs(value, path, line)
        message = f"`{key}`: expected JSON, got {value!r} ({exc.msg})"
        raise DiscoveryError(message, path=path, line=line) from None


def _field_pairs(value: str, path: Path, line: int) -> dict[str, str]:
    """`id: int64, amount: decimal(10,2)`; commas inside brackets are kept."""
    fields = {}
    for part in _split_top_level(value):
        column, sep, type_name = part.partition(":")
        if not sep or not column.strip() or not type_name.strip():
            message = f"`fields`: expected `column: type`, got {part.strip()!r}"
            raise DiscoveryError(message, path=path, line=line)
        fields[column.strip()] = type_name.strip()
    return fields


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char in "(<") - (char in ")>")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [part for part in [*parts, current] if part.strip()]


def _merge(
    options: dict[str, Any], found: dict[str, Any], path: Path, line: int
) -> None:
    for key, value in found.items():
        if key in options:
            raise DiscoveryError(
                f"option `{key}` is given twice in one header", path=path, line=line
            )
        options[key] = value
