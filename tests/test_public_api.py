from __future__ import annotations

import importlib
import pkgutil

import pytest

import interlace


def test_the_top_level_all_is_sorted_and_every_name_resolves() -> None:
    names = list(interlace.__all__)

    assert names == sorted(names)
    for name in names:
        assert getattr(interlace, name) is not None


def _modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(interlace.__path__, "interlace.")
        if not info.name.endswith("__main__")
    )


@pytest.mark.parametrize("module_name", _modules())
def test_every_name_a_module_exports_exists(module_name: str) -> None:
    # Ruff's RUF022 keeps each `__all__` sorted; this checks what it cannot.
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        pytest.skip(f"{module_name} declares no __all__")

    missing = [name for name in names if not hasattr(module, name)]

    assert missing == [], module_name
