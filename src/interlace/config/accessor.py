"""`interlace.config` as user code sees it: the configuration of the project.

Discovery publishes the loaded configuration with `set_current` before it
imports model files, so model code can read settings both at import time and
while running: `config["service"]["port"]`, `config.get("a.b", default)`.
"""

from __future__ import annotations

from typing import Any

from interlace.config.structs import ProjectConfig, lookup
from interlace.errors import ConfigError

__all__ = ["ConfigAccessor", "current", "set_current"]


class ConfigAccessor:
    """A read-only view of the current project's resolved configuration."""

    def __init__(self) -> None:
        self._config: ProjectConfig | None = None

    @property
    def loaded(self) -> ProjectConfig | None:
        """The published configuration, or None outside a project."""
        return self._config

    def __getitem__(self, key: str) -> Any:
        return self._require()[key]

    def __contains__(self, key: object) -> bool:
        return self._config is not None and key in self._config.raw

    def get(self, dotted: str, default: Any = None) -> Any:
        """The value at a dotted path, or `default` (also outside a project)."""
        if self._config is None:
            return default
        return lookup(self._config.raw, dotted, default)

    def _require(self) -> ProjectConfig:
        if self._config is None:
            raise ConfigError(
                "no project configuration is loaded; load a project first "
                "(interlace.engine.project.Project.load)"
            )
        return self._config


current = ConfigAccessor()


def set_current(config: ProjectConfig | None) -> None:
    """Publish `config` as the one `interlace.config` returns (None clears)."""
    current._config = config
