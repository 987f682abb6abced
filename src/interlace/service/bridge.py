"""The one door between the event loop and the blocking runtime.

Invariant: code running on the event loop never calls a blocking method of
the runtime, the state store or a warehouse, never awaits a pykka future and
never calls `.get()` on one. pykka futures are awaitable in syntax only: their
`__await__` blocks the loop thread. Every such call goes through `call`,
which runs it on a worker thread under a deadline, so a stuck actor or a
locked database costs one request a timeout instead of freezing every
request. In the other direction, events leave the event-bus thread through
`LoopRelay`, which hands them to the loop with `call_soon_threadsafe` and
never blocks the bus.

No other module of the service may call runtime or store methods directly.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from interlace.errors import InterlaceError
from interlace.state.records import EventRecord

__all__ = ["DEFAULT_TIMEOUT_S", "BridgeTimeout", "LoopRelay", "call"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 10.0

EventConsumer = Callable[[list[EventRecord]], None]


class BridgeTimeout(InterlaceError):
    """A blocking call did not return within its deadline."""

    code = "SERVICE_UNAVAILABLE"


async def call(
    fn: Callable[..., T], *args: Any, timeout: float = DEFAULT_TIMEOUT_S
) -> T:
    """Run `fn(*args)` on a worker thread; raise `BridgeTimeout` after `timeout` s.

    On timeout the thread is abandoned, not killed (Python cannot kill a
    thread): it finishes in the background and its result is dropped.
    """
    work = functools.partial(fn, *args)
    try:
        with anyio.fail_after(timeout):
            return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
    except TimeoutError as exc:
        name = getattr(fn, "__qualname__", repr(fn))
        raise BridgeTimeout(
            f"`{name}` did not answer within {timeout:g} s; the runtime is busy "
            "or stuck"
        ) from exc


class LoopRelay:
    """An event-bus listener that replays each batch on the event loop.

    `deliver` runs on the bus thread and only schedules; consumers run on the
    loop, in registration order, and must not block (put into a bounded
    buffer, update a counter). A consumer that raises is removed so that one
    faulty subscriber cannot stop delivery to the others.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._consumers: list[EventConsumer] = []

    def add(self, consumer: EventConsumer) -> Callable[[], None]:
        """Register `consumer` (on the loop); returns a function removing it."""
        self._consumers.append(consumer)
        return functools.partial(self._remove, consumer)

    @property
    def consumer_count(self) -> int:
        return len(self._consumers)

    def deliver(self, events: list[EventRecord]) -> None:
        """Called by the event bus on its own thread."""
        try:
            self._loop.call_soon_threadsafe(self._dispatch, events)
        except RuntimeError:
            # The loop closed during shutdown; nobody is left to listen.
            logger.debug("event loop closed; dropped %d event(s)", len(events))

    def _dispatch(self, events: list[EventRecord]) -> None:
        for consumer in list(self._consumers):
            try:
                consumer(events)
            except Exception:
                logger.exception("event consumer %r failed; removing it", consumer)
                self._remove(consumer)

    def _remove(self, consumer: EventConsumer) -> None:
        if consumer in self._consumers:
            self._consumers.remove(consumer)
