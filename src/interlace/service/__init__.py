"""The HTTP service: a Litestar app served by granian (SPEC §10, §12).

    create_app(state)        the app; the runtime starts in its lifespan
    ServiceState.load(...)   project, validated `service` settings, options
    run_service(...)         serve until SIGTERM/SIGINT, graceful drain
    bridge.call(fn, ...)     the only way async code calls the runtime

Importing this package loads Litestar; granian loads with `run_service`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from interlace.service.app import create_app
from interlace.service.settings import ServiceSettings, service_settings
from interlace.service.state import ServiceOptions, ServiceState

if TYPE_CHECKING:
    from interlace.service.server import run_service

__all__ = [
    "ServiceOptions",
    "ServiceSettings",
    "ServiceState",
    "create_app",
    "run_service",
    "service_settings",
]


def __getattr__(name: str) -> Any:
    if name == "run_service":
        from interlace.service.server import run_service

        return run_service
    raise AttributeError(f"module 'interlace.service' has no attribute {name!r}")
