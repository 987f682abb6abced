"""`RunContext`: what a model's `context` parameter receives (SPEC §4.3)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import msgspec

__all__ = ["RunContext"]

_PLACEHOLDER_LOGGER = "interlace.models"


def _never_cancelled() -> bool:
    return False


def _placeholder_logger() -> logging.Logger:
    return logging.getLogger(_PLACEHOLDER_LOGGER)


class RunContext(msgspec.Struct, frozen=True, kw_only=True):
    """The run and task a model executes in, plus its logger.

    `logger` defaults to `interlace.models.<model>`; `cancelled()` turns true
    when the run is being cancelled, so long-running model code can stop
    early (it is also checked at every `Table` call and batch boundary).
    """

    run_id: str
    task_id: str
    model: str
    trigger_type: str = "cli"
    """`cli`, `api`, `schedule`, `event` or `webhook`."""
    force: bool = False
    since: str | None = None
    """Backfill lower bound (exclusive), as given on the command line or API."""
    until: str | None = None
    """Backfill upper bound (inclusive)."""
    watermark: str | None = None
    """The model's cursor watermark from its last successful run."""
    logger: logging.Logger = msgspec.field(default_factory=_placeholder_logger)
    cancelled: Callable[[], bool] = _never_cancelled

    def __post_init__(self) -> None:
        if self.logger.name == _PLACEHOLDER_LOGGER:
            # Structs cannot derive one default from another field; the
            # placeholder is swapped for the model's own logger here.
            logger = logging.getLogger(f"{_PLACEHOLDER_LOGGER}.{self.model}")
            msgspec.structs.force_setattr(self, "logger", logger)
