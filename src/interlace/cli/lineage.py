"""`interlace lineage show|refresh`: model and column lineage (SPEC §8.2, §11).

Lineage is computed from model definitions, never by running them. With a
state store, `show` first recomputes stale lineage and stores it (as the
service does), then answers from the store; without one it computes in
memory and creates nothing. Known schemas include the live warehouse
catalog when the warehouse can be opened read-only (a running service holds
its lock; lineage is then traced without it).
"""

from __future__ import annotations

import enum
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from interlace.cli import lineage_render as render
from interlace.cli.console import console, err_console, print_error
from interlace.cli.options import EnvOption, ProjectDirOption, VerboseOption
from interlace.cli.session import EXIT_FAILURE, command_session
from interlace.errors import InterlaceError

if TYPE_CHECKING:
    from interlace.config import ProjectConfig
    from interlace.engine.project import Project
    from interlace.lineage.queries import ColumnLineage, Direction
    from interlace.lineage.store import RefreshReport
    from interlace.lineage.view import LineageView
    from interlace.lineage.warehouse_columns import CatalogColumns
    from interlace.state.records import SchemaVersionRecord

__all__ = ["LineageFormat", "lineage_app"]

logger = logging.getLogger(__name__)

lineage_app = typer.Typer(
    help="Inspect and refresh model and column lineage.", no_args_is_help=True
)


class LineageFormat(enum.StrEnum):
    TREE = "tree"
    TABLE = "table"
    JSON = "json"
    DOT = "dot"


