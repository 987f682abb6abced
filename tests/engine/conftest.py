"""Fixtures for engine tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from interlace.config import set_current


@pytest.fixture(autouse=True)
def _clear_current_config() -> Iterator[None]:
    """Discovery publishes the configuration; do not leak it across tests."""
    yield
    set_current(None)
