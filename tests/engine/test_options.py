"""`build_definition`: defaults from configuration and normalised values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from interlace.engine.definition import (
    DeleteMode,
    Materialise,
    ModelType,
    SchemaMode,
    Strategy,
)
from interlace.engine.options import ModelDefaults, build_definition
from interlace.errors import DiscoveryError
from interlace.retry import RetryPolicy

_PATH = Path("/project/models/m.py")


def _build(options: dict[str, Any], **overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "type": ModelType.PYTHON,
        "name_default": "m",
        "path": _PATH,
        "line": 7,
        "defaults": ModelDefaults(),
    }
    arguments.update(overrides)
    return build_definition(options, **arguments)


def test_defaults_come_from_the_project() -> None:
    defaults = ModelDefaults(schema="staging", materialise=Materialise.VIEW)

    definition = _build({}, defaults=defaults, inferred_dependencies=["a", "b", "a"])

    assert (definition.name, definition.schema) == ("m", "staging")
    assert definition.materialise is Materialise.VIEW
    assert definition.strategy is None
    assert definition.connection is None
    assert definition.dependencies == ("a", "b")
    assert not definition.dependencies_declared
    assert definition.schema_mode is SchemaMode.SAFE
    assert definition.retry is None
    assert (definition.path, definition.line) == (_PATH, 7)


def test_declared_dependencies_replace_inferred_ones() -> None:
    definition = _build({"dependencies": ["x"]}, inferred_dependencies=["a"])

    assert definition.dependencies == ("x",)
    assert definition.dependencies_declared


def test_values_are_normalised() -> None:
    definition = _build(
        {
            "name": "orders",
            "materialize": "table",
            "strategy": "merge_by_key",
            "primary_key": "order_id",
            "delete_mode": "hard",
            "fields": {"order_id": int, "amount": "DOUBLE", "day": "date"},
            "tags": ["a", "b", "a"],
            "retry": {"max_attempts": 2, "initial_delay": 1},
            "description": "  Clean orders.  ",
        }
    )

    assert definition.name == "orders"
    assert definition.strategy is Strategy.MERGE_BY_KEY
    assert definition.primary_key == ("order_id",)
    assert definition.delete_mode is DeleteMode.DELETE_MISSING
    assert definition.fields == {
        "order_id": "int64",
        "amount": "float64",
        "day": "date",
    }
    assert definition.tags == ("a", "b")
    assert definition.retry == RetryPolicy(max_attempts=2, initial_delay=1.0)
    assert definition.description == "Clean orders."


def test_soft_delete_mode_is_an_alias_of_preserve() -> None:
    definition = _build(
        {"strategy": "merge_by_key", "primary_key": ["a", "b"], "delete_mode": "soft"}
    )

    assert definition.delete_mode is DeleteMode.PRESERVE
    assert definition.primary_key == ("a", "b")


def test_cron_schedule_gets_the_scheduler_time_zone_by_default() -> None:
    defaults = ModelDefaults(timezone="Europe/Berlin")

    cron = _build({"schedule": {"cron": "15  * * * *"}}, defaults=defaults)
    interval = _build({"schedule": {"every_s": "90"}}, defaults=defaults)

    assert cron.schedule == {
        "cron": "15 * * * *",
        "timezone": "Europe/Berlin",
        "max_concurrency": 1,
    }
    assert interval.schedule == {"every_s": 90, "max_concurrency": 1}


def test_scd_type_2_config_is_completed_with_defaults() -> None:
    definition = _build(
        {
            "strategy": "scd_type_2",
            "primary_key": "id",
            "scd2_config": {"delete_mode": "soft_mark", "tracked_columns": ["a"]},
        }
    )

    assert definition.scd2_config == {
        "valid_from_col": "valid_from",
        "valid_to_col": "valid_to",
        "is_current_col": "is_current",
        "hash_col": "_scd2_hash",
        "tracked_columns": ["a"],
        "delete_mode": "soft_mark",
        "deleted_col": "is_deleted",
    }


def test_column_lineage_short_form_is_stored_as_derived() -> None:
    definition = _build(
        {
            "column_lineage": {
                "revenue": ["orders.amount"],
                "day": {"sources": ["orders.day"], "transformation": "direct"},
            }
        }
    )

    assert definition.column_lineage == {
        "revenue": {"sources": ["orders.amount"], "transformation": "derived"},
        "day": {"sources": ["orders.day"], "transformation": "direct"},
    }


def test_strategy_conflicts_with_a_view_default_from_configuration() -> None:
    defaults = ModelDefaults(materialise=Materialise.VIEW)

    with pytest.raises(DiscoveryError, match="`models.default_materialise` is `view`"):
        _build({"strategy": "append"}, defaults=defaults)


def test_attributes_are_copied_onto_the_definition() -> None:
    definition = _build({}, type=ModelType.SQL, attributes={"sql": "SELECT 1"})

    assert definition.type is ModelType.SQL
    assert definition.sql == "SELECT 1"


def test_stream_definition_has_fixed_shape_and_stream_defaults() -> None:
    defaults = ModelDefaults(schema="public", stream_schema="inbox")

    definition = _build(
        {"fields": {"id": "string"}, "rate_limit": {"requests_per_second": 20}},
        type=ModelType.STREAM,
        defaults=defaults,
        inferred_dependencies=["ignored"],
    )

    assert definition.schema == "inbox"
    assert definition.materialise is Materialise.TABLE
    assert definition.strategy is Strategy.APPEND
    assert definition.dependencies == ()
    assert definition.cursor == "_interlace_seq"
    assert definition.stream_options == {
        "validate_schema": True,
        "on_invalid": "reject",
        "idempotency_key": None,
        "auth": None,
        "rate_limit": {"requests_per_second": 20, "burst": 40},
        "retention": None,
        "trigger": {"enabled": True, "debounce_ms": 1000, "max_delay_ms": 10000},
        "max_deliveries": 5,
    }


def test_stream_auth_forms_are_normalised() -> None:
    bearer = _build({"auth": {"type": "bearer", "token": "t"}}, type=ModelType.STREAM)
    api_key = _build({"auth": {"type": "api_key", "key": "k"}}, type=ModelType.STREAM)

    assert bearer.stream_options["auth"] == {"type": "bearer", "token": "t"}
    assert api_key.stream_options["auth"] == {
        "type": "api_key",
        "header": "X-API-Key",
        "key": "k",
    }


def test_invalid_name_default_is_reported_with_the_model_location() -> None:
    with pytest.raises(DiscoveryError) as caught:
        _build({}, name_default="daily-revenue")

    assert (caught.value.path, caught.value.line) == (_PATH, 7)
    assert "`name`: expected letters" in caught.value.reason


def test_options_given_as_none_fall_back_to_defaults() -> None:
    definition = _build({"name": None, "schema": None, "strategy": None})

    assert (definition.name, definition.schema) == ("m", "public")
    assert definition.strategy is None
