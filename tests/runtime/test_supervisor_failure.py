from __future__ import annotations

import pytest

from interlace.engine.project import Project
from interlace.runtime.messages import RunRequest
from interlace.runtime.runtime import Runtime
from interlace.runtime.supervisor import RunSupervisor
from tests.conftest import ProjectFactory
from tests.runtime.helpers import RUN_TIMEOUT_S


def test_a_crashing_supervisor_fails_its_run_and_frees_the_model_locks(
    make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project({"a.sql": "SELECT 1 AS x"})
    original = RunSupervisor._spawn

    def broken(self: RunSupervisor, name: str) -> None:
        raise RuntimeError("bug while spawning")

    with Runtime(Project.load(root)) as runtime:
        monkeypatch.setattr(RunSupervisor, "_spawn", broken)
        crashed = runtime.submit(RunRequest()).outcome.result(timeout=RUN_TIMEOUT_S)
        monkeypatch.setattr(RunSupervisor, "_spawn", original)
        after = runtime.submit(RunRequest()).outcome.result(timeout=RUN_TIMEOUT_S)
        runtime.flush()
        stored = runtime.store.get_run(crashed.run.run_id)
        stored_tasks = runtime.store.get_tasks(crashed.run.run_id)

    assert crashed.run.status == "failed"
    assert crashed.run.error == {
        "code": "internal_error",
        "message": "bug while spawning",
    }
    assert stored is not None and stored.status == "failed"
    assert [(t.status, t.skipped_reason) for t in stored_tasks] == [
        ("skipped", "run_cancelled")
    ]
    assert after.run.status == "completed"
    assert after.tasks[0].status == "completed"
