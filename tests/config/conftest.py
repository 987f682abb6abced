"""Fixtures for configuration tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from interlace.config import set_current

WriteConfig = Callable[..., Path]


@pytest.fixture(autouse=True)
def _clear_current_config() -> Iterator[None]:
    yield
    set_current(None)


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """Write `config.yaml` (and overlays given as `overlays={"prod": "..."}`)."""

    def write(body: str, overlays: dict[str, str] | None = None) -> Path:
        (tmp_path / "config.yaml").write_text(textwrap.dedent(body).lstrip())
        for env, overlay in (overlays or {}).items():
            path = tmp_path / f"config.{env}.yaml"
            path.write_text(textwrap.dedent(overlay).lstrip())
        return tmp_path

    return write
