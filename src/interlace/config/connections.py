"""The `connections` section: warehouse connections and their attachments.

When a project declares no connection at all, an implicit DuckDB connection
named `default` is used, stored at `<project_dir>/.interlace/warehouse.duckdb`
(a file rather than `:memory:` so that runs, the CLI and the service see the
same data). Relative paths resolve against the project directory; parent
directories are created when a connection is opened, not here, so loading a
configuration never touches the disk.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from interlace.config.checks import Checker
from interlace.config.structs import AttachConfig, ConnectionConfig

__all__ = ["default_connection_name", "parse_connections"]

IMPLICIT_WAREHOUSE = Path(".interlace") / "warehouse.duckdb"

_ATTACH_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_ATTACH_TYPES = ("postgres", "mysql", "sqlite", "duckdb", "ducklake")
_POSTGRES_DEFAULTS = {"port": 5432}
_POOL_DEFAULTS = {"max_size": 20, "timeout": 10}


def parse_connections(
    raw: dict[str, Any], project_dir: Path, check: Checker
) -> dict[str, ConnectionConfig]:
    """Validate `connections`, or supply the implicit `default` connection."""
    section = check.section(raw, ("connections",))
    if not section:
        path = str(project_dir / IMPLICIT_WAREHOUSE)
        return {"default": ConnectionConfig(name="default", type="duckdb", path=path)}
    return {
        str(name): _connection(str(name), body, project_dir, check)
        for name, body in section.items()
    }


def default_connection_name(
    raw: dict[str, Any], connections: dict[str, ConnectionConfig], check: Checker
) -> str:
    """`executor.default_connection`, else `default`, else the first declared."""
    executor = check.section(raw, ("executor",))
    key_path = ("executor", "default_connection")
    chosen = check.string(executor, key_path, None)
    if chosen is not None:
        if chosen not in connections:
            known = ", ".join(f"`{name}`" for name in connections)
            check.fail(key_path, f"unknown connection `{chosen}`; declared: {known}")
        return str(chosen)
    if "default" in connections:
        return "default"
    return next(iter(connections))


def _connection(
    name: str, body: Any, project_dir: Path, check: Checker
) -> ConnectionConfig:
    where = ("connections", name)
    data = check.mapping(body, where)
    kind = check.choice(data, (*where, "type"), ("duckdb", "postgres"))
    access = check.choice(data, (*where, "access"), ("readwrite", "read"), "readwrite")
    if kind == "duckdb":
        return ConnectionConfig(
            name=name,
            type=kind,
            access=access,
            path=_resolve(
                check.string(data, (*where, "path"), ":memory:"), project_dir
            ),
            attach=_attachments(data, where, project_dir, check),
        )
    if "attach" in data:
        check.fail((*where, "attach"), "only `duckdb` connections can attach databases")
    config = check.section(data, (*where, "config"))
    pool = check.section(data, (*where, "pool"))
    return ConnectionConfig(
        name=name,
        type=kind,
        access=access,
        path="",
        config={**_POSTGRES_DEFAULTS, **config},
        pool={**_POOL_DEFAULTS, **pool},
    )


def _attachments(
    data: dict[str, Any], where: tuple[str, ...], project_dir: Path, check: Checker
) -> tuple[AttachConfig, ...]:
    entries = data.get("attach") or []
    if not isinstance(entries, list):
        check.fail((*where, "attach"), "expected a list of attachments")
    attachments = [
        _attachment(entry, (*where, "attach", index), project_dir, check)
        for index, entry in enumerate(entries)
    ]
    seen: set[str] = set()
    for index, attachment in enumerate(attachments):
        if attachment.name in seen:
            message = f"attachment name `{attachment.name}` is used twice"
            check.fail((*where, "attach", index, "name"), message)
        seen.add(attachment.name)
    return tuple(attachments)


def _attachment(
    entry: Any, where: tuple[str | int, ...], project_dir: Path, check: Checker
) -> AttachConfig:
    data = check.mapping(entry, where)
    name = check.string(data, (*where, "name"))
    if not _ATTACH_NAME.match(name):
        check.fail((*where, "name"), f"expected letters, digits or `_`, got {name!r}")
    kind = check.choice(data, (*where, "type"), _ATTACH_TYPES)
    config = check.section(data, (*where, "config"))
    if kind in ("postgres", "mysql"):
        for required in ("host", "database"):
            if not config.get(required):
                check.fail((*where, "config", required), f"is required for `{kind}`")
    path = check.string(data, (*where, "path"), None)
    if kind in ("sqlite", "duckdb") and path is None:
        check.fail((*where, "path"), f"is required for `{kind}`")
    catalog = check.string(data, (*where, "catalog"), None)
    if kind == "ducklake" and catalog is None:
        check.fail((*where, "catalog"), "is required for `ducklake`")
    return AttachConfig(
        name=name,
        type=kind,
        read_only=check.boolean(data, (*where, "read_only"), False),
        path=None if path is None else _resolve(path, project_dir),
        config=config,
        catalog=catalog,
        data_path=check.string(data, (*where, "data_path"), None),
    )


def _resolve(path: str, project_dir: Path) -> str:
    """Absolute file path; `:memory:` and URL-like paths (`md:`, `s3://`) stay."""
    if path.startswith(":") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", path):
        return path
    return str((project_dir / path).resolve())
