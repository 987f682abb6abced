"""Options shared by several commands, declared once.

Every command takes `--project-dir/-d`, `--env` and `--verbose/-v` (SPEC
§11); `run` and `plan` share the selection options because `plan` must
predict exactly what the same `run` would do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "EnvOption",
    "ForceOption",
    "NoUpstreamOption",
    "ProjectDirOption",
    "SelectorsArgument",
    "SinceOption",
    "UntilOption",
    "VerboseOption",
]

ProjectDirOption = Annotated[
    Path,
    typer.Option(
        "--project-dir",
        "-d",
        help="Project directory (holds config.yaml).",
        file_okay=False,
    ),
]
EnvOption = Annotated[
    str | None,
    typer.Option(
        "--env",
        help="Environment; default INTERLACE_ENV, else `dev`.",
        show_default=False,
    ),
]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="Log DEBUG records to stderr.")
]
SelectorsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="Models: `name`, `+name` (with upstream), `name+` (with downstream).",
        show_default=False,
    ),
]
ForceOption = Annotated[
    bool, typer.Option("--force", "-f", help="Run selected models unconditionally.")
]
SinceOption = Annotated[
    str | None,
    typer.Option("--since", help="Backfill lower bound (exclusive) for cursor models."),
]
UntilOption = Annotated[
    str | None,
    typer.Option("--until", help="Backfill upper bound (inclusive)."),
]
NoUpstreamOption = Annotated[
    bool,
    typer.Option(
        "--no-upstream", help="Do not add unselected upstream models to the run."
    ),
]
