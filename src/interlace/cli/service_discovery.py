"""Is an Interlace service running for this project? (SPEC §11)

A ready service advertises itself in `<project>/.interlace/service.json`
(`url`, `pid`) and removes the file when it stops. A file can outlive its
service (a crash, SIGKILL), so it is trusted only when its pid is alive and
the service answers `GET /api/v1/health` within `PROBE_TIMEOUT_S`. A stale
file is ignored, never deleted: a service starting at this moment may be
about to replace it.

The service serves one environment. A run asked for another one (`--env`,
else `INTERLACE_ENV`, else `dev`) does not belong to it, and runs in this
process instead.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import msgspec

from interlace.cli.service_client import (
    ServiceClient,
    ServiceRequestError,
    ServiceUnreachable,
)
from interlace.config.loader import DEFAULT_ENV

__all__ = ["SERVICE_FILE", "LiveService", "find_service", "pid_alive"]

logger = logging.getLogger(__name__)

SERVICE_FILE = Path(".interlace") / "service.json"
PROBE_TIMEOUT_S = 1.0


class LiveService(msgspec.Struct, frozen=True, kw_only=True):
    """What `service.json` holds: where the service listens, and its pid."""

    url: str
    pid: int


def find_service(project_dir: Path, env: str | None = None) -> LiveService | None:
    """The service running for `project_dir` and `env`, or None."""
    path = project_dir.resolve() / SERVICE_FILE
    service = _read(path)
    if service is None:
        return None
    if not pid_alive(service.pid):
        logger.debug("ignoring %s: process %d is gone", path, service.pid)
        return None
    try:
        client = ServiceClient.from_environment(service.url)
    except ServiceUnreachable as exc:
        logger.warning("ignoring %s: %s", path, exc)
        return None
    if not _answers(client):
        return None
    if not _serves(client, env or os.environ.get("INTERLACE_ENV") or DEFAULT_ENV):
        return None
    return service


def pid_alive(pid: int) -> bool:
    """Whether a process `pid` exists (signal 0 checks without signalling)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, but belongs to another user
    except OSError:
        return False
    return True


def _read(path: Path) -> LiveService | None:
    try:
        return msgspec.json.decode(path.read_bytes(), type=LiveService)
    except FileNotFoundError:
        return None
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        logger.warning("ignoring %s: %s", path, exc)
        return None


def _answers(client: ServiceClient) -> bool:
    """Any HTTP answer counts: a 401 still proves the service is there."""
    try:
        client.get("/api/v1/health", timeout=PROBE_TIMEOUT_S)
    except ServiceUnreachable as exc:
        logger.debug("the advertised service does not answer: %s", exc)
        return False
    return True


def _serves(client: ServiceClient, env: str) -> bool:
    """False when the service runs another environment than `env`.

    When the project cannot be read (a key without `read`), the service is
    assumed to serve `env`: the submission will then report the real error.
    """
    try:
        project = client.checked(
            client.get("/api/v1/project", timeout=PROBE_TIMEOUT_S)
        ).json()
    except (ServiceUnreachable, ServiceRequestError, msgspec.DecodeError) as exc:
        logger.debug("could not read the service's environment: %s", exc)
        return True
    served = project.get("environment") if isinstance(project, dict) else None
    if served is None or served == env:
        return True
    logger.warning(
        "The service at %s serves environment `%s`; running `%s` in this process",
        client.url,
        served,
        env,
    )
    return False
