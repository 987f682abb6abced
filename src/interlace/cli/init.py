"""`interlace init [DIR]`: create a runnable example project."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from interlace.cli.console import console
from interlace.cli.options import EnvOption, ProjectDirOption, VerboseOption
from interlace.cli.scaffold import write_scaffold
from interlace.cli.session import command_session

__all__ = ["init"]


def init(
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="Directory to create the project in (default: -d, else .)."
        ),
    ] = None,
    project_dir: ProjectDirOption = Path(),
    env: EnvOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Create a project that runs offline: config, SQL and Python models, a test."""
    del env  # accepted like on every command; a new project has no environment
    with command_session(verbose):
        target = directory if directory is not None else project_dir
        written = write_scaffold(target)
        for path in written:
            console.print(f"  created {path.relative_to(target)}", markup=False)
        next_step = f"interlace run -d {shlex.quote(str(target))}"
        console.print(f"Project ready. Next: {next_step}", markup=False)
