from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from tests.cli.conftest import Invoke, last_run_tasks, outcomes
from tests.conftest import ProjectFactory

PIPELINE = {
    "raw.sql": "SELECT range AS id, range * 10 AS amount FROM range(4)",
    "enriched.py": """
        from interlace import model

        @model
        def enriched(raw):
            return [
                {"id": row["id"], "gross": row["amount"] * 2}
                for row in raw.arrow().to_pylist()
            ]
        """,
    "total.sql": "SELECT sum(gross) AS total FROM enriched",
    "other.sql": "SELECT 1 AS one",
}

BROKEN = {
    "source.sql": "SELECT range AS id FROM range(3)",
    "broken.py": """
        from interlace import model

        @model
        def broken(source):
            raise ValueError("boom in broken")
        """,
    "after_broken.sql": "SELECT * FROM broken",
    "independent.sql": "SELECT id * 2 AS id FROM source",
}


def test_run_prints_one_line_per_status_change_and_a_summary(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(PIPELINE)

    result = cli("run", "-d", root)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    raw_lines = [line.split() for line in lines if line.startswith("raw ")]
    assert [parts[1] for parts in raw_lines] == [
        "ready",
        "running",
        "materialising",
        "completed",
    ]
    assert raw_lines[-1][2] == "rows=4"
    assert raw_lines[-1][3].endswith("s")
    assert "completed: 4 completed, 0 skipped, 0 failed in" in lines[-1]


def test_editing_a_sql_model_reruns_it_and_its_dependants_only(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(PIPELINE)
    cli("run", "-d", root)
    (root / "models" / "raw.sql").write_text(
        "SELECT range AS id, range * 100 AS amount FROM range(4)"
    )

    result = cli("run", "-d", root)

    assert result.exit_code == 0, result.output
    assert outcomes(last_run_tasks(root)) == {
        "raw": "completed:file_changed",
        "enriched": "completed:upstream_changed",
        "total": "completed:upstream_changed",
        "other": "skipped:no_changes",
    }


def test_a_failed_model_exits_1_and_skips_its_dependants_only(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(BROKEN)

    result = cli("run", "-d", root)

    assert result.exit_code == 1
    assert outcomes(last_run_tasks(root)) == {
        "source": "completed:first_run",
        "broken": "failed:first_run",
        "after_broken": "skipped:upstream_failed",
        "independent": "completed:first_run",
    }
    assert "failed: 2 completed, 1 skipped, 1 failed" in result.stdout
    assert "  broken: boom in broken" in result.stdout


def test_run_selects_models_and_their_upstream(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(PIPELINE)

    result = cli("run", "enriched", "-d", root)

    assert result.exit_code == 0, result.output
    assert sorted(last_run_tasks(root)) == ["enriched", "raw"]


def test_an_unknown_model_selector_exits_1_with_the_unknown_models_message(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(PIPELINE)

    result = cli("run", "nope", "-d", root)

    assert result.exit_code == 1
    assert "Unknown models: ['nope']" in result.stderr
    assert not _has_runs(root)


def test_an_invalid_configuration_exits_1_with_one_line_naming_the_file(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(PIPELINE, config="name: [unclosed\n")

    result = cli("run", "-d", root)

    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(root / "config.yaml") in lines[0]
    assert "Traceback" not in result.output


def test_an_unknown_option_is_a_usage_error_with_exit_2(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(PIPELINE)

    result = cli("run", "--no-such-option", "-d", root)

    assert result.exit_code == 2


def test_ctrl_c_cancels_the_running_model_and_exits_1(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(
        {
            "slow.sql": (
                "SELECT sum(a.range * b.range % 7) AS n"
                " FROM range(200000) a, range(200000) b"
            ),
            "after_slow.sql": "SELECT * FROM slow",
        }
    )
    sender = threading.Thread(target=_interrupt_once_guarded, daemon=True)
    sender.start()

    started = time.monotonic()
    result = cli("run", "-d", root)

    sender.join(timeout=5)
    assert result.exit_code == 1
    assert time.monotonic() - started < 20
    assert "Cancelling the run" in result.stdout
    assert outcomes(last_run_tasks(root)) == {
        "slow": "cancelled:first_run",
        "after_slow": "skipped:run_cancelled",
    }


def _interrupt_once_guarded() -> None:
    """Send SIGINT once the CLI's handler is installed and the query runs."""
    deadline = time.monotonic() + 15
    while signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        if time.monotonic() > deadline:
            return
        time.sleep(0.01)
    time.sleep(0.5)
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        os.kill(os.getpid(), signal.SIGINT)


def _has_runs(root: Path) -> bool:
    try:
        last_run_tasks(root)
    except IndexError:
        return False
    return True


def test_model_info_logs_reach_stderr_only_with_verbose(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(
        {
            "chatty.py": """
                from interlace import model

                @model
                def chatty(context):
                    context.logger.info("hello from chatty")
                    return [{"id": 1}]
                """
        }
    )

    quiet = cli("run", "-d", root)
    verbose = cli("run", "--force", "-v", "-d", root)

    assert quiet.exit_code == 0, quiet.output
    assert "hello from chatty" not in quiet.stderr
    assert "hello from chatty" in verbose.stderr
