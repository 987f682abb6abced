"""Validation of model options, shared by `@model`, `@stream` and SQL headers.

Options are checked twice on purpose: once when a decorator runs (so a typo
fails at import with the file and line of the function) and once when
discovery builds the `ModelDefinition`, because only then are the
configuration defaults (schema, materialisation, time zone) known.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from interlace.engine.definition import (
    Materialise,
    ModelDefinition,
    ModelType,
    Strategy,
)
from interlace.engine.option_values import (
    SCD2_DEFAULTS,
    VALIDATORS,
    OptionError,
    default_trigger,
)
from interlace.errors import DiscoveryError

if TYPE_CHECKING:
    from interlace.config import ProjectConfig

__all__ = [
    "MODEL_OPTIONS",
    "RESERVED_NAMES",
    "STREAM_OPTIONS",
    "ModelDefaults",
    "build_definition",
    "unknown_option_message",
    "validate_options",
]

RESERVED_NAMES = frozenset({"connection", "context"})
_COMMON = {
    "name",
    "schema",
    "connection",
    "fields",
    "cursor",
    "description",
    "tags",
    "owner",
}
MODEL_OPTIONS = frozenset(
    _COMMON
    | {
        "materialise", "materialize", "strategy", "primary_key", "dependencies",
        "strict", "column_mapping", "schema_mode", "schedule", "retry",
        "retry_policy", "delete_mode", "scd2_config", "column_lineage", "checks",
        "incremental",
    }
)  # fmt: skip
STREAM_OPTIONS = frozenset(
    _COMMON
    | {
        "validate_schema", "on_invalid", "idempotency_key", "auth", "rate_limit",
        "retention", "trigger", "max_deliveries",
    }
)  # fmt: skip
STREAM_CURSOR = "_interlace_seq"
_KEYED = (Strategy.MERGE_BY_KEY, Strategy.SCD_TYPE_2)


class ModelDefaults(msgspec.Struct, frozen=True, kw_only=True):
    """Project-level defaults applied to every definition."""

    schema: str = "public"
    materialise: Materialise = Materialise.TABLE
    stream_schema: str = "events"
    timezone: str = "UTC"
    """Time zone of cron schedules that do not name one."""

    @classmethod
    def from_config(cls, config: ProjectConfig) -> ModelDefaults:
        return cls(
            schema=config.default_schema,
            materialise=Materialise(config.default_materialise),
            stream_schema=config.streams_default_schema,
            timezone=config.scheduler_timezone,
        )


def validate_options(
    options: Mapping[str, Any],
    *,
    type: ModelType,
    path: Path | None = None,
    line: int | None = None,
) -> dict[str, Any]:
    """Check option names, values and combinations; return normalised values.

    Spellings are unified (`materialize` -> `materialise`, `retry_policy` ->
    `retry`) and options given as None are dropped. Raises `DiscoveryError`
    at `path`/`line` for the first problem found.
    """
    name = options.get("name")
    try:
        return _validated(options, type)
    except OptionError as exc:
        model = name if isinstance(name, str) else None
        raise DiscoveryError(str(exc), path=path, line=line, model=model) from None


def build_definition(
    options: Mapping[str, Any],
    *,
    type: ModelType,
    name_default: str,
    path: Path | None,
    line: int | None,
    defaults: ModelDefaults,
    inferred_dependencies: Sequence[str] = (),
    attributes: Mapping[str, Any] | None = None,
) -> ModelDefinition:
    """The final `ModelDefinition`, with configuration defaults applied.

    `inferred_dependencies` is used unless `dependencies` is declared;
    `attributes` carries structural fields (`function`, `sql`, `parameters`,
    ...) that are not user options.
    """
    given = {key: value for key, value in options.items() if value is not None}
    values = validate_options(
        {"name": name_default, **given}, type=type, path=path, line=line
    )
    try:
        fields = _definition_fields(values, type, defaults, inferred_dependencies)
    except OptionError as exc:
        raise DiscoveryError(
            str(exc), path=path, line=line, model=values["name"]
        ) from None
    return ModelDefinition(
        **fields, type=type, path=path, line=line, **dict(attributes or {})
    )


def _validated(options: Mapping[str, Any], type: ModelType) -> dict[str, Any]:
    allowed = STREAM_OPTIONS if type is ModelType.STREAM else MODEL_OPTIONS
    for key in options:
        if key not in allowed:
            raise OptionError(unknown_option_message(key, type))
    given = {key: value for key, value in options.items() if value is not None}
    _merge_spelling(given, "materialise", "materialize")
    _merge_spelling(given, "retry", "retry_policy")
    values = {key: VALIDATORS[key](value) for key, value in given.items()}
    _check_combinations(values)
    if type is ModelType.STREAM:
        _check_stream(values)
    return values


def unknown_option_message(key: str, type: ModelType) -> str:
    """`unknown option ...` naming the closest valid option and all of them."""
    allowed = STREAM_OPTIONS if type is ModelType.STREAM else MODEL_OPTIONS
    where = {
        ModelType.PYTHON: "option `{}` for `@model`",
        ModelType.SQL: "SQL header key `{}`",
        ModelType.STREAM: "option `{}` for `@stream`",
    }[type]
    message = "unknown " + where.format(key)
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        message += f" (did you mean `{close[0]}`?)"
    return message + "; valid options: " + ", ".join(sorted(allowed))


def _merge_spelling(values: dict[str, Any], main: str, alias: str) -> None:
    if alias not in values:
        return
    value = values.pop(alias)
    if main in values and values[main] != value:
        raise OptionError(
            f"`{main}` and `{alias}` are both given with different values "
            f"({values[main]!r} and {value!r}); use one of them"
        )
    values[main] = value


def _check_combinations(values: dict[str, Any]) -> None:
    name = values.get("name")
    if name in RESERVED_NAMES:
        raise OptionError(
            f"`{name}` is reserved for an injected parameter; rename the model"
        )
    strategy = values.get("strategy")
    if strategy in _KEYED and not values.get("primary_key"):
        raise OptionError(f"strategy `{strategy}` requires `primary_key`")
    materialise = values.get("materialise")
    if strategy is not None and materialise not in (None, Materialise.TABLE):
        raise OptionError(
            f"strategy `{strategy}` applies only to `table` models, "
            f"not to materialise `{materialise}`"
        )
    if "delete_mode" in values and strategy is not Strategy.MERGE_BY_KEY:
        raise OptionError("`delete_mode` applies only to strategy `merge_by_key`")
    if "scd2_config" in values and strategy is not Strategy.SCD_TYPE_2:
        raise OptionError("`scd2_config` applies only to strategy `scd_type_2`")


def _check_stream(values: dict[str, Any]) -> None:
    fields = values.get("fields") or {}
    reserved = [field for field in fields if field.startswith("_interlace_")]
    if reserved:
        raise OptionError(
            f"`fields`: `{reserved[0]}` uses the reserved prefix `_interlace_`"
        )
    key = values.get("idempotency_key")
    if key is not None and fields and key not in fields:
        raise OptionError(
            f"`idempotency_key`: `{key}` is not one of the declared fields"
        )


def _definition_fields(
    values: dict[str, Any],
    type: ModelType,
    defaults: ModelDefaults,
    inferred: Sequence[str],
) -> dict[str, Any]:
    fields = dict(values)
    fields["connection"] = values.get("connection")
    fields["tags"] = values.get("tags", ())
    if "schedule" in values:
        fields["schedule"] = _with_timezone(values["schedule"], defaults.timezone)
    if type is ModelType.STREAM:
        return _stream_fields(fields, defaults)
    fields["schema"] = values.get("schema", defaults.schema)
    materialise = values.get("materialise", defaults.materialise)
    strategy = values.get("strategy")
    if strategy is not None and materialise is not Materialise.TABLE:
        raise OptionError(
            f"strategy `{strategy}` applies only to `table` models, but the "
            f"project default `models.default_materialise` is `{materialise}`"
        )
    fields["materialise"] = materialise
    fields["dependencies_declared"] = "dependencies" in values
    fields["dependencies"] = values.get("dependencies", tuple(dict.fromkeys(inferred)))
    if strategy is Strategy.SCD_TYPE_2:
        fields["scd2_config"] = {**SCD2_DEFAULTS, **values.get("scd2_config", {})}
    return fields


def _stream_fields(fields: dict[str, Any], defaults: ModelDefaults) -> dict[str, Any]:
    stream_keys = STREAM_OPTIONS - _COMMON
    options = {key: fields.pop(key) for key in list(fields) if key in stream_keys}
    fields["stream_options"] = _stream_options(options)
    fields["schema"] = fields.get("schema", defaults.stream_schema)
    fields["materialise"] = Materialise.TABLE
    fields["strategy"] = Strategy.APPEND
    fields["cursor"] = fields.get("cursor", STREAM_CURSOR)
    return fields


def _stream_options(options: dict[str, Any]) -> dict[str, Any]:
    return {
        "validate_schema": options.get("validate_schema", True),
        "on_invalid": options.get("on_invalid", "reject"),
        "idempotency_key": options.get("idempotency_key"),
        "auth": options.get("auth"),
        "rate_limit": options.get("rate_limit"),
        "retention": options.get("retention"),
        "trigger": options.get("trigger", default_trigger()),
        "max_deliveries": options.get("max_deliveries", 5),
    }


def _with_timezone(schedule: dict[str, Any], timezone: str) -> dict[str, Any]:
    if "cron" in schedule and "timezone" not in schedule:
        return {**schedule, "timezone": timezone}
    return schedule
