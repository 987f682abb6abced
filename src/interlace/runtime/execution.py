"""Execute one model on a worker thread: inputs, retries, materialisation."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from interlace.engine.context import RunContext
from interlace.engine.definition import ModelDefinition, ModelType
from interlace.errors import TaskCancelled
from interlace.retry import RetryPolicy
from interlace.runtime.task_control import TaskControl
from interlace.warehouse.database import DuckDBWarehouse
from interlace.warehouse.identifiers import qualified, quote_ident
from interlace.warehouse.inputs import UpstreamRef, bind_inputs, bound_inputs
from interlace.warehouse.invoke import call_model, sql_result
from interlace.warehouse.materialise import WriteResult, materialise
from interlace.warehouse.streams import ensure_stream_table
from interlace.warehouse.watermarks import (
    CursorBounds,
    column_type,
    cursor_predicate,
    max_value,
)

__all__ = ["TaskHooks", "TaskJob", "TaskOutput", "execute_task", "user_stacktrace"]

logger = logging.getLogger(__name__)


class TaskJob(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a worker needs to execute one task."""

    definition: ModelDefinition
    run_id: str
    task_id: str
    trigger_type: str
    force: bool
    since: str | None
    until: str | None
    watermark: str | None
    upstreams: tuple[UpstreamRef, ...]
    retry: RetryPolicy
    bounds: CursorBounds | None = None
    """Cursor filter for upstreams (watermark or backfill window)."""
    track_watermark: bool = False
    """Compute the next watermark (normal runs of cursor models, not backfills)."""


class TaskOutput(msgspec.Struct, frozen=True, kw_only=True):
    """What a successful task produced."""

    result: WriteResult
    watermark: str | None = None
    """The new watermark of a cursor model; None leaves it unchanged."""


class TaskHooks(msgspec.Struct, frozen=True, kw_only=True):
    """Callbacks a worker uses to report progress; each must not block."""

    retrying: Callable[[int, float, BaseException], None]
    materialising: Callable[[int | None], None]
    """Called with the ingested row count once the result passed its schema
    checks, right before the target is written."""
    progress: Callable[[int, int | None], None]


def execute_task(
    job: TaskJob,
    warehouse: DuckDBWarehouse,
    control: TaskControl,
    hooks: TaskHooks,
) -> TaskOutput:
    """Run the model and write its result; raises on failure or cancellation."""
    cursor = warehouse.cursor()
    control.attach(cursor)
    try:
        if job.definition.type is ModelType.STREAM:
            # A stream's body never runs: its table receives published events.
            created = ensure_stream_table(warehouse, cursor, job.definition)
            return TaskOutput(result=WriteResult(materialised=created))
        model = job.definition.name
        tables = bind_inputs(
            cursor, job.upstreams, cancelled=control.cancelled, model=model
        )
        filtered = _apply_cursor(cursor, job, tables, control)
        context = _context(job, control)
        value = _produce_with_retry(
            lambda: _produce(job.definition, tables, cursor, context),
            job,
            control,
            hooks,
        )
        _check_cancelled(control, job)
        result = materialise(
            warehouse,
            cursor,
            job.definition,
            value,
            run_id=job.run_id,
            cancelled=control.cancelled,
            on_progress=hooks.progress,
            on_materialising=hooks.materialising,
        )
        watermark = _next_watermark(cursor, job, filtered)
        return TaskOutput(result=result, watermark=watermark)
    finally:
        control.detach()
        cursor.close()


def _apply_cursor(
    cursor: Any, job: TaskJob, tables: dict[str, Any], control: TaskControl
) -> list[str]:
    """Re-bind upstreams that have the cursor column, filtered to the bounds.

    Returns the names of the filtered upstreams (their temp views).
    """
    bounds = job.bounds
    if bounds is None:
        return []
    bound = bound_inputs(cursor)
    refs = []
    for name in tables:
        ref = bound[name]
        if ref.source_sql is None:
            continue
        kind = column_type(cursor, ref.source_sql, bounds.column)
        if kind is not None:
            predicate = cursor_predicate(bounds, kind)
            refs.append(msgspec.structs.replace(ref, filter_sql=predicate))
    tables.update(
        bind_inputs(
            cursor, refs, cancelled=control.cancelled, model=job.definition.name
        )
    )
    return [ref.name for ref in refs]


def _next_watermark(cursor: Any, job: TaskJob, filtered: list[str]) -> str | None:
    column = job.definition.cursor
    if column is None or not job.track_watermark:
        return None
    if filtered:
        return max_value(cursor, [quote_ident(name) for name in filtered], column)
    target = qualified(job.definition.schema, job.definition.name)
    if column_type(cursor, target, column) is None:
        return None
    return max_value(cursor, [target], column)


def _produce(
    definition: ModelDefinition, tables: Any, cursor: Any, context: RunContext
) -> Any:
    if definition.type is ModelType.SQL:
        return sql_result(definition, cursor)
    return call_model(definition, tables, cursor, context)


def _produce_with_retry(
    produce: Callable[[], Any],
    job: TaskJob,
    control: TaskControl,
    hooks: TaskHooks,
) -> Any:
    attempt = 1
    while True:
        _check_cancelled(control, job)
        try:
            return produce()
        except TaskCancelled:
            raise
        except Exception as exc:
            if control.cancelled() or not job.retry.should_retry(exc, attempt):
                raise
            delay = job.retry.delay(attempt - 1)
            logger.info(
                "model %s failed on attempt %d, retrying in %.2fs: %s",
                job.definition.name,
                attempt,
                delay,
                exc,
            )
            hooks.retrying(attempt, delay, exc)
            if control.wait(delay):
                raise TaskCancelled(
                    "cancelled while waiting to retry", model=job.definition.name
                ) from exc
            attempt += 1


def _check_cancelled(control: TaskControl, job: TaskJob) -> None:
    if control.cancelled():
        raise TaskCancelled("task cancelled", model=job.definition.name)


def _context(job: TaskJob, control: TaskControl) -> RunContext:
    name = job.definition.name
    return RunContext(
        run_id=job.run_id,
        task_id=job.task_id,
        model=name,
        trigger_type=job.trigger_type,
        force=job.force,
        since=job.since,
        until=job.until,
        watermark=job.watermark,
        logger=logging.getLogger(f"interlace.models.{name}"),
        cancelled=control.cancelled,
    )


def user_stacktrace(exc: BaseException, models_dir: Path) -> str:
    """The traceback restricted to frames in user model files, plus the error."""
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if _is_within(frame.filename, models_dir)
    ]
    lines = traceback.format_list(frames) if frames else []
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()


def _is_within(filename: str, folder: Path) -> bool:
    try:
        Path(filename).resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True
