"""`Idempotency-Key` for requests that start work (SPEC §10.7).

A client that sends a key may repeat the request safely: within the
retention period (24 h) the same key with the same canonical body is
answered with the original status and body, marked `Idempotency-Replayed:
true`, and nothing is started again; the same key with another body is a
409 `IDEMPOTENCY_CONFLICT`. Keys are scoped per API key name, or per client
address when authentication is off, so two clients never collide.

Two requests with one key may arrive together. The service is a single
process, so a per-key `asyncio.Lock` serialises them: the second waits for
the first to remember its answer and then replays it. Only successful
answers are remembered; a rejected request started nothing, and repeating
it (perhaps corrected) must be evaluated afresh.

Known gap: the answer is stored after the work started, in a separate
transaction, so a process crash between the two lets a repeat start the
work again. Closing it would need the run and the key in one transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
from collections.abc import Awaitable, Callable

import msgspec

from interlace.runtime.runtime import Runtime
from interlace.service import bridge
from interlace.service.problems import ApiError, Problem, validation_error
from interlace.state.ids import utc_now
from interlace.state.records import IdempotencyRecord
from interlace.state.writes import SaveIdempotencyKey

__all__ = [
    "HEADER",
    "REPLAYED_HEADER",
    "RETENTION",
    "Answer",
    "IdempotencyKeys",
    "request_hash",
]

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
RETENTION = dt.timedelta(hours=24)

_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_canonical = msgspec.json.Encoder(order="sorted")


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    """A response as it is sent, and as it is replayed."""

    status_code: int
    body: bytes
    """The JSON document."""


def request_hash(body: msgspec.Struct) -> str:
    """Digest of the decoded body with every field, defaults included.

    Hashing the decoded Struct rather than the raw bytes makes `{}` and
    `{"force": false}`, or reordered keys, the same request.
    """
    canonical = _canonical.encode(msgspec.to_builtins(body))
    return hashlib.sha256(canonical).hexdigest()


class _Slot:
    """The lock of one key and how many requests hold or await it."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class IdempotencyKeys:
    """Remembers answers in the state store's `idempotency_keys` table."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._slots: dict[tuple[str, str], _Slot] = {}

    async def answer(
        self,
        scope: str,
        key: str,
        digest: str,
        act: Callable[[], Awaitable[Answer]],
    ) -> tuple[Answer, bool]:
        """The remembered answer (and True), or `act()`'s (and False)."""
        if not _VALID_KEY.fullmatch(key):
            message = f"'{HEADER}' must be 1-255 visible ASCII characters"
            raise validation_error(message, [{"path": "header", "message": message}])
        slot = self._slots.setdefault((scope, key), _Slot())
        slot.users += 1
        try:
            async with slot.lock:
                return await self._answer_once(scope, key, digest, act)
        finally:
            # The last user drops the slot, so the map holds only the keys
            # of requests in flight.
            slot.users -= 1
            if slot.users == 0:
                del self._slots[(scope, key)]

    async def _answer_once(
        self,
        scope: str,
        key: str,
        digest: str,
        act: Callable[[], Awaitable[Answer]],
    ) -> tuple[Answer, bool]:
        store = self._runtime.store
        stored = await bridge.call(store.get_idempotency_key, scope, key)
        if stored is not None:
            return _replay(stored, key, digest), True
        answer = await act()
        if 200 <= answer.status_code < 300:
            await bridge.call(store.apply, [_remember(scope, key, digest, answer)])
        return answer, False


def _replay(stored: IdempotencyRecord, key: str, digest: str) -> Answer:
    if stored.request_hash != digest:
        raise ApiError(
            Problem(
                status=409,
                code="IDEMPOTENCY_CONFLICT",
                detail=(
                    f"Idempotency key '{key}' was already used with a different "
                    "request body; use a new key for a new request"
                ),
            )
        )
    # Only answers with a status and a body are ever remembered.
    return Answer(
        status_code=stored.status_code or 200,
        body=(stored.response_body or "{}").encode(),
    )


def _remember(scope: str, key: str, digest: str, answer: Answer) -> SaveIdempotencyKey:
    now = utc_now()
    record = IdempotencyRecord(
        scope=scope,
        key=key,
        request_hash=digest,
        status_code=answer.status_code,
        response_body=answer.body.decode(),
        created_at=now,
        expires_at=now + RETENTION,
    )
    return SaveIdempotencyKey(record=record)
