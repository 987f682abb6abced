"""Finding the project's running service from `.interlace/service.json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from interlace.cli.service_discovery import find_service, pid_alive
from tests.service.conftest import free_port


def test_pid_alive_tells_a_running_process_from_a_finished_one() -> None:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait(timeout=30)

    assert pid_alive(os.getpid())
    assert not pid_alive(finished.pid)
    assert not pid_alive(0)


def test_no_service_file_means_no_service(tmp_path: Path) -> None:
    assert find_service(tmp_path) is None


def test_an_unreadable_service_file_is_ignored_and_kept(tmp_path: Path) -> None:
    path = tmp_path / ".interlace" / "service.json"
    path.parent.mkdir()
    path.write_text('{"url": 8080}')

    assert find_service(tmp_path) is None
    assert path.is_file()


def test_a_file_naming_a_live_pid_but_a_silent_port_is_no_service(
    tmp_path: Path,
) -> None:
    path = tmp_path / ".interlace" / "service.json"
    path.parent.mkdir()
    url = f"http://127.0.0.1:{free_port()}"
    path.write_text(json.dumps({"url": url, "pid": os.getpid()}))

    assert find_service(tmp_path) is None
