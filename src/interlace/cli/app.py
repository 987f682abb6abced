"""The `interlace` command line (console script `interlace.cli.app:main`).

Each command lives in its own module and imports the heavy parts of
Interlace (runtime, DuckDB, pyarrow) inside its function, so that `--help`
and quick commands start fast.
"""

from __future__ import annotations

import typer

from interlace.cli.config_show import config_app
from interlace.cli.graph import graph
from interlace.cli.info import info
from interlace.cli.init import init
from interlace.cli.lineage import lineage_app
from interlace.cli.plan import plan
from interlace.cli.run import run
from interlace.cli.schema import schema_app
from interlace.cli.serve import serve

__all__ = ["app", "main"]

app = typer.Typer(
    name="interlace",
    help="Python/SQL data pipelines in one process.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("init")(init)
app.command("run")(run)
app.command("info")(info)
app.command("plan")(plan)
app.command("graph")(graph)
app.command("serve")(serve)
app.add_typer(config_app, name="config")
app.add_typer(schema_app, name="schema")
app.add_typer(lineage_app, name="lineage")


def main() -> None:
    """Entry point of the console script and of `python -m interlace`."""
    app(prog_name="interlace")
