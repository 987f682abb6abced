"""The public surface of `interlace.lineage`."""

from __future__ import annotations

import interlace.lineage as lineage


def test_all_is_sorted_and_names_every_public_export() -> None:
    public = {
        name
        for name, value in vars(lineage).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("interlace.lineage.")
    }

    assert lineage.__all__ == sorted(lineage.__all__)
    assert set(lineage.__all__) == public
