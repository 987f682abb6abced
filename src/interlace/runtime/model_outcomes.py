"""What a run remembers about a model: change-detection state and cursors.

The supervisor decides; these functions compute the bounds a cursor model
reads with and record what a successful task leaves behind (hashes, times,
watermark, schema version), in memory and through the state writer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from interlace.engine.definition import Materialise, ModelDefinition
from interlace.runtime.model_states import Watermarks
from interlace.runtime.services import RunServices
from interlace.runtime.status import TaskStatus
from interlace.state.records import ModelStateRecord
from interlace.state.writes import (
    RecordSchemaVersion,
    SaveModelState,
    SaveWatermark,
    Write,
)
from interlace.warehouse.materialise import WriteResult
from interlace.warehouse.watermarks import CursorBounds

__all__ = ["cursor_bounds", "record_success"]


def cursor_bounds(
    definition: ModelDefinition, metadata: dict[str, Any], watermarks: Watermarks
) -> tuple[CursorBounds | None, bool]:
    """The upstream filter of a cursor model, and whether its watermark moves.

    A backfill window (`since`/`until`) replaces the watermark as bounds and
    leaves the watermark where it is.
    """
    column = definition.cursor
    if column is None:
        return None, False
    since, until = metadata.get("since"), metadata.get("until")
    if since is not None or until is not None:
        return CursorBounds(column=column, lower=since, upper=until), False
    watermark = watermarks.get(definition.name)
    return CursorBounds(column=column, lower=watermark), True


def record_success(
    services: RunServices,
    *,
    run_id: str,
    name: str,
    result: WriteResult,
    watermark: str | None,
    now: dt.datetime,
) -> None:
    """Remember a successful task: state, watermark and schema version."""
    definition = services.project.models[name]
    code_hash, config_hash = services.project.hashes[name]
    # Ephemeral output is folded into dependants' hashes instead: marking it
    # materialised would make every dependant re-run on every run.
    materialised = (
        result.materialised and definition.materialise is not Materialise.EPHEMERAL
    )
    update = ModelStateRecord(
        model_name=name,
        code_hash=code_hash,
        config_hash=config_hash,
        last_success_at=now,
        last_materialised_at=now if materialised else None,
        last_run_at=now,
        last_run_id=run_id,
        last_status=TaskStatus.COMPLETED,
    )
    services.model_states.merge(update)
    writes: list[Write] = [SaveModelState(state=update)]
    if watermark is not None:
        services.watermarks.set(name, watermark)
        writes.append(
            SaveWatermark(model_name=name, watermark=watermark, run_id=run_id)
        )
    if result.schema_columns:
        # The store numbers the version and skips an unchanged schema
        # (SPEC §8.1), so every table write can simply report its schema.
        writes.append(
            RecordSchemaVersion(
                model_name=name, columns=result.schema_columns, detected_at=now
            )
        )
    services.write(writes)
