from __future__ import annotations

from tests.conftest import ProjectFactory
from tests.runtime.helpers import query, run_project

MODELS = {
    "events.py": """
        from interlace import stream

        @stream(fields={"user_id": "string", "ts": "timestamp_tz"})
        def page_views():
            raise AssertionError("a stream body must never run")
        """,
    "views_per_user.sql": """
        SELECT user_id, count(*) AS views FROM page_views GROUP BY user_id
        """,
}


def test_a_stream_is_an_empty_table_its_dependants_can_read(
    make_project: ProjectFactory,
) -> None:
    root = make_project(MODELS)

    outcome = run_project(root)

    assert {t.model_name: t.status for t in outcome.tasks} == {
        "page_views": "completed",
        "views_per_user": "completed",
    }
    columns = query(
        root,
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'events' AND table_name = 'page_views'"
        " ORDER BY ordinal_position",
    )
    assert columns == [
        ("user_id", "VARCHAR"),
        ("ts", "TIMESTAMP WITH TIME ZONE"),
        ("_interlace_seq", "BIGINT"),
        ("_interlace_published_at", "TIMESTAMP WITH TIME ZONE"),
        ("_interlace_publish_id", "VARCHAR"),
    ]


def test_an_unchanged_stream_is_skipped_on_the_next_run(
    make_project: ProjectFactory,
) -> None:
    root = make_project(MODELS)
    run_project(root)

    outcome = run_project(root)

    assert {t.model_name: t.skipped_reason for t in outcome.tasks} == {
        "page_views": "no_changes",
        "views_per_user": "no_changes",
    }
