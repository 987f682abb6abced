"""The `service` section of the configuration, validated once at start-up.

A mistake here must stop the service before it listens: an API key that
still reads `${MONITORING_KEY}` would otherwise become a password anyone can
guess. Errors point at the file and line where the key was written (the
configuration files are re-read for their positions only).
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any, NoReturn

import msgspec

from interlace.config import ProjectConfig
from interlace.config.checks import Checker, dotted
from interlace.config.source import KeyPath, Positions, read_yaml
from interlace.errors import ConfigError

__all__ = [
    "DEFAULT_WHITELIST",
    "PERMISSIONS",
    "ApiKey",
    "AuthSettings",
    "IPNetwork",
    "RateLimitSettings",
    "ServiceSettings",
    "SseSettings",
    "parse_service_settings",
    "service_settings",
]

logger = logging.getLogger(__name__)

PERMISSIONS = ("read", "write", "execute")

DEFAULT_WHITELIST = (
    "/api/v1/health",
    "/api/v1/ready",
    "/api/docs*",
    "/api/openapi.*",
)
"""Probes and documentation stay reachable without a key unless overridden."""

_KNOWN_KEYS = frozenset(
    {
        "host",
        "port",
        "cors_origins",
        "auth",
        "sse",
        "shutdown",
        "metrics",
        "trusted_proxies",
    }
)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class _Checker(Checker):
    """A `Checker` that can also fail with a label naming a list entry."""

    def __init__(self, positions: Positions) -> None:
        super().__init__(positions)
        self._where = positions

    def fail_entry(self, key_path: KeyPath, label: str, message: str) -> NoReturn:
        """Raise `<label>: <message>`, located at `key_path`."""
        location = self._where.locate(key_path)
        if location is None:
            raise ConfigError(f"{label}: {message}")
        path, line, column = location
        raise ConfigError(f"{label}: {message}", path=path, line=line, column=column)


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of `service.auth.api_keys`; `name` is what logs and runs show."""

    name: str
    key: str
    permissions: frozenset[str]

    def __repr__(self) -> str:
        # The secret must never reach a log line or a traceback.
        return f"ApiKey(name={self.name!r}, permissions={sorted(self.permissions)})"


class RateLimitSettings(msgspec.Struct, frozen=True, kw_only=True):
    """`service.auth.rate_limit`: one token bucket per key or client."""

    requests_per_second: float
    burst: int
    """Bucket capacity; defaults to twice `requests_per_second`."""


class AuthSettings(msgspec.Struct, frozen=True, kw_only=True):
    """`service.auth`; `whitelist` entries ending in `*` match as prefixes."""

    enabled: bool = False
    api_keys: tuple[ApiKey, ...] = ()
    whitelist: tuple[str, ...] = DEFAULT_WHITELIST
    rate_limit: RateLimitSettings | None = None
    """None when `service.auth.rate_limit` is absent: no limiting."""


class SseSettings(msgspec.Struct, frozen=True, kw_only=True):
    """`service.sse`: keepalive period, per-subscriber buffer, subscriber cap."""

    keepalive_seconds: float = 30.0
    buffer_size: int = 1000
    max_subscribers: int = 1000


class ServiceSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The validated `service` section; `run_service` arguments override host/port."""

    host: str = "127.0.0.1"
    port: int = 8080
    cors_origins: tuple[str, ...] = ()
    auth: AuthSettings = AuthSettings()
    sse: SseSettings = SseSettings()
    grace_seconds: float = 30.0
    """`service.shutdown.grace_seconds`: how long running tasks may finish."""
    metrics_enabled: bool = True
    trusted_proxies: tuple[IPNetwork, ...] = ()


def service_settings(config: ProjectConfig) -> ServiceSettings:
    """Validate `service` of a loaded project, locating errors in its files."""
    positions = Positions()
    for path in config.files:
        positions.update(read_yaml(path)[1])
    return parse_service_settings(config.raw.get("service"), positions)


def parse_service_settings(
    raw: Any, positions: Positions | None = None
) -> ServiceSettings:
    """Validate a resolved `service` mapping (None means every default).

    `positions` locates keys in the configuration files for error messages.
    """
    check = _Checker(positions or Positions())
    data = check.mapping(raw, ("service",))
    for key in sorted(set(data) - _KNOWN_KEYS):
        logger.warning("`service.%s` is not a known service setting; ignored", key)
    shutdown = check.section(data, ("service", "shutdown"))
    metrics = check.section(data, ("service", "metrics"))
    return ServiceSettings(
        host=check.string(data, ("service", "host"), "127.0.0.1"),
        port=_port(data, check),
        cors_origins=_strings(data, ("service", "cors_origins"), check),
        auth=_auth(check.section(data, ("service", "auth")), check),
        sse=_sse(check.section(data, ("service", "sse")), check),
        grace_seconds=_non_negative(
            shutdown, ("service", "shutdown", "grace_seconds"), 30.0, check
        ),
        metrics_enabled=check.boolean(metrics, ("service", "metrics", "enabled"), True),
        trusted_proxies=_networks(data, check),
    )


def _port(data: dict[str, Any], check: _Checker) -> int:
    key_path = ("service", "port")
    port: int = check.number(data, key_path, 8080, integer=True, minimum=1)
    if port > 65535:
        check.fail(key_path, f"expected a TCP port between 1 and 65535, got {port}")
    return port


def _auth(data: dict[str, Any], check: _Checker) -> AuthSettings:
    where = ("service", "auth")
    whitelist = (
        _strings(data, (*where, "whitelist"), check)
        if "whitelist" in data
        else DEFAULT_WHITELIST
    )
    settings = AuthSettings(
        enabled=check.boolean(data, (*where, "enabled"), False),
        api_keys=_api_keys(data, check),
        whitelist=whitelist,
        rate_limit=_rate_limit(data, check),
    )
    if settings.enabled and not settings.api_keys:
        logger.warning(
            "`service.auth.enabled` is true but no `api_keys` are configured: "
            "every /api/ request outside the whitelist will be refused"
        )
    return settings


def _api_keys(data: dict[str, Any], check: _Checker) -> tuple[ApiKey, ...]:
    where: KeyPath = ("service", "auth", "api_keys")
    entries = data.get("api_keys") or []
    if not isinstance(entries, list):
        check.fail(where, "expected a list of API keys")
    keys = [
        _api_key(entry, (*where, index), check) for index, entry in enumerate(entries)
    ]
    _reject_duplicates(keys, where, check)
    return tuple(keys)


def _api_key(entry: Any, where: KeyPath, check: _Checker) -> ApiKey:
    data = check.mapping(entry, where)
    name: str = check.string(data, (*where, "name"))
    key = data.get("key")
    label = f"{dotted(where)} ('{name}')"
    if not isinstance(key, str) and key is not None:
        check.fail((*where, "key"), f"expected a string, got {type(key).__name__!r}")
    if not key or not key.strip():
        check.fail_entry((*where, "key"), label, "key is empty")
    if "${" in key:
        message = "key references an unset environment variable"
        check.fail_entry((*where, "key"), label, message)
    return ApiKey(name=name, key=key, permissions=_permissions(data, where, check))


def _permissions(
    data: dict[str, Any], where: KeyPath, check: _Checker
) -> frozenset[str]:
    key_path = (*where, "permissions")
    if "permissions" not in data:
        return frozenset({"read"})
    values = _strings(data, key_path, check)
    unknown = sorted(set(values) - set(PERMISSIONS))
    if unknown:
        expected = ", ".join(f"`{name}`" for name in PERMISSIONS)
        check.fail(key_path, f"unknown permission `{unknown[0]}`; expected {expected}")
    return frozenset(values)


def _reject_duplicates(keys: list[ApiKey], where: KeyPath, check: _Checker) -> None:
    names: dict[str, int] = {}
    secrets: dict[str, int] = {}
    for index, key in enumerate(keys):
        label = f"{dotted((*where, index))} ('{key.name}')"
        if key.name in names:
            first = dotted((*where, names[key.name]))
            message = f"duplicate key name `{key.name}` (also {first})"
            check.fail_entry((*where, index, "name"), label, message)
        if key.key in secrets:
            first = dotted((*where, secrets[key.key]))
            message = f"duplicate key value (same key as {first})"
            check.fail_entry((*where, index, "key"), label, message)
        names[key.name] = index
        secrets[key.key] = index


def _rate_limit(data: dict[str, Any], check: _Checker) -> RateLimitSettings | None:
    where = ("service", "auth", "rate_limit")
    if data.get("rate_limit") is None:
        return None
    section = check.section(data, where)
    rps: float = check.number(section, (*where, "requests_per_second"), None)
    if rps is None:
        check.fail((*where, "requests_per_second"), "is required (a number > 0)")
    default_burst = max(1, round(2 * rps))
    burst: int = check.number(
        section, (*where, "burst"), default_burst, integer=True, minimum=1
    )
    return RateLimitSettings(requests_per_second=float(rps), burst=burst)


def _sse(data: dict[str, Any], check: _Checker) -> SseSettings:
    where = ("service", "sse")
    return SseSettings(
        keepalive_seconds=float(
            check.number(data, (*where, "keepalive_seconds"), 30.0)
        ),
        buffer_size=check.number(
            data, (*where, "buffer_size"), 1000, integer=True, minimum=1
        ),
        max_subscribers=check.number(
            data, (*where, "max_subscribers"), 1000, integer=True, minimum=1
        ),
    )


def _non_negative(
    data: dict[Any, Any], key_path: KeyPath, default: float, check: _Checker
) -> float:
    value = data.get(key_path[-1], default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        check.fail(key_path, f"expected a number >= 0, got {value!r}")
    return float(value)


def _strings(
    data: dict[Any, Any], key_path: KeyPath, check: _Checker
) -> tuple[str, ...]:
    values = data.get(key_path[-1])
    if values is None:
        return ()
    if not isinstance(values, list):
        check.fail(key_path, f"expected a list of strings, got {values!r}")
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value:
            check.fail(
                (*key_path, index), f"expected a non-empty string, got {value!r}"
            )
    return tuple(values)


def _networks(data: dict[str, Any], check: _Checker) -> tuple[IPNetwork, ...]:
    key_path = ("service", "trusted_proxies")
    networks = []
    for index, text in enumerate(_strings(data, key_path, check)):
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            message = f"expected an IP address or network (CIDR), got {text!r}"
            check.fail((*key_path, index), message)
    return tuple(networks)
