"""The public names of the warehouse and testing packages."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("module", ["interlace.warehouse", "interlace.testing"])
def test_all_is_sorted_and_every_name_exists(module):
    loaded = importlib.import_module(module)

    assert loaded.__all__ == sorted(loaded.__all__)
    assert all(hasattr(loaded, name) for name in loaded.__all__)
