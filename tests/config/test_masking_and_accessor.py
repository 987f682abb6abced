"""Secret masking and the `interlace.config` accessor."""

from __future__ import annotations

import pytest

import interlace
from interlace.config import current, load_config, masked_config, set_current
from interlace.errors import ConfigError
from tests.config.conftest import WriteConfig

_SECRETS = """
connections:
  pg:
    type: postgres
    config: {host: h, Password: "${PGPASS:-hunter2}", user: u}
service:
  auth:
    api_keys:
      - {name: production, key: abc123, permissions: [read]}
  integrations:
    slack: {Token: t, api_key: k, APIKEY: k2, private_key: p, secret: s}
    gcp: {credentials: {type: service_account}}
    unset: {token: null}
models: {primary_key_hint: id}
"""


def test_secrets_are_masked_case_insensitively_at_any_depth(
    write_config: WriteConfig,
) -> None:
    config = load_config(write_config(_SECRETS), environ={})

    masked = masked_config(config)

    assert masked["connections"]["pg"]["config"] == {
        "host": "h",
        "Password": "***",
        "user": "u",
    }
    assert masked["service"]["auth"]["api_keys"][0] == {
        "name": "production",
        "key": "***",
        "permissions": ["read"],
    }
    assert set(masked["service"]["integrations"]["slack"].values()) == {"***"}
    assert masked["service"]["integrations"]["gcp"]["credentials"] == "***"
    assert masked["service"]["integrations"]["unset"]["token"] is None
    assert masked["models"] == {"primary_key_hint": "id"}


def test_masking_leaves_the_loaded_configuration_untouched(
    write_config: WriteConfig,
) -> None:
    config = load_config(write_config(_SECRETS), environ={})

    masked_config(config)

    assert config.raw["connections"]["pg"]["config"]["Password"] == "hunter2"


def test_accessor_reads_the_published_configuration(write_config: WriteConfig) -> None:
    config = load_config(write_config("service: {port: 9090}\n"), environ={})

    set_current(config)

    assert interlace.config is current
    assert interlace.config["service"]["port"] == 9090
    assert interlace.config.get("service.port") == 9090
    assert interlace.config.get("service.host", "127.0.0.1") == "127.0.0.1"
    assert "service" in interlace.config


def test_accessor_without_a_project_returns_defaults_and_refuses_lookups() -> None:
    set_current(None)

    assert current.get("a.b", 5) == 5
    assert "a" not in current
    with pytest.raises(ConfigError, match="no project configuration is loaded"):
        current["a"]
