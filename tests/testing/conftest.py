"""Make the plugin's fixtures available without installing the package."""

from interlace.testing.fixtures import interlace_mock, interlace_test_db

__all__ = ["interlace_mock", "interlace_test_db"]
