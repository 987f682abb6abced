"""What every command does around its body: logging set-up and error exits.

Commands wrap their body in `command_session(verbose)`. An `InterlaceError`
already carries a message naming the file, line or key at fault, so it is
shown as one red line without a traceback (the traceback is logged at DEBUG
for `--verbose`) and the command exits with status 1.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from interlace.cli.console import configure_logging, print_error
from interlace.errors import InterlaceError

__all__ = ["EXIT_FAILURE", "command_session"]

logger = logging.getLogger(__name__)

EXIT_FAILURE = 1


@contextmanager
def command_session(verbose: bool) -> Iterator[None]:
    """Configure logging, then turn `InterlaceError` into exit status 1."""
    configure_logging(verbose)
    try:
        yield
    except InterlaceError as exc:
        logger.debug("command failed", exc_info=exc)
        print_error(exc.message)
        raise typer.Exit(EXIT_FAILURE) from exc
