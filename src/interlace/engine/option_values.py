"""Validators for single model option values.

Each validator takes the value as written (decorator argument, SQL header,
JSON) and returns it normalised (enums, tuples, canonical types, defaults
filled in), or raises `OptionError` with a message that names the option.
`interlace.engine.options` combines them and adds file and line.
"""

from __future__ import annotations

import contextlib
import re
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from interlace.engine.definition import DeleteMode, Materialise, SchemaMode, Strategy
from interlace.retry import RetryPolicy
from interlace.types import canonical_type

__all__ = ["SCD2_DEFAULTS", "VALIDATORS", "OptionError", "default_trigger"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DELETE_MODES = {
    "preserve": DeleteMode.PRESERVE,
    "soft": DeleteMode.PRESERVE,
    "delete_missing": DeleteMode.DELETE_MISSING,
    "hard": DeleteMode.DELETE_MISSING,
}
SCD2_DEFAULTS: dict[str, Any] = {
    "valid_from_col": "valid_from",
    "valid_to_col": "valid_to",
    "is_current_col": "is_current",
    "hash_col": "_scd2_hash",
    "tracked_columns": None,
    "delete_mode": "ignore",
    "deleted_col": "is_deleted",
}
_TRANSFORMATIONS = frozenset(
    {"direct", "renamed", "derived", "aggregated", "joined", "filtered", "cast",
     "window", "unknown"}
)  # fmt: skip


class OptionError(ValueError):
    """An option value is invalid; the message names the option."""


def default_trigger() -> dict[str, Any]:
    """The trigger settings of a stream that declares none."""
    return _trigger({})


def _identifier(option: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not _IDENTIFIER.match(value):
            raise OptionError(
                f"`{option}`: expected letters, digits and `_` not starting "
                f"with a digit, got {value!r}"
            )
        return value

    return check


def _text(option: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise OptionError(f"`{option}`: expected a non-empty string, got {value!r}")
        return value

    return check


def _flag(option: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise OptionError(f"`{option}`: expected True or False, got {value!r}")
        return value

    return check


def _enum(option: str, choices: Mapping[str, Any]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, str) or value not in choices:
            expected = ", ".join(f"'{choice}'" for choice in choices)
            raise OptionError(f"`{option}`: expected one of {expected}, got {value!r}")
        return choices[value]

    return check


def _names(option: str, *, single: bool = False) -> Callable[[Any], tuple[str, ...]]:
    """A list of non-empty strings (or one string when `single`)."""

    def check(value: Any) -> tuple[str, ...]:
        if single and isinstance(value, str):
            value = [value]
        is_list = isinstance(value, list | tuple)
        if is_list and value and all(_is_name(item) for item in value):
            return tuple(dict.fromkeys(value))
        if isinstance(value, list | tuple) and not value and not single:
            return ()
        shape = "a string or a non-empty list" if single else "a list"
        raise OptionError(f"`{option}`: expected {shape} of names, got {value!r}")

    return check


def _is_name(item: Any) -> bool:
    return isinstance(item, str) and bool(item.strip())


def _integer(option: str, minimum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise OptionError(
                f"`{option}`: expected an integer >= {minimum}, got {value!r}"
            )
        return value

    return check


def _number(
    option: str, minimum: float, *, inclusive: bool = True
) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        valid = isinstance(value, int | float) and not isinstance(value, bool)
        if not valid or value < minimum or (not inclusive and value == minimum):
            bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"
            raise OptionError(f"`{option}`: expected a number {bound}, got {value!r}")
        return int(value) if float(value).is_integer() else float(value)

    return check


def _mapping(
    option: str, value: Any, allowed: Sequence[str] | None = None
) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise OptionError(f"`{option}`: expected a mapping, got {value!r}")
    for key in value:
        if not isinstance(key, str):
            raise OptionError(f"`{option}`: keys must be strings, got {key!r}")
        if allowed is not None and key not in allowed:
            expected = ", ".join(f"`{name}`" for name in allowed)
            raise OptionError(f"`{option}`: unknown key {key!r}; expected {expected}")
    return dict(value)


def _fields(value: Any) -> dict[str, str]:
    columns = _mapping("fields", value)
    result = {}
    for column, spec in columns.items():
        try:
            result[column] = canonical_type(spec)
        except (TypeError, ValueError, AttributeError) as exc:
            raise OptionError(f"`fields.{column}`: {exc}") from None
    return result


def _column_mapping(value: Any) -> dict[str, str]:
    mapping = _mapping("column_mapping", value)
    for old, new in mapping.items():
        if not isinstance(new, str) or not new:
            raise OptionError(
                f"`column_mapping.{old}`: expected a column name, got {new!r}"
            )
    return mapping


def _schedule(value: Any) -> dict[str, Any]:
    keys = ("cron", "timezone", "every_s", "max_concurrency")
    schedule = _mapping("schedule", value, keys)
    if ("cron" in schedule) == ("every_s" in schedule):
        raise OptionError("`schedule`: expected exactly one of `cron` or `every_s`")
    result: dict[str, Any] = {}
    if "cron" in schedule:
        result["cron"] = _cron(schedule["cron"])
        if "timezone" in schedule:
            result["timezone"] = _timezone(schedule["timezone"])
    elif "timezone" in schedule:
        raise OptionError("`schedule.timezone` applies only to `cron` schedules")
    else:
        result["every_s"] = _number("schedule.every_s", 1)(schedule["every_s"])
    concurrency = schedule.get("max_concurrency", 1)
    result["max_concurrency"] = _integer("schedule.max_concurrency", 1)(concurrency)
    return result


def _cron(value: Any) -> str:
    if not isinstance(value, str) or len(value.split()) != 5:
        raise OptionError(
            f"`schedule.cron`: expected 5 fields (minute hour day month weekday), got {value!r}"
        )
    # Imported here: croniter is slow to import and model files import this
    # module through `from interlace import model`.
    from croniter import croniter

    if not croniter.is_valid(value):
        raise OptionError(f"`schedule.cron`: invalid cron expression {value!r}")
    return " ".join(value.split())


def _timezone(value: Any) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise OptionError(f"`schedule.timezone`: unknown time zone {value!r}") from None
    return str(value)


def _retry(value: Any) -> RetryPolicy:
    if isinstance(value, RetryPolicy):
        return value
    policy = _mapping("retry", value, tuple(RetryPolicy.__struct_fields__))
    for key in ("initial_delay", "max_delay", "exponential_base"):
        if key in policy:
            policy[key] = float(_number(f"retry.{key}", 0)(policy[key]))
    if "max_attempts" in policy:
        _integer("retry.max_attempts", 0)(policy["max_attempts"])
    if "jitter" in policy:
        _flag("retry.jitter")(policy["jitter"])
    exceptions = policy.get("retryable_exceptions")
    if exceptions is not None:
        policy["retryable_exceptions"] = _exception_types(exceptions)
    condition = policy.get("retry_condition")
    if condition is not None and not callable(condition):
        raise OptionError(
            f"`retry.retry_condition`: expected a callable, got {condition!r}"
        )
    try:
        return RetryPolicy.from_value(policy)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"`retry`: {exc}") from None


def _exception_types(value: Any) -> tuple[type[BaseException], ...]:
    items = value if isinstance(value, list | tuple) else [value]
    for item in items:
        if not (isinstance(item, type) and issubclass(item, BaseException)):
            raise OptionError(
                f"`retry.retryable_exceptions`: expected exception classes, got {item!r}"
            )
    return tuple(items)


def _scd2_config(value: Any) -> dict[str, Any]:
    config = _mapping("scd2_config", value, tuple(SCD2_DEFAULTS))
    for key, item in config.items():
        if key == "tracked_columns":
            config[key] = list(_names("scd2_config.tracked_columns")(item))
        elif key == "delete_mode":
            modes = {mode: mode for mode in ("ignore", "soft", "soft_mark")}
            config[key] = _enum("scd2_config.delete_mode", modes)(item)
        else:
            _text(f"scd2_config.{key}")(item)
    return config


def _column_lineage(value: Any) -> dict[str, Any]:
    declared = _mapping("column_lineage", value)
    return {column: _lineage_entry(column, entry) for column, entry in declared.items()}


def _lineage_entry(column: str, entry: Any) -> dict[str, Any]:
    where = f"column_lineage.{column}"
    if isinstance(entry, list | tuple):
        entry = {"sources": entry}
    entry = _mapping(where, entry, ("sources", "transformation", "expression"))
    sources = _names(f"{where}.sources")(entry.get("sources", []))
    for source in sources:
        if source.count(".") != 1:
            raise OptionError(
                f"`{where}.sources`: expected `model.column`, got {source!r}"
            )
    transformation = entry.get("transformation", "derived")
    if transformation not in _TRANSFORMATIONS:
        expected = ", ".join(sorted(_TRANSFORMATIONS))
        raise OptionError(
            f"`{where}.transformation`: expected one of {expected}, got {transformation!r}"
        )
    result = {"sources": list(sources), "transformation": transformation}
    if entry.get("expression") is not None:
        result["expression"] = _text(f"{where}.expression")(entry["expression"])
    return result


def _auth(value: Any) -> dict[str, Any]:
    auth = _mapping("auth", value, ("type", "token", "header", "key"))
    kind = auth.get("type")
    if kind == "bearer":
        _mapping("auth", auth, ("type", "token"))
        return {"type": kind, "token": _text("auth.token")(auth.get("token"))}
    if kind == "api_key":
        _mapping("auth", auth, ("type", "header", "key"))
        header = _text("auth.header")(auth.get("header", "X-API-Key"))
        return {
            "type": kind,
            "header": header,
            "key": _text("auth.key")(auth.get("key")),
        }
    raise OptionError(f"`auth.type`: expected 'bearer' or 'api_key', got {kind!r}")


def _rate_limit(value: Any) -> dict[str, Any]:
    limit = _mapping("rate_limit", value, ("requests_per_second", "burst"))
    rps = _number("rate_limit.requests_per_second", 0, inclusive=False)(
        limit.get("requests_per_second")
    )
    burst = _number("rate_limit.burst", 1)(limit.get("burst", 2 * rps))
    return {"requests_per_second": rps, "burst": burst}


def _retention(value: Any) -> dict[str, Any]:
    retention = _mapping("retention", value, ("max_age_days", "max_rows"))
    age = retention.get("max_age_days")
    rows = retention.get("max_rows")
    return {
        "max_age_days": None
        if age is None
        else _number("retention.max_age_days", 0, inclusive=False)(age),
        "max_rows": None if rows is None else _integer("retention.max_rows", 1)(rows),
    }


def _trigger(value: Any) -> dict[str, Any]:
    trigger = _mapping("trigger", value, ("enabled", "debounce_ms", "max_delay_ms"))
    result = {
        "enabled": _flag("trigger.enabled")(trigger.get("enabled", True)),
        "debounce_ms": _integer("trigger.debounce_ms", 0)(
            trigger.get("debounce_ms", 1000)
        ),
        "max_delay_ms": _integer("trigger.max_delay_ms", 0)(
            trigger.get("max_delay_ms", 10000)
        ),
    }
    if result["max_delay_ms"] < result["debounce_ms"]:
        raise OptionError("`trigger.max_delay_ms` must be >= `trigger.debounce_ms`")
    return result


def _any(value: Any) -> Any:
    return value


def _description(value: Any) -> str:
    if not isinstance(value, str):
        raise OptionError(f"`description`: expected a string, got {value!r}")
    return value.strip()


VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "name": _identifier("name"),
    "schema": _identifier("schema"),
    "connection": _text("connection"),
    "materialise": _enum("materialise", {item.value: item for item in Materialise}),
    "strategy": _enum("strategy", {item.value: item for item in Strategy}),
    "primary_key": _names("primary_key", single=True),
    "dependencies": _names("dependencies"),
    "fields": _fields,
    "strict": _flag("strict"),
    "column_mapping": _column_mapping,
    "schema_mode": _enum("schema_mode", {item.value: item for item in SchemaMode}),
    "cursor": _text("cursor"),
    "schedule": _schedule,
    "retry": _retry,
    "delete_mode": _enum("delete_mode", _DELETE_MODES),
    "scd2_config": _scd2_config,
    "column_lineage": _column_lineage,
    "checks": _any,
    "incremental": _any,
    "description": _description,
    "tags": _names("tags"),
    "owner": _text("owner"),
    "validate_schema": _flag("validate_schema"),
    "on_invalid": _enum("on_invalid", {"reject": "reject", "quarantine": "quarantine"}),
    "idempotency_key": _text("idempotency_key"),
    "auth": _auth,
    "rate_limit": _rate_limit,
    "retention": _retention,
    "trigger": _trigger,
    "max_deliveries": _integer("max_deliveries", 1),
}
