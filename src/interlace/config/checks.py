"""Typed reads from the resolved configuration with located error messages.

Every read names its key path; a wrong value becomes a `ConfigError` such as
`connections.ops.type: expected 'duckdb' or 'postgres', got 'mysql'`, placed
at the file, line and column where that key was written.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, NoReturn

from interlace.config.source import KeyPath, Positions
from interlace.errors import ConfigError

__all__ = ["Checker", "dotted"]

_MISSING: Any = object()


def dotted(key_path: KeyPath) -> str:
    """`("service", "auth", "api_keys", 1)` -> `service.auth.api_keys[1]`."""
    text = ""
    for part in key_path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "$"


class Checker:
    """Reads typed values out of nested mappings, failing at the right line."""

    def __init__(self, positions: Positions) -> None:
        self._positions = positions

    def fail(self, key_path: KeyPath, message: str) -> NoReturn:
        location = self._positions.locate(key_path)
        text = f"{dotted(key_path)}: {message}"
        if location is None:
            raise ConfigError(text)
        path, line, column = location
        raise ConfigError(text, path=path, line=line, column=column)

    def mapping(self, data: Any, key_path: KeyPath) -> dict[str, Any]:
        """`data` itself as a mapping (None counts as empty)."""
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.fail(key_path, f"expected a mapping, got {_kind(data)}")
        return data

    def section(self, data: dict[Any, Any], key_path: KeyPath) -> dict[str, Any]:
        """The mapping stored under the last key of `key_path`."""
        return self.mapping(data.get(key_path[-1]), key_path)

    def string(
        self, data: dict[Any, Any], key_path: KeyPath, default: Any = _MISSING
    ) -> Any:
        value = self._value(data, key_path, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or not value:
            self.fail(key_path, f"expected a non-empty string, got {_shown(value)}")
        return value

    def choice(
        self,
        data: dict[Any, Any],
        key_path: KeyPath,
        choices: Collection[str],
        default: str | None = None,
    ) -> str:
        """One of `choices`; required when `default` is None."""
        quoted = [f"'{choice}'" for choice in choices]
        options = (
            " or ".join(quoted) if len(quoted) <= 2 else "one of " + ", ".join(quoted)
        )
        value: Any = data.get(key_path[-1], default)
        if value is None:
            self.fail(key_path, f"is required (expected {options})")
        if value not in choices:
            self.fail(key_path, f"expected {options}, got {_shown(value)}")
        return str(value)

    def boolean(self, data: dict[Any, Any], key_path: KeyPath, default: bool) -> bool:
        value = data.get(key_path[-1], default)
        if not isinstance(value, bool):
            self.fail(key_path, f"expected true or false, got {_shown(value)}")
        return value

    def number(
        self,
        data: dict[Any, Any],
        key_path: KeyPath,
        default: float | None,
        *,
        integer: bool = False,
        minimum: float = 0,
    ) -> Any:
        """A number >= `minimum` (> 0 when `minimum` is 0 and not integer)."""
        value: Any = data.get(key_path[-1], default)
        if value is None and default is None:
            return None
        expected = "an integer" if integer else "a number"
        valid_type = isinstance(value, int if integer else (int, float))
        if isinstance(value, bool) or not valid_type:
            self.fail(key_path, f"expected {expected}, got {_shown(value)}")
        strictly_positive = minimum == 0 and not integer
        if value < minimum or (strictly_positive and value == 0):
            bound = "> 0" if strictly_positive else f">= {minimum:g}"
            self.fail(key_path, f"expected {expected} {bound}, got {value!r}")
        return value

    def _value(self, data: dict[Any, Any], key_path: KeyPath, default: Any) -> Any:
        value = data.get(key_path[-1], _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                self.fail(key_path, "is required")
            return default
        return value


def _kind(value: Any) -> str:
    return "a list" if isinstance(value, list) else f"{type(value).__name__!r}"


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "null"
    return f"{value!r} ({type(value).__name__})"
