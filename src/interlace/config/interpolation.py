"""String interpolation for configuration values.

Supported forms, applied to every string value (never to keys):

- `${NAME}`: the environment variable; left verbatim when unset, so that a
  missing secret stays visible (and rejectable) instead of becoming "".
- `${NAME:-default}`: the variable, or `default` when it is unset or empty.
  The default may itself contain `{env}`.
- `$${NAME}`: the literal text `${NAME}`.
- `{env}`: the active environment name (`dev`, `prod`, ...).

Substituted values are not interpolated again, so a variable holding `${X}`
cannot smuggle in another lookup.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["interpolate", "interpolate_text"]

logger = logging.getLogger(__name__)

_PATTERN = re.compile(
    r"\$\$\{(?P<literal>[^}]*)\}"
    r"|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>(?:[^{}]|\{env\})*))?\}"
    r"|\{env\}"
)


def interpolate(
    value: Any, *, env: str, environ: Mapping[str, str], where: str = ""
) -> Any:
    """Interpolate every string inside `value` (mappings and lists recursively).

    `where` is the key path used in warnings about unset variables.
    """
    if isinstance(value, str):
        return interpolate_text(value, env=env, environ=environ, where=where)
    if isinstance(value, dict):
        return {
            key: interpolate(item, env=env, environ=environ, where=_child(where, key))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            interpolate(item, env=env, environ=environ, where=f"{where}[{index}]")
            for index, item in enumerate(value)
        ]
    return value


def interpolate_text(
    text: str, *, env: str, environ: Mapping[str, str], where: str = ""
) -> str:
    """Interpolate one string; see the module docstring for the forms."""

    def substitute(match: re.Match[str]) -> str:
        if match.group("literal") is not None:
            return "${" + match.group("literal") + "}"
        name = match.group("name")
        if name is None:
            return env
        current = environ.get(name)
        default = match.group("default")
        if default is not None:
            return current if current else default.replace("{env}", env)
        if current is None:
            logger.warning(
                "`%s`: environment variable `%s` is not set; left as `${%s}`",
                where or "$",
                name,
                name,
            )
            return match.group(0)
        return current

    return _PATTERN.sub(substitute, text)


def _child(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)
