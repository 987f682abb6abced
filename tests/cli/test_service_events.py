"""Reading `text/event-stream` lines into messages and event records."""

from __future__ import annotations

import datetime as dt

from interlace.cli.service_events import SseMessage, event_record, read_messages


def lines(text: str) -> list[bytes]:
    return [line.encode() for line in text.splitlines(keepends=True)]


def test_messages_end_at_blank_lines_and_keepalive_comments_are_skipped() -> None:
    stream = lines(
        "retry: 3000\n\n"
        'event: connected\ndata: {"message": "hi"}\n\n'
        ": keepalive\n\n"
        'id: 7\nevent: task.ready\ndata: {"a": 1}\n\n'
    )

    messages = list(read_messages(stream))

    assert messages == [
        SseMessage(event="connected", data='{"message": "hi"}'),
        SseMessage(event="task.ready", data='{"a": 1}', id="7"),
    ]


def test_data_lines_are_joined_and_crlf_line_ends_are_accepted() -> None:
    stream = lines("id: 1\r\nevent: x\r\ndata: first\r\ndata:second\r\n\r\n")

    messages = list(read_messages(stream))

    assert messages == [SseMessage(event="x", data="first\nsecond", id="1")]


def test_a_message_without_an_id_line_has_none_after_one_that_had_it() -> None:
    stream = lines(
        "id: 5\nevent: task.ready\ndata: {}\n\nevent: overflow\ndata: {}\n\n"
    )

    messages = list(read_messages(stream))

    assert [message.id for message in messages] == ["5", None]


def test_an_unterminated_message_at_the_end_of_the_stream_is_dropped() -> None:
    stream = lines("id: 5\nevent: task.ready\ndata: {}\n")

    assert list(read_messages(stream)) == []


def test_an_event_message_becomes_the_logged_event_record() -> None:
    message = SseMessage(
        event="task.completed",
        id="1842",
        data=(
            '{"flow_id": "run_5e1c0a9b7d22", "timestamp": "2026-03-01T10:05:03.412Z",'
            ' "model_name": "orders", "status": "completed"}'
        ),
    )

    record = event_record(message)

    assert record is not None
    assert (record.id, record.type, record.flow_id) == (
        1842,
        "task.completed",
        "run_5e1c0a9b7d22",
    )
    assert record.timestamp == dt.datetime(2026, 3, 1, 10, 5, 3, 412000, dt.UTC)
    assert record.payload["model_name"] == "orders"


def test_a_malformed_event_message_gives_no_record() -> None:
    not_json = SseMessage(event="task.ready", id="3", data="{not json")
    not_an_object = SseMessage(event="task.ready", id="4", data="[1, 2]")
    bad_id = SseMessage(event="task.ready", id="x", data="{}")

    records = [event_record(m) for m in (not_json, not_an_object, bad_id)]

    assert records == [None, None, None]
