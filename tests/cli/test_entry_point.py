"""The real console script, in a subprocess, and the CLI's import weight."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def console_script() -> list[str]:
    """`interlace` as installed next to this interpreter.

    When the package is not installed in the environment (tests run with
    PYTHONPATH=src), run exactly what the generated script runs: the target
    declared under `[project.scripts]`.
    """
    installed = Path(sys.executable).with_name("interlace")
    if installed.is_file():
        return [str(installed)]
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    module, function = pyproject["project"]["scripts"]["interlace"].split(":")
    code = f"import sys; from {module} import {function}; sys.exit({function}())"
    return [sys.executable, "-c", code]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [*console_script(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_console_script_initialises_and_runs_a_new_project(tmp_path: Path) -> None:
    init = run_cli("init", "demo", cwd=tmp_path)

    run = run_cli("run", "-d", "demo", cwd=tmp_path)

    assert init.returncode == 0, init.stderr
    assert run.returncode == 0, run.stderr
    last = run.stdout.strip().splitlines()[-1]
    assert "completed: 5 completed, 0 skipped, 0 failed" in last
    assert (tmp_path / "demo" / "data" / "dev" / "warehouse.duckdb").is_file()


def test_importing_the_cli_loads_neither_duckdb_nor_pyarrow() -> None:
    code = (
        "import sys, interlace.cli.app; "
        "print(sorted(m for m in ('duckdb', 'pyarrow', 'pykka') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}

    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.strip() == "[]"


def test_python_dash_m_interlace_runs_the_same_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}

    result = subprocess.run(
        [sys.executable, "-m", "interlace", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "plan" in result.stdout
