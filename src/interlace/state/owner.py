"""Which process owns a run, and whether that process still lives.

An owner is `host:pid:start`, where `start` is the process start time. The
pid alone is not enough: after a crash the operating system may hand the same
pid to an unrelated process, and only a matching start time proves that the
process we see is the one that wrote the run.

On Linux the start time is field 22 of `/proc/<pid>/stat` (clock ticks since
boot), which any process can read for any other. Without `/proc` we fall back
to the time this module was imported (close to process start for Interlace,
which imports the state package early); there another process's start time
cannot be read, so a live pid on such a host is trusted as the owner.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

__all__ = ["current_owner", "owner_alive"]

_PROC = Path("/proc")
_IMPORT_START = f"t{time.time():.6f}"
"""Start-time fallback when `/proc` is absent; prefixed so it never equals a
`/proc` tick count."""


def current_owner() -> str:
    """This process as an owner string, `host:pid:process start time`."""
    pid = os.getpid()
    start = _proc_start_time(pid) or _IMPORT_START
    return f"{socket.gethostname()}:{pid}:{start}"


def owner_alive(owner: str) -> bool:
    """Whether the process named by `owner` is still running.

    A process on another host cannot be checked from here and is assumed
    alive: declaring a live run crashed would corrupt it, while a truly
    abandoned run is recovered when a process on its own host starts.
    """
    host, pid, start = _parse(owner)
    if host != socket.gethostname():
        return True
    if _PROC.is_dir():
        return _proc_start_time(pid) == start
    return _alive_without_proc(pid, start)


def _parse(owner: str) -> tuple[str, int, str]:
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        raise ValueError(
            f"expected an owner of the form `host:pid:start`, found {owner!r}"
        )
    return parts[0], int(parts[1]), parts[2]


def _proc_start_time(pid: int) -> str | None:
    """Field 22 of `/proc/<pid>/stat`, or None when there is no such process."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # Field 2 is the command name in parentheses and may itself contain
    # spaces or parentheses, so count fields from the last `)`.
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def _alive_without_proc(pid: int, start: str) -> bool:
    if pid == os.getpid():
        return start == _IMPORT_START
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
