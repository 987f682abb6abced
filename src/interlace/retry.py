"""Retry policies for model execution (only the function or query is retried)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, ClassVar

import msgspec

__all__ = ["RetryPolicy"]

RetryCondition = Callable[[BaseException, int], bool]


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How often and how patiently a failing model is re-executed.

    Total executions are `max_attempts + 1`. The delay before retry *n*
    (counting from 0) is `min(initial_delay * exponential_base**n * J,
    max_delay)` where `J` is uniform in [0.75, 1.25] with jitter, else 1.
    """

    max_attempts: int = 3
    initial_delay: float = 1.0
    max_delay: float = 30.0
    exponential_base: float = 2.0
    jitter: bool = True
    retryable_exceptions: tuple[type[BaseException], ...] | None = None
    retry_condition: RetryCondition | None = None

    DEFAULT: ClassVar[RetryPolicy]
    API: ClassVar[RetryPolicy]
    DATABASE: ClassVar[RetryPolicy]
    FAST: ClassVar[RetryPolicy]
    NONE: ClassVar[RetryPolicy]

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValueError("invalid retry policy: " + "; ".join(problems))

    @classmethod
    def from_value(cls, value: RetryPolicy | dict[str, Any]) -> RetryPolicy:
        """Accept a policy or a mapping with the policy's field names."""
        if isinstance(value, RetryPolicy):
            return value
        if not isinstance(value, dict):
            raise ValueError(
                f"expected a RetryPolicy or a mapping, got {type(value).__name__!r}"
            )
        known = set(cls.__struct_fields__)
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown retry option(s): {', '.join(unknown)}")
        return cls(**value)

    def delay(self, retry_index: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number `retry_index` (from 0)."""
        factor = (rng or random).uniform(0.75, 1.25) if self.jitter else 1.0
        raw = self.initial_delay * self.exponential_base**retry_index * factor
        return float(min(raw, self.max_delay))

    def should_retry(self, exc: BaseException, attempt: int) -> bool:
        """Whether execution `attempt` (from 1) that raised `exc` is retried."""
        if attempt > self.max_attempts:
            return False
        if self.retry_condition is not None:
            return bool(self.retry_condition(exc, attempt))
        if self.retryable_exceptions is None:
            return True
        return isinstance(exc, self.retryable_exceptions)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe part of the policy, as the API reports it."""
        return {
            "max_attempts": self.max_attempts,
            "initial_delay": self.initial_delay,
            "max_delay": self.max_delay,
            "exponential_base": self.exponential_base,
            "jitter": self.jitter,
        }


def _problems(policy: RetryPolicy) -> list[str]:
    problems = []
    if policy.max_attempts < 0:
        problems.append("`max_attempts` must be >= 0")
    if policy.initial_delay <= 0:
        problems.append("`initial_delay` must be > 0")
    if policy.max_delay < policy.initial_delay:
        problems.append("`max_delay` must be >= `initial_delay`")
    if policy.exponential_base < 1:
        problems.append("`exponential_base` must be >= 1")
    return problems


RetryPolicy.DEFAULT = RetryPolicy()
RetryPolicy.API = RetryPolicy(
    max_attempts=5,
    initial_delay=2.0,
    max_delay=60.0,
    retryable_exceptions=(ConnectionError, TimeoutError, OSError),
)
RetryPolicy.DATABASE = RetryPolicy(initial_delay=0.5, max_delay=10.0)
RetryPolicy.FAST = RetryPolicy(
    max_attempts=2, initial_delay=0.1, max_delay=1.0, jitter=False
)
RetryPolicy.NONE = RetryPolicy(max_attempts=0)
