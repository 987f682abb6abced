"""`@model` and `@stream`: eager validation, signatures and declarations."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from interlace import model, stream
from interlace.engine.decorators import MODEL_ATTR, declaration_of
from interlace.engine.definition import ModelType
from interlace.errors import DiscoveryError
from interlace.retry import RetryPolicy


def _fresh() -> Any:
    def subject() -> None:
        pass

    return subject


def test_bare_decorator_returns_the_function_which_still_runs() -> None:
    def add(a, b):  # type: ignore[no-untyped-def]
        return a + b

    decorated = model(add)

    assert decorated is add
    assert add(2, 3) == 5
    assert declaration_of(add) is not None


def test_called_decorator_stores_the_options_as_passed() -> None:
    options = {"materialize": "view", "tags": ["a"], "fields": {"id": int}}

    @model(**options)
    def orders() -> None:
        pass

    declaration = declaration_of(orders)
    assert declaration is not None
    assert declaration.type is ModelType.PYTHON
    assert declaration.options == options
    assert getattr(orders, MODEL_ATTR) == options


def test_declaration_points_at_the_file_and_line_of_the_function() -> None:
    def located() -> None:
        pass

    model(located)

    declaration = declaration_of(located)
    assert declaration is not None
    assert declaration.path == Path(__file__)
    assert declaration.line == located.__code__.co_firstlineno


def test_parameters_name_upstreams_except_injected_and_variadic() -> None:
    @model
    def report(orders, customers=None, *args, connection, context, **kwargs):  # type: ignore[no-untyped-def]
        """Daily report.

        Joins orders and customers.
        """

    declaration = declaration_of(report)
    assert declaration is not None
    assert declaration.parameters == ("orders", "customers")
    assert declaration.optional_parameters == frozenset({"customers"})
    assert declaration.injects_connection and declaration.injects_context
    assert declaration.description == "Daily report.\n\nJoins orders and customers."


def test_async_functions_are_models_and_still_awaitable() -> None:
    @model(name="fetched")
    async def fetch(source):  # type: ignore[no-untyped-def]
        return source * 2

    assert asyncio.run(fetch(21)) == 42
    declaration = declaration_of(fetch)
    assert declaration is not None and declaration.parameters == ("source",)


def test_stream_is_declared_with_its_stream_options() -> None:
    @stream(fields={"event_id": "string"}, idempotency_key="event_id")
    def page_views() -> None:
        """Body is never executed."""
        raise AssertionError("executed")

    declaration = declaration_of(page_views)
    assert declaration is not None
    assert declaration.type is ModelType.STREAM
    assert declaration.options["idempotency_key"] == "event_id"


def test_stream_function_may_not_take_parameters() -> None:
    def events(orders):  # type: ignore[no-untyped-def]
        pass

    with pytest.raises(DiscoveryError, match="takes no parameters, got `orders`"):
        stream(events)


def test_positional_only_parameters_are_rejected() -> None:
    def positional(orders, /):  # type: ignore[no-untyped-def]
        pass

    with pytest.raises(DiscoveryError, match="`orders` is positional-only"):
        model(positional)


def test_positional_option_is_rejected_at_the_call_site() -> None:
    with pytest.raises(DiscoveryError, match="keyword options only") as caught:
        model("orders")  # type: ignore[call-overload]

    assert caught.value.path == Path(__file__)


def test_decorating_twice_is_rejected() -> None:
    subject = model(_fresh())

    with pytest.raises(DiscoveryError, match="decorated twice"):
        model(subject)


def test_unknown_option_is_named_with_a_suggestion_and_the_valid_options() -> None:
    subject = _fresh()

    with pytest.raises(DiscoveryError) as caught:
        model(materialisation="view")(subject)  # type: ignore[call-arg]

    message = caught.value.reason
    assert message.startswith("unknown option `materialisation` for `@model`")
    assert "(did you mean `materialise`?)" in message
    assert "valid options: checks, column_lineage," in message
    assert (caught.value.path, caught.value.line) == (
        Path(__file__),
        subject.__code__.co_firstlineno,
    )


def test_stream_rejects_model_only_options() -> None:
    with pytest.raises(DiscoveryError, match="unknown option `strategy` for `@stream`"):
        stream(strategy="append")(_fresh())  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"strategy": "merge_by_key"},
            "strategy `merge_by_key` requires `primary_key`",
        ),
        ({"strategy": "scd_type_2"}, "strategy `scd_type_2` requires `primary_key`"),
        ({"materialise": "view", "strategy": "append"}, "applies only to `table`"),
        (
            {"materialise": "ephemeral", "strategy": "replace"},
            "applies only to `table`",
        ),
        ({"materialize": "none", "strategy": "none"}, "applies only to `table`"),
        ({"materialise": "view", "materialize": "table"}, "are both given"),
        (
            {"retry": {"max_attempts": 1}, "retry_policy": RetryPolicy.FAST},
            "both given",
        ),
        ({"name": "connection"}, "`connection` is reserved"),
        ({"name": "context"}, "`context` is reserved"),
        ({"name": "daily-revenue"}, "`name`: expected letters, digits"),
        ({"materialise": "cube"}, "`materialise`: expected one of 'table'"),
        ({"strategy": "upsert"}, "`strategy`: expected one of"),
        ({"schema_mode": "loose"}, "`schema_mode`: expected one of"),
        ({"primary_key": []}, "`primary_key`: expected a string or a non-empty list"),
        ({"dependencies": "orders"}, "`dependencies`: expected a list of names"),
        ({"tags": ["ok", 3]}, "`tags`: expected a list of names"),
        ({"strict": "yes"}, "`strict`: expected True or False"),
        ({"fields": {"amount": "flaot"}}, "`fields.amount`: unknown type `flaot`"),
        ({"fields": {"amount": object}}, "`fields.amount`: unsupported Python type"),
        ({"fields": ["amount"]}, "`fields`: expected a mapping"),
        ({"column_mapping": {"a": 1}}, "`column_mapping.a`: expected a column name"),
        ({"cursor": ""}, "`cursor`: expected a non-empty string"),
        ({"schedule": {"cron": "* * *"}}, "`schedule.cron`: expected 5 fields"),
        ({"schedule": {"cron": "0 0 * * * *"}}, "expected 5 fields"),
        ({"schedule": {"cron": "61 * * * *"}}, "invalid cron expression"),
        (
            {"schedule": {"cron": "0 * * * *", "timezone": "Mars/Base"}},
            "unknown time zone",
        ),
        ({"schedule": {"every_s": 0.5}}, "`schedule.every_s`: expected a number >= 1"),
        ({"schedule": {"every_s": "soon"}}, "`schedule.every_s`: expected a number"),
        ({"schedule": {"cron": "0 * * * *", "every_s": 5}}, "exactly one of `cron`"),
        ({"schedule": {}}, "exactly one of `cron` or `every_s`"),
        ({"schedule": {"every_s": 5, "timezone": "UTC"}}, "applies only to `cron`"),
        ({"schedule": {"every": 5}}, "`schedule`: unknown key 'every'"),
        ({"schedule": {"every_s": 5, "max_concurrency": 0}}, "max_concurrency"),
        ({"retry": {"max_attempts": -1}}, "`retry.max_attempts`: expected an integer"),
        ({"retry": {"initial_delay": 5, "max_delay": 1}}, "`max_delay` must be >="),
        ({"retry": {"attempts": 2}}, "`retry`: unknown key 'attempts'"),
        ({"retry": {"retryable_exceptions": ["ValueError"]}}, "exception classes"),
        ({"retry": "often"}, "`retry`: expected a mapping"),
        ({"delete_mode": "hard"}, "`delete_mode` applies only to strategy"),
        (
            {"strategy": "merge_by_key", "primary_key": "id", "delete_mode": "purge"},
            "`delete_mode`: expected one of",
        ),
        (
            {"scd2_config": {"delete_mode": "soft"}},
            "applies only to strategy `scd_type_2`",
        ),
        (
            {"strategy": "scd_type_2", "primary_key": "id", "scd2_config": {"x": 1}},
            "`scd2_config`: unknown key 'x'",
        ),
        ({"column_lineage": {"rev": ["amount"]}}, "expected `model.column`"),
        (
            {
                "column_lineage": {
                    "rev": {"sources": ["o.a"], "transformation": "magic"}
                }
            },
            "`column_lineage.rev.transformation`: expected one of",
        ),
        ({"description": 3}, "`description`: expected a string"),
    ],
)
def test_invalid_option_fails_at_the_function_line(
    options: dict[str, Any], message: str
) -> None:
    subject = _fresh()

    with pytest.raises(DiscoveryError, match=re.escape(message)) as caught:
        model(**options)(subject)

    assert caught.value.path == Path(__file__)
    assert caught.value.line == subject.__code__.co_firstlineno


def test_function_named_after_a_reserved_parameter_needs_a_name() -> None:
    def context() -> None:
        pass

    with pytest.raises(DiscoveryError, match="`context` is reserved"):
        model(context)

    assert declaration_of(model(name="ctx")(context)) is not None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"on_invalid": "drop"}, "`on_invalid`: expected one of 'reject'"),
        ({"validate_schema": 1}, "`validate_schema`: expected True or False"),
        ({"auth": {"type": "basic"}}, "`auth.type`: expected 'bearer' or 'api_key'"),
        ({"auth": {"type": "bearer"}}, "`auth.token`: expected a non-empty string"),
        ({"auth": {"type": "bearer", "token": "t", "key": "k"}}, "unknown key 'key'"),
        ({"rate_limit": {"requests_per_second": 0}}, "expected a number > 0"),
        ({"retention": {"max_rows": 0}}, "`retention.max_rows`: expected an integer"),
        (
            {"trigger": {"debounce_ms": 50, "max_delay_ms": 10}},
            "`trigger.max_delay_ms`",
        ),
        ({"max_deliveries": 0}, "`max_deliveries`: expected an integer >= 1"),
        ({"fields": {"_interlace_seq": "int64"}}, "reserved prefix `_interlace_`"),
        (
            {"fields": {"id": "string"}, "idempotency_key": "event_id"},
            "`idempotency_key`: `event_id` is not one of the declared fields",
        ),
    ],
)
def test_invalid_stream_option_is_a_discovery_error(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(DiscoveryError, match=message):
        stream(**options)(_fresh())
