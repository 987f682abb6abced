"""`ServiceState.load`: configuration, overrides and the advertised URL."""

from __future__ import annotations

from pathlib import Path

import pytest

import interlace.service
from interlace.service import ServiceState
from tests.service.conftest import write_project

SERVICE_YAML = """\
service:
  host: 10.1.2.3
  port: 9000
  cors_origins: [https://from-config.example]
"""


def test_host_and_port_come_from_the_configuration_unless_overridden(
    tmp_path: Path,
) -> None:
    root = write_project(tmp_path, service_yaml=SERVICE_YAML)

    configured = ServiceState.load(root, scheduler=False)
    overridden = ServiceState.load(root, host="127.0.0.1", port=8181)

    assert (configured.options.host, configured.options.port) == ("10.1.2.3", 9000)
    assert (overridden.options.host, overridden.options.port) == ("127.0.0.1", 8181)
    assert configured.options.scheduler is False


def test_cors_origins_join_configuration_and_argument(tmp_path: Path) -> None:
    root = write_project(tmp_path, service_yaml=SERVICE_YAML)

    state = ServiceState.load(root, cors_origins=["https://from-argument.example"])

    assert state.cors_origins == (
        "https://from-config.example",
        "https://from-argument.example",
    )


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:8080"),
        ("::", "http://[::1]:8080"),
        ("192.168.5.5", "http://192.168.5.5:8080"),
        ("::1", "http://[::1]:8080"),
    ],
)
def test_the_advertised_url_reaches_wildcard_binds_over_loopback(
    tmp_path: Path, host: str, url: str
) -> None:
    state = ServiceState.load(write_project(tmp_path), host=host, port=8080)

    assert state.url == url
    assert state.service_file == tmp_path.resolve() / ".interlace" / "service.json"


def test_the_package_exports_a_sorted_complete_api() -> None:
    names = interlace.service.__all__

    assert names == sorted(names)
    assert all(getattr(interlace.service, name) is not None for name in names)
