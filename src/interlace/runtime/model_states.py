"""The in-process view of every model's change-detection state.

State writes reach SQLite asynchronously through the state writer, so reading
back from the store right after a task completes could see stale hashes. This
cache is updated synchronously when a task completes and is the source of
truth for change detection inside the process; the store is its durable copy.
"""

from __future__ import annotations

import threading

import msgspec

from interlace.state.records import ModelStateRecord

__all__ = ["ModelStates", "Watermarks"]


class ModelStates:
    """Thread-safe map of model name to `ModelStateRecord`."""

    def __init__(self, initial: dict[str, ModelStateRecord]) -> None:
        self._lock = threading.Lock()
        self._states = dict(initial)

    def get(self, name: str) -> ModelStateRecord | None:
        with self._lock:
            return self._states.get(name)

    def snapshot(self) -> dict[str, ModelStateRecord]:
        with self._lock:
            return dict(self._states)

    def merge(self, update: ModelStateRecord) -> ModelStateRecord:
        """Apply the non-None fields of `update`; returns the merged record."""
        with self._lock:
            current = self._states.get(update.model_name)
            merged = update if current is None else _merge(current, update)
            self._states[update.model_name] = merged
            return merged


def _merge(current: ModelStateRecord, update: ModelStateRecord) -> ModelStateRecord:
    changes = {
        field: value
        for field in update.__struct_fields__
        if (value := getattr(update, field)) is not None
    }
    return msgspec.structs.replace(current, **changes)


class Watermarks:
    """Thread-safe map of cursor model name to its watermark (as text).

    Like `ModelStates`, the in-process source of truth: updated when a task
    succeeds, persisted through the state writer.
    """

    def __init__(self, initial: dict[str, str]) -> None:
        self._lock = threading.Lock()
        self._values = dict(initial)

    def get(self, name: str) -> str | None:
        with self._lock:
            return self._values.get(name)

    def set(self, name: str, watermark: str) -> None:
        with self._lock:
            self._values[name] = watermark
