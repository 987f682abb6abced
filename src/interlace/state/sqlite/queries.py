"""WHERE clauses built from read filters, with their parameters."""

from __future__ import annotations

from typing import Any

import msgspec

from interlace.state.sqlite.tables import encode_timestamp
from interlace.state.store import RunFilter

__all__ = ["Query", "run_filter_query"]


class Query(msgspec.Struct, frozen=True, kw_only=True):
    """A WHERE clause (empty, or starting with a space) and its parameters."""

    where: str = ""
    params: tuple[Any, ...] = ()


def run_filter_query(filters: RunFilter) -> Query:
    """Conditions for `list_runs`.

    `since` and `until` are inclusive bounds on `started_at`; a run that has
    not started yet is placed at its `created_at`, so pending runs are not
    lost from time-bounded listings.
    """
    conditions: list[str] = []
    params: list[Any] = []
    if filters.status is not None:
        conditions.append("status = ?")
        params.append(filters.status)
    if filters.trigger_type is not None:
        conditions.append("trigger_type = ?")
        params.append(filters.trigger_type)
    if filters.since is not None:
        conditions.append("coalesce(started_at, created_at) >= ?")
        params.append(encode_timestamp(filters.since))
    if filters.until is not None:
        conditions.append("coalesce(started_at, created_at) <= ?")
        params.append(encode_timestamp(filters.until))
    if filters.model is not None:
        conditions.append(
            "EXISTS (SELECT 1 FROM tasks WHERE tasks.run_id = runs.run_id "
            "AND tasks.model_name = ?)"
        )
        params.append(filters.model)
    if not conditions:
        return Query()
    return Query(where=" WHERE " + " AND ".join(conditions), params=tuple(params))
