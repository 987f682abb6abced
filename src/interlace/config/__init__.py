"""Project configuration: loading, validation, masking and the user accessor.

`load_config` reads `config.yaml` plus an optional `config.<env>.yaml`
overlay into a frozen `ProjectConfig`; `current` is the object user code
reads as `interlace.config`.
"""

from __future__ import annotations

from interlace.config.accessor import ConfigAccessor, current, set_current
from interlace.config.interpolation import interpolate, interpolate_text
from interlace.config.loader import deep_merge, load_config
from interlace.config.masking import masked_config
from interlace.config.structs import (
    AttachConfig,
    ConnectionConfig,
    ExecutorConfig,
    ProjectConfig,
)

__all__ = [
    "AttachConfig",
    "ConfigAccessor",
    "ConnectionConfig",
    "ExecutorConfig",
    "ProjectConfig",
    "current",
    "deep_merge",
    "interpolate",
    "interpolate_text",
    "load_config",
    "masked_config",
    "set_current",
]
