"""Change detection: decide whether a model runs, and why (SPEC §4.10).

`run` and `plan` both call `decide`, so what `plan` predicts is exactly what
`run` does given the same state.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Container, Iterable

import msgspec

from interlace.engine.definition import Materialise, ModelDefinition
from interlace.state.records import ModelStateRecord

__all__ = ["Decision", "RunReason", "SkipReason", "decide", "target_exists"]


class SkipReason(enum.StrEnum):
    NO_CHANGES = "no_changes"
    """Change detection found nothing to do."""
    UPSTREAM_FAILED = "upstream_failed"
    """A dependency failed, was cancelled or was itself skipped for that reason."""
    RUN_CANCELLED = "run_cancelled"
    """The run was cancelled before the task started."""


class RunReason(enum.StrEnum):
    FORCE = "force"
    FIRST_RUN = "first_run"
    FILE_CHANGED = "file_changed"
    CONFIG_CHANGED = "config_changed"
    TARGET_MISSING = "target_missing"
    UPSTREAM_CHANGED = "upstream_changed"
    SCHEMA_CHANGED = "schema_changed"


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of change detection for one model."""

    run: bool
    reason: RunReason | None = None
    skip_reason: SkipReason | None = None
    changed_upstream: tuple[str, ...] = ()

    @classmethod
    def execute(
        cls, reason: RunReason, changed_upstream: tuple[str, ...] = ()
    ) -> Decision:
        return cls(run=True, reason=reason, changed_upstream=changed_upstream)


_SKIP = Decision(run=False, skip_reason=SkipReason.NO_CHANGES)


def decide(
    *,
    forced: bool,
    hashes: tuple[str, str],
    state: ModelStateRecord | None,
    target_exists: bool,
    upstream_states: Iterable[tuple[str, ModelStateRecord | None]],
) -> Decision:
    """Apply the rules of §4.10 in order; the first that matches decides.

    `upstream_states` pairs each graph upstream with its recorded state.
    """
    if forced:
        return Decision.execute(RunReason.FORCE)
    if state is None or state.last_success_at is None:
        return Decision.execute(RunReason.FIRST_RUN)
    code_hash, config_hash = hashes
    if state.code_hash != code_hash:
        return Decision.execute(RunReason.FILE_CHANGED)
    if state.config_hash != config_hash:
        return Decision.execute(RunReason.CONFIG_CHANGED)
    if not target_exists:
        return Decision.execute(RunReason.TARGET_MISSING)
    changed = _changed_upstream(state.last_success_at, upstream_states)
    if changed:
        return Decision.execute(RunReason.UPSTREAM_CHANGED, changed)
    return _SKIP


def _changed_upstream(
    last_success_at: dt.datetime,
    upstream_states: Iterable[tuple[str, ModelStateRecord | None]],
) -> tuple[str, ...]:
    changed = []
    for name, upstream in upstream_states:
        materialised = upstream.last_materialised_at if upstream else None
        if materialised is not None and materialised > last_success_at:
            changed.append(name)
    return tuple(changed)


def target_exists(
    definition: ModelDefinition,
    default_connection: str,
    catalog: Container[tuple[str, str, str]],
) -> bool:
    """Whether rule 5 (`target_missing`) is satisfied for `definition`.

    `catalog` holds (connection, schema, name) of existing tables and views.
    An ephemeral model's table lives only inside a run, so every run must
    rebuild it; a `none` model has no target to miss.
    """
    if definition.materialise is Materialise.EPHEMERAL:
        return False
    if definition.materialise is Materialise.NONE:
        return True
    connection = definition.connection or default_connection
    return (connection, definition.schema, definition.name) in catalog
