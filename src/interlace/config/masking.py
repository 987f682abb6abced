"""Masking secrets before a configuration is shown (`config show`, the API)."""

from __future__ import annotations

from typing import Any

from interlace.config.structs import ProjectConfig

__all__ = ["MASK", "SECRET_KEYS", "masked_config"]

MASK = "***"
SECRET_KEYS = frozenset(
    {
        "password", "secret", "token", "key", "api_key", "apikey",
        "credentials", "private_key",
    }
)  # fmt: skip


def masked_config(config: ProjectConfig) -> dict[str, Any]:
    """The resolved configuration with every secret value replaced by `***`.

    A value is secret when its key is one of `SECRET_KEYS` (any case); this
    covers `service.auth.api_keys[*].key`. Null values stay null so that an
    unset secret remains visible as such.
    """
    masked = _mask(config.raw)
    assert isinstance(masked, dict)
    return masked


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _mask_entry(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value]
    return value


def _mask_entry(key: Any, value: Any) -> Any:
    if value is not None and str(key).lower() in SECRET_KEYS:
        return MASK
    return _mask(value)
