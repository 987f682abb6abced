"""Validation of the `service` configuration section (SPEC §3.4)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from interlace.config import load_config
from interlace.errors import ConfigError
from interlace.service.settings import (
    DEFAULT_WHITELIST,
    parse_service_settings,
    service_settings,
)


def keys(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"auth": {"enabled": True, "api_keys": list(entries)}}


def test_an_absent_section_means_every_default() -> None:
    settings = parse_service_settings(None)

    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.auth.enabled is False
    assert settings.auth.api_keys == ()
    assert settings.auth.whitelist == DEFAULT_WHITELIST
    assert settings.auth.rate_limit is None
    assert (settings.sse.keepalive_seconds, settings.sse.buffer_size) == (30.0, 1000)
    assert settings.sse.max_subscribers == 1000
    assert settings.grace_seconds == 30.0
    assert settings.metrics_enabled is True
    assert settings.trusted_proxies == ()


def test_a_full_section_is_read_into_frozen_settings() -> None:
    raw = {
        "host": "0.0.0.0",
        "port": 9000,
        "cors_origins": ["https://dash.example.com"],
        "auth": {
            "enabled": True,
            "api_keys": [
                {"name": "prod", "key": "k1", "permissions": ["read", "execute"]},
                {"name": "mon", "key": "k2"},
            ],
            "whitelist": ["/api/v1/health"],
            "rate_limit": {"requests_per_second": 100, "burst": 150},
        },
        "sse": {"keepalive_seconds": 5, "buffer_size": 10, "max_subscribers": 2},
        "shutdown": {"grace_seconds": 0},
        "metrics": {"enabled": False},
        "trusted_proxies": ["10.0.0.0/8", "192.168.1.7"],
    }

    settings = parse_service_settings(raw)

    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    assert settings.cors_origins == ("https://dash.example.com",)
    prod, mon = settings.auth.api_keys
    assert (prod.name, prod.key, prod.permissions) == (
        "prod",
        "k1",
        {"read", "execute"},
    )
    assert mon.permissions == {"read"}
    assert settings.auth.whitelist == ("/api/v1/health",)
    assert settings.auth.rate_limit is not None
    assert settings.auth.rate_limit.burst == 150
    assert settings.sse.max_subscribers == 2
    assert settings.grace_seconds == 0.0
    assert settings.metrics_enabled is False
    assert ipaddress.ip_address("10.1.2.3") in settings.trusted_proxies[0]
    assert settings.trusted_proxies[1].num_addresses == 1


def test_burst_defaults_to_twice_the_rate() -> None:
    raw = {"auth": {"rate_limit": {"requests_per_second": 7.5}}}

    settings = parse_service_settings(raw)

    assert settings.auth.rate_limit is not None
    assert settings.auth.rate_limit.requests_per_second == 7.5
    assert settings.auth.rate_limit.burst == 15


def test_an_api_key_never_shows_its_secret_in_its_repr() -> None:
    settings = parse_service_settings(keys({"name": "prod", "key": "s3cret"}))

    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [
                {"name": "production", "key": "k"},
                {"name": "monitoring", "key": "${MON}"},
            ],
            "service.auth.api_keys[1] ('monitoring'): key references an unset "
            "environment variable",
        ),
        (
            [{"name": "empty", "key": ""}],
            "service.auth.api_keys[0] ('empty'): key is empty",
        ),
        (
            [{"name": "blank", "key": "   "}],
            "service.auth.api_keys[0] ('blank'): key is empty",
        ),
        (
            [{"name": "missing"}],
            "service.auth.api_keys[0] ('missing'): key is empty",
        ),
        (
            [{"name": "a", "key": "k1"}, {"name": "a", "key": "k2"}],
            "service.auth.api_keys[1] ('a'): duplicate key name `a` "
            "(also service.auth.api_keys[0])",
        ),
        (
            [{"name": "a", "key": "same"}, {"name": "b", "key": "same"}],
            "service.auth.api_keys[1] ('b'): duplicate key value "
            "(same key as service.auth.api_keys[0])",
        ),
        (
            [{"name": "a", "key": "k", "permissions": ["read", "admin"]}],
            "service.auth.api_keys[0].permissions: unknown permission `admin`; "
            "expected `read`, `write`, `execute`",
        ),
        (
            [{"key": "k"}],
            "service.auth.api_keys[0].name: is required",
        ),
    ],
)
def test_invalid_api_keys_are_refused_with_their_entry_named(
    entries: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_service_settings(keys(*entries))

    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"port": 70000}, "service.port: expected a TCP port between 1 and 65535"),
        ({"port": "80"}, "service.port: expected an integer"),
        ({"auth": {"enabled": "yes"}}, "service.auth.enabled: expected true or false"),
        ({"auth": {"api_keys": {"a": 1}}}, "service.auth.api_keys: expected a list"),
        (
            {"auth": {"rate_limit": {"burst": 5}}},
            "service.auth.rate_limit.requests_per_second: is required",
        ),
        (
            {"auth": {"rate_limit": {"requests_per_second": 0}}},
            "service.auth.rate_limit.requests_per_second: expected a number > 0",
        ),
        ({"shutdown": {"grace_seconds": -1}}, "service.shutdown.grace_seconds"),
        (
            {"sse": {"buffer_size": 0}},
            "service.sse.buffer_size: expected an integer >= 1",
        ),
        (
            {"cors_origins": "https://x"},
            "service.cors_origins: expected a list of strings",
        ),
        (
            {"trusted_proxies": ["not-an-ip"]},
            "service.trusted_proxies[0]: expected an IP address or network",
        ),
        ({"auth": []}, "service.auth: expected a mapping"),
    ],
)
def test_invalid_settings_name_the_key(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(
        ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")
    ):
        parse_service_settings(raw)


def test_errors_point_at_the_line_in_the_configuration_file(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "config.yaml").write_text(
        "name: shop\n"
        "service:\n"
        "  auth:\n"
        "    enabled: true\n"
        "    api_keys:\n"
        "      - {name: production, key: abc}\n"
        '      - {name: monitoring, key: "${INTERLACE_TEST_UNSET_VARIABLE}"}\n'
    )
    config = load_config(tmp_path, environ={})

    with pytest.raises(ConfigError) as caught:
        service_settings(config)

    assert caught.value.path == tmp_path / "config.yaml"
    assert caught.value.line == 7
    assert str(caught.value).endswith(
        "service.auth.api_keys[1] ('monitoring'): key references an unset "
        "environment variable"
    )


def test_an_overlay_file_can_replace_the_keys(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "config.yaml").write_text(
        "service:\n  auth:\n    api_keys: [{name: a, key: '${UNSET_IN_THIS_TEST}'}]\n"
    )
    (tmp_path / "config.prod.yaml").write_text(
        "service:\n  auth:\n    api_keys: [{name: a, key: '${PROD_KEY}'}]\n"
    )
    config = load_config(tmp_path, "prod", environ={"PROD_KEY": "from-env"})

    settings = service_settings(config)

    assert settings.auth.api_keys[0].key == "from-env"
