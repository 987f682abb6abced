from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from interlace.state.sqlite import SQLiteStateStore


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / ".interlace" / "state.db"


@pytest.fixture
def store(state_path: Path) -> Iterator[SQLiteStateStore]:
    opened = SQLiteStateStore(state_path)
    yield opened
    opened.close()
