"""The scheduler: status, pause and resume (SPEC §10.4), and its lifecycle.

`install_scheduler` hooks the scheduler into the service's lifespan: it
starts once the runtime is up and stops firing when the drain begins (SPEC
§12 step 1). With `--no-scheduler` or `scheduler.enabled: false` it starts
without firing, so the endpoints still show schedules and persist pauses
for a later start; `running` and `/health`'s `scheduler_running` say false.
"""

from __future__ import annotations

import functools
import logging

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from interlace.runtime.scheduler import SchedulerHandle
from interlace.service import bridge
from interlace.service.dto.scheduler import (
    PauseAnswer,
    SchedulerBody,
    pause_answer,
    scheduler_body,
)
from interlace.service.problems import (
    not_found,
    service_unavailable,
    validation_error,
)
from interlace.service.state import ServiceState

__all__ = ["SchedulerController", "install_scheduler"]

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 30.0
"""Starting reads every scheduled model's state and recent runs."""


class SchedulerController(Controller):
    path = "/api/v1/scheduler"
    tags = ["scheduler"]

    @get("/", summary="Scheduled models, their next and last fires")
    async def status(self, service: NamedDependency[ServiceState]) -> SchedulerBody:
        status = await bridge.call(_scheduler(service).status)
        return scheduler_body(status)

    @post(
        "/models/{name:str}/pause",
        status_code=200,
        summary="Stop firing a model's schedule (idempotent; persisted)",
    )
    async def pause(
        self, service: NamedDependency[ServiceState], name: FromPath[str]
    ) -> PauseAnswer:
        return await _set_paused(service, name, paused=True)

    @post(
        "/models/{name:str}/resume",
        status_code=200,
        summary="Fire a paused schedule again, from now on (idempotent)",
    )
    async def resume(
        self, service: NamedDependency[ServiceState], name: FromPath[str]
    ) -> PauseAnswer:
        return await _set_paused(service, name, paused=False)


async def _set_paused(service: ServiceState, name: str, *, paused: bool) -> PauseAnswer:
    definition = service.project.models.get(name)
    if definition is None:
        raise not_found("model", name)
    if definition.schedule is None:
        raise validation_error(f"Model '{name}' has no schedule", model_id=name)
    scheduler = _scheduler(service)
    change = scheduler.pause if paused else scheduler.resume
    model = await bridge.call(change, name)
    if model is None:
        # Discovery and the scheduler read the same definitions.
        raise not_found("model", name)
    return pause_answer(model)


def _scheduler(service: ServiceState) -> SchedulerHandle:
    scheduler = service.runtime.scheduler
    if scheduler is None:
        raise service_unavailable("The scheduler is not started yet; retry shortly")
    return scheduler


def install_scheduler(state: ServiceState) -> None:
    """Register the scheduler's start-up and drain hooks on `state`."""
    state.on_startup.append(_start)
    state.on_drain.append(_halt)


async def _start(state: ServiceState) -> None:
    firing = state.options.scheduler and state.project.config.scheduler_enabled
    start = functools.partial(state.runtime.start_scheduler, firing=firing)
    await bridge.call(start, timeout=START_TIMEOUT_S)
    state.scheduler_running = firing
    if not firing:
        logger.info("scheduler disabled: schedules are shown but do not fire")


async def _halt(state: ServiceState) -> None:
    state.scheduler_running = False
    scheduler = state.runtime.scheduler
    if scheduler is not None:
        await bridge.call(scheduler.halt)
