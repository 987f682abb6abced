"""`interlace serve`: the REST API, events and scheduler over HTTP (granian)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from interlace.cli.options import EnvOption, ProjectDirOption, VerboseOption
from interlace.cli.session import command_session

__all__ = ["serve"]

HostOption = Annotated[
    str | None,
    typer.Option("--host", help="Address to bind; default service.host or 127.0.0.1."),
]
PortOption = Annotated[
    int | None,
    typer.Option("--port", help="Port to bind; default service.port or 8080."),
]


def serve(
    host: HostOption = None,
    port: PortOption = None,
    env: EnvOption = None,
    run: Annotated[
        bool, typer.Option("--run", help="Run all models once the service is up.")
    ] = False,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="Do not fire scheduled models.")
    ] = False,
    no_ui: Annotated[
        bool, typer.Option("--no-ui", help="Serve the API only, without the web UI.")
    ] = False,
    project_dir: ProjectDirOption = Path(),
    verbose: VerboseOption = False,
) -> None:
    """Serve the project until SIGTERM or Ctrl-C (the first one drains runs)."""
    with command_session(verbose):
        from interlace.service.server import run_service

        run_service(
            project_dir,
            env,
            host,
            port,
            run_on_start=run,
            scheduler=not no_scheduler,
            ui=not no_ui,
        )