@lineage_app.command("show")
def show(
    model: Annotated[str, typer.Argument(help="Model name.", show_default=False)],
    column: Annotated[
        str | None,
        typer.Option(
            "--column", "-c", help="Trace this column instead.", show_default=False
        ),
    ] = None,
    upstream: Annotated[
        bool, typer.Option("--upstream", help="Only what MODEL reads from.")
    ] = False,
    downstream: Annotated[
        bool, typer.Option("--downstream", help="Only what reads MODEL.")
    ] = False,
    depth: Annotated[
        int, typer.Option("--depth", min=0, max=100, help="Hops to follow.")
    ] = 3,
    output_format: Annotated[
        LineageFormat, typer.Option("--format", help="Output format.")
    ] = LineageFormat.TREE,
    project_dir: ProjectDirOption = Path(),
    env: EnvOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Show the lineage of MODEL, or of one of its columns with --column."""
    with command_session(verbose):
        from interlace.engine.project import Project

        project = Project.load(project_dir, env)
        definition = project.model(model)
        direction = _direction(upstream, downstream)
        loaded = _load(project, definition.name)
        if column is None:
            _show_model(project, model, loaded, direction, depth, output_format)
            return
        view = loaded[0]
        lineage = view.index.column_lineage(
            definition.name, column, direction=direction, depth=depth
        )
        if lineage is None:
            print_error(f"Column '{column}' not found in model '{model}'")
            raise typer.Exit(EXIT_FAILURE)
        _show_column(lineage, output_format)
        _warn_error(view, model)


@lineage_app.command("refresh")
def refresh(
    models: Annotated[
        list[str] | None,
        typer.Argument(help="Models to recompute; default all.", show_default=False),
    ] = None,
    project_dir: ProjectDirOption = Path(),
    env: EnvOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Recompute and store the column lineage of models."""
    with command_session(verbose):
        from interlace.engine.project import Project
        from interlace.lineage.store import refresh as refresh_lineage
        from interlace.state import open_state_store

        project = Project.load(project_dir, env)
        config = project.config
        catalog = _catalog_columns(config)
        store = open_state_store(config.state_backend, config.state_path)
        try:
            report = refresh_lineage(
                project, store, models or None, catalog_columns=catalog
            )
        finally:
            store.close()
        _print_report(report)
        if not report.ok:
            raise typer.Exit(EXIT_FAILURE)


def _direction(upstream: bool, downstream: bool) -> Direction:
    if upstream and not downstream:
        return "upstream"
    if downstream and not upstream:
        return "downstream"
    return "both"


def _load(
    project: Project, model: str
) -> tuple[LineageView, SchemaVersionRecord | None]:
    """Current lineage of the project and the model's latest schema version."""
    from interlace.lineage.store import current_lineage, ensure_current, stored_lineage
    from interlace.state import open_state_store

    config = project.config
    catalog = _catalog_columns(config)
    if not config.state_path.exists():
        return current_lineage(project, None, catalog_columns=catalog), None
    store = open_state_store(config.state_backend, config.state_path)
    try:
        ensure_current(project, store, catalog_columns=catalog)
        return stored_lineage(project, store), store.latest_schema_version(model)
    finally:
        store.close()


def _catalog_columns(config: ProjectConfig) -> CatalogColumns | None:
    """Columns of existing warehouse tables, or None when unavailable."""
    from interlace.lineage.warehouse_columns import read_catalog_columns
    from interlace.runtime.runtime import open_warehouses

    try:
        warehouses = open_warehouses(_read_only(config))
    except InterlaceError as exc:
        logger.info("lineage traced without the warehouse catalog: %s", exc)
        return None
    try:
        return read_catalog_columns(warehouses)
    except InterlaceError as exc:
        logger.info("lineage traced without the warehouse catalog: %s", exc)
        return None
    finally:
        for warehouse in warehouses.values():
            warehouse.close()


def _read_only(config: ProjectConfig) -> ProjectConfig:
    """Existing DuckDB files opened read-only; missing ones left out, so that
    showing lineage never creates a warehouse."""
    import msgspec

    connections = {}
    for name, connection in config.connections.items():
        if connection.type != "duckdb":
            continue
        if connection.path.startswith(":") or not Path(connection.path).exists():
            continue
        connections[name] = msgspec.structs.replace(connection, access="read")
    return msgspec.structs.replace(config, connections=connections)


def _show_model(
    project: Project,
    model: str,
    loaded: tuple[LineageView, SchemaVersionRecord | None],
    direction: Direction,
    depth: int,
    output_format: LineageFormat,
) -> None:
    from interlace.lineage.documents import columns_document, model_lineage_document
    from interlace.lineage.models import model_lineage

    view, latest = loaded
    lineage = model_lineage(project.graph, model, direction=direction, depth=depth)
    columns = columns_document(view, project.model(model), latest)
    if output_format is LineageFormat.JSON:
        document = {
            **model_lineage_document(lineage, project.models),
            "columns": columns["columns"],
        }
        if "lineage_error" in columns:
            document["lineage_error"] = columns["lineage_error"]
        console.out(json.dumps(document, indent=2), highlight=False)
        return
    if output_format is LineageFormat.DOT:
        console.out(render.model_dot(lineage), highlight=False)
        return
    if output_format is LineageFormat.TABLE:
        console.print(render.model_table(lineage))
    else:
        console.print(render.model_tree(lineage))
    console.print(render.columns_table(model, columns["columns"]))
    _warn_error(view, model)


def _show_column(lineage: ColumnLineage, output_format: LineageFormat) -> None:
    from interlace.lineage.documents import column_lineage_document

    if output_format is LineageFormat.JSON:
        document = column_lineage_document(lineage)
        console.out(json.dumps(document, indent=2), highlight=False)
    elif output_format is LineageFormat.DOT:
        console.out(render.column_dot(lineage), highlight=False)
    elif output_format is LineageFormat.TABLE:
        console.print(render.column_table(lineage))
    else:
        console.print(render.column_tree(lineage))


def _warn_error(view: LineageView, model: str) -> None:
    error = view.error(model)
    if error is not None:
        err_console.print(
            f"[yellow]Warning:[/] lineage of '{model}' could not be computed: {error}",
            markup=True,
            highlight=False,
        )


def _print_report(report: RefreshReport) -> None:
    console.print(
        f"Lineage refreshed for {len(report.models)} model(s): "
        f"{report.success} ok, {report.errors} error(s)",
        markup=False,
    )
    for detail in report.error_details:
        console.print(f"  {detail.model}: {detail.error}", markup=False)
