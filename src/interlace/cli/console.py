"""The CLI's rich consoles and its logging set-up.

All user-facing output goes through `console` (stdout); diagnostics (errors
and log records) go to `err_console` (stderr) so that `--format json` output
stays machine-readable when a warning is logged. Both resolve `sys.stdout` /
`sys.stderr` at write time, which is what lets typer's `CliRunner` capture
them.
"""

from __future__ import annotations

import logging
import os
import sys

from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

__all__ = ["configure_logging", "console", "err_console", "print_error"]

# Rich lays out for 80 columns when output is not a terminal; tables piped to
# a file or a CI log read better wider (an explicit COLUMNS still wins).
_PIPE_WIDTH = 160


def _width(stream: object) -> int | None:
    if "COLUMNS" in os.environ or getattr(stream, "isatty", lambda: False)():
        return None
    return _PIPE_WIDTH


console = Console(highlight=False, width=_width(sys.stdout))
err_console = Console(stderr=True, highlight=False, width=_width(sys.stderr))


def print_error(message: str) -> None:
    """One red line on stderr; `message` is shown verbatim, never as markup."""
    err_console.print(f"[bold red]Error:[/] {escape(message)}", soft_wrap=True)


def configure_logging(verbose: bool) -> None:
    """DEBUG records with `--verbose`, else WARNING and above, on stderr.

    The handler installed by a previous call is replaced rather than added to,
    so invoking several commands in one process (tests) logs each record once.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _CliHandler):
            root.removeHandler(handler)
    handler = _CliHandler(
        console=err_console, show_path=verbose, rich_tracebacks=verbose
    )
    # The handler filters too: task log capture lowers model loggers' levels,
    # and their records reach root handlers whatever the root level is.
    level = logging.DEBUG if verbose else logging.WARNING
    handler.setLevel(level)
    root.addHandler(handler)
    root.setLevel(level)


class _CliHandler(RichHandler):
    """Marks the handler this module installed."""
