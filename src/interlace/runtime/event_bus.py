"""The event bus: fans durable events out to listeners.

Events reach the bus only after the state writer has committed them to the
event log, so a listener never sees an event that a restart could lose, and
log ids arrive in ascending order.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

import msgspec
import pykka

from interlace.runtime.messages import EventsPersisted
from interlace.state.records import EventRecord

__all__ = ["EventBus", "Listener", "Subscribe", "Unsubscribe"]

logger = logging.getLogger(__name__)


class Listener(Protocol):
    """Receives events on the bus thread; must return quickly and not block."""

    def deliver(self, events: list[EventRecord]) -> None: ...


class Subscribe(msgspec.Struct, frozen=True, kw_only=True):
    listener: Any
    """A `Listener`; typed loosely because Structs cannot hold protocols."""


class Unsubscribe(msgspec.Struct, frozen=True, kw_only=True):
    listener: Any


class EventBus(pykka.ThreadingActor):
    """One per process; holds the listeners and delivers persisted events."""

    def __init__(self) -> None:
        super().__init__()
        self._listeners: list[Listener] = []
        # Read from other threads (health endpoints); written on the bus thread.
        self._count_lock = threading.Lock()
        self.listener_count = 0

    def on_receive(self, message: Any) -> Any:
        match message:
            case EventsPersisted(events=events):
                self._deliver(events)
            case Subscribe(listener=listener):
                self._listeners.append(listener)
                self._update_count()
            case Unsubscribe(listener=listener):
                if listener in self._listeners:
                    self._listeners.remove(listener)
                self._update_count()
            case _:
                logger.warning("event bus ignored unexpected message %r", message)
        return None

    def _deliver(self, events: list[EventRecord]) -> None:
        for listener in list(self._listeners):
            try:
                listener.deliver(events)
            except Exception:
                # A faulty listener must not stop delivery to the others.
                logger.exception("listener %r failed; unsubscribing it", listener)
                self._listeners.remove(listener)
                self._update_count()

    def _update_count(self) -> None:
        with self._count_lock:
            self.listener_count = len(self._listeners)

    def on_stop(self) -> None:
        logger.debug("event bus stopped with %d listeners", len(self._listeners))
