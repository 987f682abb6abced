"""`interlace schema history|diff`: recorded schema versions of a model.

Both commands read the state store directly and write nothing: a project
whose state database does not exist yet has no recorded versions, and is
answered from `fields` as the API does (SPEC §10.11).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from interlace.cli.console import console, print_error
from interlace.cli.options import EnvOption, ProjectDirOption, VerboseOption
from interlace.cli.session import EXIT_FAILURE, command_session

if TYPE_CHECKING:
    from interlace.config import ProjectConfig
    from interlace.engine.definition import ModelDefinition
    from interlace.engine.schema_history import SchemaDiff, SchemaVersionView
    from interlace.state.store import StateStore

__all__ = ["SchemaFormat", "recorded_store", "schema_app"]

HISTORY_LIMIT = 1000
"""Versions `schema history` shows at most (newest first)."""

schema_app = typer.Typer(
    help="Inspect the recorded schema versions of models.", no_args_is_help=True
)

ModelArgument = Annotated[str, typer.Argument(help="Model name.", show_default=False)]


class SchemaFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"


FormatOption = Annotated[SchemaFormat, typer.Option("--format", help="Output format.")]


@schema_app.command("history")
def history(
    model: ModelArgument,
    output_format: FormatOption = SchemaFormat.TABLE,
    project_dir: ProjectDirOption = Path(),
    env: EnvOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Show every schema version of MODEL with its columns, newest first."""
    with command_session(verbose):
        from interlace.engine.schema_history import schema_history, version_document

        definition, config = _model(project_dir, env, model)
        with recorded_store(config) as store:
            versions, total = schema_history(store, definition, limit=HISTORY_LIMIT)
        if output_format is SchemaFormat.JSON:
            body = {
                "model": model,
                "versions": [version_document(version) for version in versions],
                "total": total,
            }
            console.out(json.dumps(body, indent=2), highlight=False)
            return
        _print_history(model, versions)


@schema_app.command("diff")
def diff(
    model: ModelArgument,
    from_version: Annotated[
        int | None,
        typer.Option(
            "--from",
            help="Old version; default the one before `--to`.",
            show_default=False,
        ),
    ] = None,
    to_version: Annotated[
        int, typer.Option("--to", help="New version; 0 is the current one.")
    ] = 0,
    output_format: FormatOption = SchemaFormat.TABLE,
    project_dir: ProjectDirOption = Path(),
    env: EnvOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Compare two schema versions of MODEL column by column."""
    with command_session(verbose):
        from interlace.engine.schema_history import (
            diff_document,
            diff_schemas,
            schema_at,
        )

        definition, config = _model(project_dir, env, model)
        with recorded_store(config) as store:
            new = _version(schema_at(store, definition, to_version), model, to_version)
            old_number = (
                max(new.version - 1, 1) if from_version is None else from_version
            )
            old = _version(schema_at(store, definition, old_number), model, old_number)
        changes = diff_schemas(old, new)
        if output_format is SchemaFormat.JSON:
            body = diff_document(model, changes)
            console.out(json.dumps(body, indent=2), highlight=False)
            return
        _print_diff(model, changes)


@contextmanager
def recorded_store(config: ProjectConfig) -> Iterator[StateStore | None]:
    """The project's state store, or None when it was never created.

    Commands that only read must not create a state database as a side
    effect, so a missing file is reported as "no history" instead.
    """
    from interlace.state import open_state_store

    if not config.state_path.exists():
        yield None
        return
    store = open_state_store(config.state_backend, config.state_path)
    try:
        yield store
    finally:
        store.close()


def _model(
    project_dir: Path, env: str | None, name: str
) -> tuple[ModelDefinition, ProjectConfig]:
    from interlace.engine.project import Project

    project = Project.load(project_dir, env)
    return project.model(name), project.config


def _version(
    found: SchemaVersionView | None, model: str, number: int
) -> SchemaVersionView:
    if found is None:
        print_error(f"Model '{model}' has no schema version {number}")
        raise typer.Exit(EXIT_FAILURE)
    return found


def _print_history(model: str, versions: list[SchemaVersionView]) -> None:
    if not versions:
        console.print(
            f"Model '{model}' has no schema history yet (not materialised, "
            "no `fields`).",
            markup=False,
        )
        return
    for version in versions:
        console.print(_version_table(version))


def _version_table(version: SchemaVersionView) -> Table:
    detected = (
        "not materialised yet (from `fields`)"
        if version.detected_at is None
        else f"detected {version.detected_at.isoformat(timespec='seconds')}"
    )
    table = Table(
        title=f"Version {version.version}: {detected}",
        title_justify="left",
        show_edge=False,
        header_style="bold",
    )
    for header in ("column", "type", "nullable", "primary key"):
        table.add_column(header, no_wrap=True)
    for column in version.columns:
        table.add_row(
            column.name,
            column.type,
            "yes" if column.nullable else "no",
            "yes" if column.is_primary_key else "",
        )
    return table


_STYLES = {"added": "green", "removed": "red", "modified": "yellow"}


def _print_diff(model: str, changes: SchemaDiff) -> None:
    table = Table(
        title=(f"{model}: version {changes.from_version} -> {changes.to_version}"),
        title_justify="left",
        show_edge=False,
        header_style="bold",
    )
    for header in ("column", "change", "old type", "new type"):
        table.add_column(header, no_wrap=True)
    for column in changes.columns:
        style = _STYLES.get(column.change.value, "")
        table.add_row(
            column.name,
            column.change.value,
            column.old_type or "",
            column.new_type or "",
            style=style,
        )
    console.print(table)
