"""What this build of the service offers, as `GET /api/v1/info` reports it.

`BUILT` says which features exist in this build; a feature that also
depends on configuration or `serve` flags is reported only when enabled.
Flip a flag here in the change that ships the feature.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["BUILT", "feature_flags"]

BUILT = MappingProxyType(
    {
        "scheduling": True,
        "streams": False,
        "sync": False,
        "checks": False,
        "retry_framework": True,
        "consumer_groups": False,
        "idempotency": True,
        "metrics": True,
    }
)


def feature_flags(*, scheduler: bool, metrics: bool) -> dict[str, bool]:
    """The build flags, narrowed by configuration and `serve` flags."""
    flags = dict(BUILT)
    flags["scheduling"] = flags["scheduling"] and scheduler
    flags["metrics"] = flags["metrics"] and metrics
    return flags
