from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from interlace.state import owner
from interlace.state.owner import current_owner, owner_alive


def finished_process_owner() -> str:
    """The owner string of a child process that has already exited."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"],
        stdin=subprocess.PIPE,
    )
    owner = _owner_of(child.pid)
    child.communicate(b"")
    return owner


def _owner_of(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    start = stat.rpartition(")")[2].split()[19]
    return f"{socket.gethostname()}:{pid}:{start}"


def test_current_owner_names_this_host_and_process() -> None:
    host, pid, start = current_owner().rsplit(":", 2)

    assert host == socket.gethostname()
    assert int(pid) == os.getpid()
    assert start


def test_the_current_process_is_alive() -> None:
    assert owner_alive(current_owner())


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_a_process_that_exited_is_not_alive() -> None:
    owner = finished_process_owner()

    assert not owner_alive(owner)


def test_a_pid_that_does_not_exist_is_not_alive() -> None:
    assert not owner_alive(f"{socket.gethostname()}:999999999:1")


def test_a_reused_pid_with_another_start_time_is_not_alive() -> None:
    host, pid, start = current_owner().rsplit(":", 2)

    assert not owner_alive(f"{host}:{pid}:{start}0")


def test_a_process_on_another_host_is_assumed_alive() -> None:
    assert owner_alive("some-other-host.invalid:1:1")


def test_a_malformed_owner_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="`host:pid:start`"):
        owner_alive("not-an-owner")


def test_without_proc_the_import_time_identifies_this_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(owner, "_PROC", tmp_path / "no-proc")
    me = current_owner()
    host, pid, start = me.rsplit(":", 2)

    alive = owner_alive(me)
    restarted = owner_alive(f"{host}:{pid}:{start}0")
    parent = owner_alive(f"{host}:{os.getppid()}:anything")
    gone = owner_alive(f"{host}:999999999:anything")

    assert (alive, restarted, parent, gone) == (True, False, True, False)
