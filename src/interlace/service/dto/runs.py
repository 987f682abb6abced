"""Wire shapes of `/api/v1/runs` (SPEC §10.7) and how records become them.

Litestar decodes request bodies into these Structs (so the OpenAPI document
describes them), but the specification fixes the wording of each validation
message (`'force' must be a boolean (true/false)`), which a generic decoder
cannot produce: `body_problem` rewrites msgspec's errors into those words.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any, Literal

import msgspec

from interlace.service.problems import ApiError, validation_error
from interlace.state.event_payloads import progress_counts
from interlace.state.ids import iso_utc
from interlace.state.records import RunRecord, TaskRecord

__all__ = [
    "CancelAnswer",
    "PlanBody",
    "RetryBody",
    "RetryMode",
    "RunAccepted",
    "RunBody",
    "RunProgress",
    "RunStatusBody",
    "RunTaskSummary",
    "body_problem",
    "iso_or_none",
    "seconds_between",
    "status_body",
]

RetryMode = Literal["failed", "failed_and_downstream", "all"]


class RunBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /api/v1/runs`; an empty body means every default."""

    models: list[str] | None = None
    """Selectors (§5.2); None runs every model, `[]` runs nothing."""
    force: bool = False
    since: str | None = None
    until: str | None = None
    trigger_metadata: dict[str, Any] | None = None
    no_upstream: bool = False


class PlanBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /api/v1/plan`: the fields of `POST /runs` that change a plan."""

    models: list[str] | None = None
    force: bool = False
    since: str | None = None
    until: str | None = None
    no_upstream: bool = False


class RetryBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /api/v1/runs/{run_id}/retry`."""

    mode: RetryMode = "failed_and_downstream"


class RunAccepted(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    run_id: str
    flow_id: str
    status: str
    models: list[str]
    estimated_tasks: int
    retry_of: str | None = None
    """Only in answers to a retry."""


class RunProgress(msgspec.Struct, frozen=True, kw_only=True):
    total_tasks: int
    completed: int
    failed: int
    running: int
    """Includes `materialising`."""
    pending: int
    """Includes `waiting` and `ready`."""
    skipped: int
    cancelled: int


class RunTaskSummary(msgspec.Struct, frozen=True, kw_only=True):
    task_id: str
    model_name: str
    status: str
    rows_processed: int | None
    duration_seconds: float | None


class RunStatusBody(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    flow_id: str
    status: str
    trigger_type: str
    started_at: str | None
    completed_at: str | None
    elapsed_seconds: float | None
    retry_of: str | None
    error: dict[str, Any] | None
    progress: RunProgress
    tasks: list[RunTaskSummary]


class CancelAnswer(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    status: str
    """`cancelled`, `cancelling` or `already_completed`."""
    run_id: str
    final_status: str | None = None
    """The terminal status of an `already_completed` run."""


# --- validation messages --------------------------------------------------------

_FIELD_MESSAGES = {
    "models": "'models' must be a list of model names",
    "force": "'force' must be a boolean (true/false)",
    "since": "'since' must be a string (e.g. '2024-01-01')",
    "until": "'until' must be a string",
    "trigger_metadata": "'trigger_metadata' must be an object",
    "no_upstream": "'no_upstream' must be a boolean (true/false)",
    "mode": "'mode' must be one of 'failed', 'failed_and_downstream', 'all'",
}
# Litestar decodes the body as the handler's `data` argument, so msgspec
# reports paths as `$.data.force`; a bare `$.data` is the body itself.
_AT_PATH = re.compile(r" - at `\$(?:\.data)?(?:\.(?P<field>\w+))?[^`]*`$")
_UNKNOWN_FIELD = re.compile(r"unknown field `(?P<field>[^`]+)`")


def body_problem(error: msgspec.ValidationError) -> ApiError:
    """400 `VALIDATION_ERROR` with the documented message for a body field.

    Each field has one message whatever went wrong with it (`'models' must
    be a list of model names` for `"a"` as for `[1]`), as SPEC §10.7 words
    them; `errors[0].path` still points at the field.
    """
    message = str(error)
    unknown = _UNKNOWN_FIELD.search(message)
    if unknown:
        detail = f"Unknown field '{unknown['field']}' in request body"
        return _problem(detail, f"$.{unknown['field']}")
    located = _AT_PATH.search(message)
    field = located["field"] if located else None
    if field is None:
        return _problem("Request body must be a JSON object", "$")
    return _problem(_FIELD_MESSAGES.get(field, message), f"$.{field}")


def _problem(detail: str, path: str) -> ApiError:
    return validation_error(detail, [{"path": path, "message": detail}])


# --- rendering -----------------------------------------------------------------


def iso_or_none(value: dt.datetime | None) -> str | None:
    return None if value is None else iso_utc(value)


def seconds_between(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    """Seconds from `start` to `end`, to the millisecond; None if either is."""
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def status_body(
    run: RunRecord, tasks: Sequence[TaskRecord], now: dt.datetime
) -> RunStatusBody:
    """The status of a run; a live run's elapsed time runs up to `now`."""
    return RunStatusBody(
        run_id=run.run_id,
        flow_id=run.run_id,
        status=run.status,
        trigger_type=run.trigger_type,
        started_at=iso_or_none(run.started_at),
        completed_at=iso_or_none(run.completed_at),
        elapsed_seconds=seconds_between(run.started_at, run.completed_at or now),
        retry_of=run.retry_of,
        error=run.error,
        progress=RunProgress(**progress_counts(tasks)),
        tasks=[
            RunTaskSummary(
                task_id=task.task_id,
                model_name=task.model_name,
                status=task.status,
                rows_processed=task.rows_processed,
                duration_seconds=seconds_between(task.started_at, task.completed_at),
            )
            for task in tasks
        ],
    )
