"""Fixtures shared by every test package."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pykka
import pytest

ProjectFactory = Callable[..., Path]


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    """No actor outlives its test, whatever the test did."""
    yield
    pykka.ActorRegistry.stop_all(block=True, timeout=10)


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectFactory:
    """Write a project: `config` is the config.yaml body, `models` maps file names
    (relative to models/) to their source, dedented."""

    def write(
        models: dict[str, str],
        config: str = "",
        name: str = "project",
    ) -> Path:
        root = tmp_path / name
        (root / "models").mkdir(parents=True, exist_ok=True)
        body = textwrap.dedent(config) or (
            "name: test\n"
            "connections:\n"
            "  default: {type: duckdb, path: warehouse.duckdb}\n"
        )
        (root / "config.yaml").write_text(body)
        for file_name, source in models.items():
            path = root / "models" / file_name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source).lstrip())
        return root

    return write
