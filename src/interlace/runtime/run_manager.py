"""The run manager: accepts runs, limits concurrency, owns the model locks."""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future
from typing import Any

import msgspec
import pykka

from interlace.runtime import messages as msg
from interlace.runtime.run_plan import RunPlan, plan_run
from interlace.runtime.services import RunServices
from interlace.runtime.supervisor import RunSupervisor
from interlace.state.event_payloads import task_event
from interlace.state.ids import utc_now
from interlace.state.owner import current_owner
from interlace.state.records import RunRecord, TaskRecord
from interlace.state.writes import InsertRun

__all__ = ["RunManager", "RunOutcome", "Submitted"]

logger = logging.getLogger(__name__)


class RunOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """A finished run and its tasks, as the supervisor last saw them."""

    run: RunRecord
    tasks: list[TaskRecord]


class Submitted(msgspec.Struct, frozen=True, kw_only=True):
    """The reply to `SubmitRun`: the run's id, its models and its outcome."""

    run_id: str
    models: list[str]
    outcome: Any
    """A `concurrent.futures.Future[RunOutcome]`, resolved when the run ends."""


class _Cancel(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    cancel: msg.Cancel


class RunManager(pykka.ThreadingActor):
    """One per process. Runs beyond `max_concurrent_runs` wait FIFO as pending."""

    def __init__(self, services: RunServices) -> None:
        super().__init__()
        self._services = services
        self._owner = current_owner()
        self._max_runs = services.project.config.executor.max_concurrent_runs
        self._pending: deque[RunPlan] = deque()
        self._active: dict[str, pykka.ActorRef[Any]] = {}
        self._outcomes: dict[str, Future[RunOutcome]] = {}
        self._lock_holders: dict[str, str] = {}
        self._lock_waiters: dict[str, deque[msg.AcquireModel]] = {}

    def on_receive(self, message: Any) -> Any:  # noqa: C901 - one case per message
        match message:
            case msg.SubmitRun(request=request):
                return self._submit(request)
            case msg.AcquireModel():
                self._acquire(message)
            case msg.ReleaseModel(run_id=run_id, model=model):
                self._release(run_id, model)
            case msg.RunFinished(run=run, tasks=tasks):
                self._finished(RunOutcome(run=run, tasks=tasks))
            case _Cancel(run_id=run_id, cancel=cancel):
                return self._cancel(run_id, cancel)
            case _:
                logger.warning("run manager ignored unexpected message %r", message)
        return None

    def on_stop(self) -> None:
        for ref in list(self._active.values()):
            ref.stop(block=False)

    # --- submitting --------------------------------------------------------------

    def _submit(self, request: msg.RunRequest) -> Submitted:
        plan = plan_run(self._services.project, request, owner=self._owner)
        now = utc_now()
        self._services.write(
            [
                InsertRun(run=plan.run, tasks=list(plan.tasks)),
                *(task_event(task, now) for task in plan.tasks),
            ]
        )
        outcome: Future[RunOutcome] = Future()
        self._outcomes[plan.run.run_id] = outcome
        self._pending.append(plan)
        self._start_pending()
        return Submitted(run_id=plan.run.run_id, models=plan.models, outcome=outcome)

    def _start_pending(self) -> None:
        while self._pending and len(self._active) < self._max_runs:
            plan = self._pending.popleft()
            self._active[plan.run.run_id] = RunSupervisor.start(
                plan=plan, services=self._services, manager=self.actor_ref
            )

    def _finished(self, outcome: RunOutcome) -> None:
        run_id = outcome.run.run_id
        self._active.pop(run_id, None)
        future = self._outcomes.pop(run_id, None)
        if future is not None:
            future.set_result(outcome)
        self._start_pending()

    # --- cancelling --------------------------------------------------------------

    def _cancel(self, run_id: str, cancel: msg.Cancel) -> bool:
        """Forward a cancel; True when the run is live in this process."""
        ref = self._active.get(run_id)
        if ref is not None:
            ref.tell(cancel)
            return True
        for plan in self._pending:
            if plan.run.run_id == run_id:
                # Not started yet: start it so its supervisor records the cancel
                # and skips every task through the usual path.
                self._pending.remove(plan)
                ref = RunSupervisor.start(
                    plan=plan, services=self._services, manager=self.actor_ref
                )
                self._active[run_id] = ref
                ref.tell(cancel)
                return True
        return False

    # --- model locks -----------------------------------------------------------------

    def _acquire(self, request: msg.AcquireModel) -> None:
        holder = self._lock_holders.get(request.model)
        if holder is None:
            self._grant(request)
        else:
            self._lock_waiters.setdefault(request.model, deque()).append(request)

    def _release(self, run_id: str, model: str) -> None:
        waiters = self._lock_waiters.get(model)
        if waiters:
            # A run giving up a lock it only waited for leaves the queue.
            for waiter in list(waiters):
                if waiter.run_id == run_id:
                    waiters.remove(waiter)
        if self._lock_holders.get(model) != run_id:
            return
        del self._lock_holders[model]
        if waiters:
            self._grant(waiters.popleft())

    def _grant(self, request: msg.AcquireModel) -> None:
        self._lock_holders[request.model] = request.run_id
        supervisor = self._active.get(request.run_id)
        if supervisor is None:
            self._release(request.run_id, request.model)
            return
        supervisor.tell(msg.ModelGranted(task_id=request.task_id))


def cancel_message(run_id: str, cancel: msg.Cancel) -> _Cancel:
    """The message asking the manager to cancel `run_id`."""
    return _Cancel(run_id=run_id, cancel=cancel)
