"""`interlace info`: the project, its connections and its models."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from interlace.cli.console import console
from interlace.cli.options import EnvOption, ProjectDirOption, VerboseOption
from interlace.cli.session import command_session

if TYPE_CHECKING:
    from interlace.config import ConnectionConfig
    from interlace.engine.definition import ModelDefinition
    from interlace.engine.project import Project

__all__ = ["info", "schedule_display"]


def info(
    project_dir: ProjectDirOption = Path(),
    env: EnvOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Show the project, environment, connections and models."""
    with command_session(verbose):
        from interlace.engine.project import Project

        project = Project.load(project_dir, env)
        config = project.config
        console.print(f"[bold]Project[/]      {config.name}", highlight=False)
        console.print(f"[bold]Environment[/]  {config.env}", highlight=False)
        console.print(f"[bold]Directory[/]    {config.project_dir}", highlight=False)
        console.print(_connections_table(project))
        console.print(_models_table(project))


def _connections_table(project: Project) -> Table:
    config = project.config
    table = Table(title="Connections", title_justify="left", show_edge=False)
    table.add_column("name", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("path", overflow="fold")
    table.add_column("default", no_wrap=True)
    for name, connection in config.connections.items():
        default = "yes" if name == config.default_connection else ""
        table.add_row(name, connection.type, _location(connection), default)
    return table


def _location(connection: ConnectionConfig) -> str:
    if connection.type == "duckdb":
        return connection.path
    settings = connection.config
    return f"{settings.get('host', '')}:{settings.get('port', '')}/" + str(
        settings.get("database", "")
    )


def _models_table(project: Project) -> Table:
    table = Table(
        title=f"Models ({len(project.models)})", title_justify="left", show_edge=False
    )
    for column in ("name", "type", "materialise", "strategy"):
        table.add_column(column, no_wrap=True)
    table.add_column("dependencies", overflow="fold")
    table.add_column("schedule", overflow="fold")
    for name in project.graph.order():
        definition = project.models[name]
        table.add_row(
            name,
            definition.type.value,
            definition.materialise.value,
            _strategy(definition),
            ", ".join(definition.dependencies),
            schedule_display(definition.schedule),
        )
    return table


def _strategy(definition: ModelDefinition) -> str:
    return definition.strategy.value if definition.strategy else ""


def schedule_display(schedule: dict[str, Any] | None) -> str:
    """Cron text, `every <N>s`, or an empty string without a schedule."""
    if not schedule:
        return ""
    if "cron" in schedule:
        zone = schedule.get("timezone")
        return f"{schedule['cron']} ({zone})" if zone else str(schedule["cron"])
    if "every_s" in schedule:
        return f"every {schedule['every_s']:g}s"
    return ""
