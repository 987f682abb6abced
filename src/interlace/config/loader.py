"""The one configuration loader used by the CLI, the service and the API.

Steps, in this order: parse `config.yaml`; pick the environment (argument,
else `INTERLACE_ENV`, else `dev`); deep-merge `config.<env>.yaml`; interpolate
strings; validate into a `ProjectConfig`. Interpolation runs after merging so
that an overlay can use `{env}` and variables exactly like the base file.
"""

from __future__ import annotations

import logging
import os
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from interlace.config.checks import Checker
from interlace.config.connections import default_connection_name, parse_connections
from interlace.config.interpolation import interpolate
from interlace.config.source import Positions, read_yaml
from interlace.config.structs import ExecutorConfig, ProjectConfig
from interlace.errors import ConfigError
from interlace.retry import RetryPolicy

__all__ = ["CONFIG_FILE", "KNOWN_KEYS", "deep_merge", "load_config"]

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.yaml"
DEFAULT_ENV = "dev"
KNOWN_KEYS = frozenset(
    {
        "name", "description", "models_dir", "connections", "state", "models",
        "executor", "retry", "scheduler", "events", "streams", "service",
        "checks", "logging", "features",
    }
)  # fmt: skip
_MATERIALISATIONS = ("table", "view", "ephemeral", "none")
# Retry options that hold Python objects cannot be written in YAML.
_RETRY_KEYS = (
    "max_attempts",
    "initial_delay",
    "max_delay",
    "exponential_base",
    "jitter",
)


def load_config(
    project_dir: Path | str,
    env: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> ProjectConfig:
    """Load and validate the configuration of the project in `project_dir`.

    `environ` replaces `os.environ` for interpolation and `INTERLACE_ENV`.
    """
    environ = os.environ if environ is None else environ
    project_dir = Path(project_dir).resolve()
    base_file = project_dir / CONFIG_FILE
    if not base_file.is_file():
        raise ConfigError(f"Configuration file not found: {base_file}")
    env = env or environ.get("INTERLACE_ENV") or DEFAULT_ENV
    raw, positions, files = _read_merged(base_file, env)
    raw = interpolate(raw, env=env, environ=environ)
    return _build(raw, project_dir, env, files, Checker(positions))


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge recursively; any other overlay value replaces the base."""
    merged = dict(base)
    for key, value in overlay.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def _read_merged(
    base_file: Path, env: str
) -> tuple[dict[str, Any], Positions, tuple[Path, ...]]:
    raw, positions = _read_mapping(base_file)
    files = [base_file]
    overlay_file = base_file.with_name(f"config.{env}.yaml")
    if overlay_file.is_file():
        overlay, overlay_positions = _read_mapping(overlay_file)
        raw = deep_merge(raw, overlay)
        positions.update(overlay_positions)
        files.append(overlay_file)
        logger.debug("merged configuration overlay %s", overlay_file)
    return raw, positions, tuple(files)


def _read_mapping(path: Path) -> tuple[dict[str, Any], Positions]:
    data, positions = read_yaml(path)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else type(data).__name__
        raise ConfigError(f"expected a mapping at the top level, got {kind}", path=path)
    return data, positions


def _build(
    raw: dict[str, Any],
    project_dir: Path,
    env: str,
    files: tuple[Path, ...],
    check: Checker,
) -> ProjectConfig:
    _warn_unknown_keys(raw, files)
    state = check.section(raw, ("state",))
    models = check.section(raw, ("models",))
    scheduler = check.section(raw, ("scheduler",))
    streams = check.section(raw, ("streams",))
    connections = parse_connections(raw, project_dir, check)
    return ProjectConfig(
        project_dir=project_dir,
        env=env,
        raw=raw,
        name=check.string(raw, ("name",), project_dir.name),
        description=_text(raw, ("description",), check),
        models_dir=_path(raw, ("models_dir",), "models", project_dir, check),
        state_backend=check.choice(state, ("state", "backend"), ("sqlite",), "sqlite"),
        state_path=_path(
            state, ("state", "path"), ".interlace/state.db", project_dir, check
        ),
        default_schema=check.string(models, ("models", "default_schema"), "public"),
        default_materialise=check.choice(
            models, ("models", "default_materialise"), _MATERIALISATIONS, "table"
        ),
        streams_default_schema=check.string(
            streams, ("streams", "default_schema"), "events"
        ),
        connections=connections,
        default_connection=default_connection_name(raw, connections, check),
        executor=_executor(raw, check),
        retry=_retry(raw, check),
        scheduler_enabled=check.boolean(scheduler, ("scheduler", "enabled"), True),
        scheduler_timezone=_timezone(scheduler, ("scheduler", "timezone"), check),
        files=files,
    )


def _warn_unknown_keys(raw: dict[str, Any], files: tuple[Path, ...]) -> None:
    for key in raw:
        if key not in KNOWN_KEYS:
            logger.warning(
                "%s: unknown top-level key `%s` is ignored",
                ", ".join(str(path) for path in files),
                key,
            )


def _text(data: dict[str, Any], key_path: tuple[str, ...], check: Checker) -> str:
    value = data.get(key_path[-1]) or ""
    if not isinstance(value, str):
        check.fail(key_path, f"expected a string, got {type(value).__name__!r}")
    return value


def _path(
    data: dict[str, Any],
    key_path: tuple[str, ...],
    default: str,
    project_dir: Path,
    check: Checker,
) -> Path:
    relative: str = check.string(data, key_path, default)
    return (project_dir / relative).resolve()


def _executor(raw: dict[str, Any], check: Checker) -> ExecutorConfig:
    where = ("executor",)
    data = check.section(raw, where)
    return ExecutorConfig(
        max_workers=_max_workers(data, check),
        max_concurrent_runs=check.number(
            data, (*where, "max_concurrent_runs"), 4, integer=True, minimum=1
        ),
        task_timeout_s=check.number(data, (*where, "task_timeout_s"), None),
        progress_interval_s=float(
            check.number(data, (*where, "progress_interval_s"), 2.0)
        ),
        task_log_max_lines=check.number(
            data, (*where, "task_log_max_lines"), 10000, integer=True, minimum=0
        ),
    )


def _max_workers(data: dict[str, Any], check: Checker) -> int:
    if data.get("max_workers", "auto") == "auto":
        return min(32, 2 * (os.cpu_count() or 1) + 4)
    return int(
        check.number(data, ("executor", "max_workers"), None, integer=True, minimum=1)
    )


def _retry(raw: dict[str, Any], check: Checker) -> RetryPolicy:
    if raw.get("retry") is None:
        return RetryPolicy.NONE
    data = check.section(raw, ("retry",))
    for key in data:
        if key not in _RETRY_KEYS:
            allowed = ", ".join(f"`{name}`" for name in _RETRY_KEYS)
            check.fail(
                ("retry", key), f"unknown retry option; expected one of {allowed}"
            )
    check.number(data, ("retry", "max_attempts"), 0, integer=True, minimum=0)
    for key in ("initial_delay", "max_delay"):
        check.number(data, ("retry", key), 1.0)
    check.number(data, ("retry", "exponential_base"), 2.0, minimum=1)
    check.boolean(data, ("retry", "jitter"), True)
    try:
        return RetryPolicy.from_value(data)
    except (TypeError, ValueError) as exc:
        check.fail(("retry",), str(exc))


def _timezone(data: dict[str, Any], key_path: tuple[str, ...], check: Checker) -> str:
    name = check.string(data, key_path, "UTC")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        check.fail(key_path, f"unknown time zone {name!r}")
    return str(name)
