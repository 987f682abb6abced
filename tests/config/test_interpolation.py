"""`${NAME}`, `${NAME:-default}`, `$${NAME}` and `{env}` in configuration."""

from __future__ import annotations

import logging

import pytest

from interlace.config import interpolate, interpolate_text


def _text(value: str, **environ: str) -> str:
    return interpolate_text(value, env="prod", environ=environ)


def test_set_variable_is_substituted() -> None:
    assert _text("host=${DB_HOST}", DB_HOST="db.local") == "host=db.local"


def test_unset_variable_is_left_verbatim_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="interlace.config"):
        result = interpolate(
            {"service": {"key": "${MISSING_KEY}"}}, env="dev", environ={}
        )

    assert result == {"service": {"key": "${MISSING_KEY}"}}
    assert "`service.key`: environment variable `MISSING_KEY` is not set" in caplog.text


def test_set_but_empty_variable_is_substituted_as_empty() -> None:
    assert _text("[${EMPTY}]", EMPTY="") == "[]"


def test_default_is_used_when_variable_is_unset_or_empty() -> None:
    assert _text("${PGHOST:-db}") == "db"
    assert _text("${PGHOST:-db}", PGHOST="") == "db"
    assert _text("${PGHOST:-db}", PGHOST="real") == "real"
    assert _text("${PGHOST:-}") == ""


def test_double_dollar_is_a_literal() -> None:
    assert _text("$${HOME} and ${HOME}", HOME="/root") == "${HOME} and /root"


def test_env_placeholder_is_replaced_including_inside_defaults() -> None:
    assert _text("data/{env}/wh.duckdb") == "data/prod/wh.duckdb"
    assert _text("${DIR:-data/{env}}/x") == "data/prod/x"


def test_substituted_values_are_not_interpolated_again() -> None:
    assert _text("${A}", A="${B}", B="no") == "${B}"


def test_lists_and_nested_mappings_are_interpolated_but_keys_are_not() -> None:
    value = {"{env}": ["${A}", {"b": "{env}"}, 3, None, True]}

    result = interpolate(value, env="dev", environ={"A": "1"})

    assert result == {"{env}": ["1", {"b": "dev"}, 3, None, True]}
