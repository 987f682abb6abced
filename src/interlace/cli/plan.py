"""`interlace plan`: what `run` would do now, without running anything.

The plan reads recorded model state and the warehouse catalog but writes
neither: a missing state store or warehouse file is treated as empty instead
of being created, and existing DuckDB files are opened read-only.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from interlace.cli.console import console
from interlace.cli.options import (
    EnvOption,
    ForceOption,
    NoUpstreamOption,
    ProjectDirOption,
    SelectorsArgument,
    SinceOption,
    UntilOption,
    VerboseOption,
)
from interlace.cli.session import command_session

if TYPE_CHECKING:
    from interlace.config import ProjectConfig
    from interlace.engine.project import Project
    from interlace.runtime.plan import LiveColumns
    from interlace.state.records import ModelStateRecord

__all__ = ["PlanFormat", "plan", "plan_summary"]


class PlanFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    SUMMARY = "summary"


def plan(
    selectors: SelectorsArgument = None,
    force: ForceOption = False,
    since: SinceOption = None,
    until: UntilOption = None,
    no_upstream: NoUpstreamOption = False,
    output_format: Annotated[
        PlanFormat, typer.Option("--format", help="Output format.")
    ] = PlanFormat.TABLE,
    project_dir: ProjectDirOption = Path(),
    env: EnvOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Show which models a run would execute, and why."""
    with command_session(verbose):
        from interlace.cli.schema import recorded_store
        from interlace.engine.project import Project
        from interlace.runtime.plan import build_plan

        project = Project.load(project_dir, env)
        states = _model_states(project.config)
        catalog, columns = _catalog(project)
        with recorded_store(project.config) as store:
            body = build_plan(
                project,
                selectors=selectors or None,
                force=force,
                since=since,
                until=until,
                no_upstream=no_upstream,
                model_states=states,
                catalog=catalog,
                columns=columns,
                store=store,
            )
        _render(body, output_format)


def _model_states(config: ProjectConfig) -> dict[str, ModelStateRecord]:
    from interlace.state import open_state_store

    if not config.state_path.exists():
        return {}
    store = open_state_store(config.state_backend, config.state_path)
    try:
        return store.model_states()
    finally:
        store.close()


def _catalog(project: Project) -> tuple[set[tuple[str, str, str]], LiveColumns]:
    from interlace.cli.schema import recorded_store
    from interlace.runtime.plan import read_live_columns
    from interlace.runtime.runtime import open_warehouses
    from interlace.runtime.upstreams import catalog_snapshot

    warehouses = open_warehouses(_read_only(project.config))
    try:
        catalog = catalog_snapshot(warehouses)
        with recorded_store(project.config) as store:
            columns = read_live_columns(project, warehouses, catalog, store=store)
        return catalog, columns
    finally:
        for warehouse in warehouses.values():
            warehouse.close()


def _read_only(config: ProjectConfig) -> ProjectConfig:
    """The configuration with existing DuckDB files opened read-only.

    DuckDB connections whose file does not exist yet (or in memory) hold no
    tables, so they are left out rather than created.
    """
    import msgspec

    connections = {}
    for name, connection in config.connections.items():
        if connection.type == "duckdb":
            if connection.path.startswith(":") or not Path(connection.path).exists():
                continue
            connection = msgspec.structs.replace(connection, access="read")
        connections[name] = connection
    return msgspec.structs.replace(config, connections=connections)


def _render(body: dict[str, Any], output_format: PlanFormat) -> None:
    if output_format is PlanFormat.JSON:
        console.out(json.dumps(body, indent=2), highlight=False)
        return
    if output_format is PlanFormat.TABLE:
        console.print(_table(body))
    console.print(plan_summary(body), markup=False, highlight=False)


def _table(body: dict[str, Any]) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for column in ("model", "action", "reason"):
        table.add_column(column, no_wrap=True)
    table.add_column("upstream changed", overflow="fold")
    table.add_column("schema changes", justify="right")
    for entry in [*body["models_to_run"], *body["models_skipped"]]:
        if entry["will_run"]:
            changes = len(entry["schema_changes"])
            table.add_row(
                entry["model_name"],
                "[green]run[/]",
                entry["run_reason"],
                ", ".join(entry["upstream_changed"]),
                str(changes) if changes else "",
            )
        else:
            table.add_row(entry["model_name"], "[yellow]skip[/]", entry["skip_reason"])
    return table


def plan_summary(body: dict[str, Any]) -> str:
    """`Plan: 3 model(s) to run, 2 skipped, 0 breaking change(s)`."""
    summary = body["summary"]
    return (
        f"Plan: {summary['will_run']} model(s) to run, {summary['skipped']} skipped, "
        f"{len(body['breaking_changes'])} breaking change(s)"
    )
