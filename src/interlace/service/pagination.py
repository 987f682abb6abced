"""Pagination shared by every list endpoint: `limit`, `offset` and `cursor`.

A cursor is an opaque token (URL-safe base64 of a small JSON document) that
names the last item of a page by its sort key, remembers where that item
was, and carries a fingerprint of the filters it was issued for. Continuing
from a cursor skips every item that does not sort strictly after that key,
so rows inserted in front of the position (new runs on a newest-first list)
neither repeat nor shift the next page, which is what plain offsets get
wrong. The stores page by offset; the position is only a starting hint.

Usage in a controller (the `page` dependency is registered by the app):

    async def list_things(self, page: PageRequest, status: str | None) -> ...:
        result = await paginate(page, fetch=..., key=..., filters={"status": status})
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar.params import QueryParameter

from interlace.service.problems import validation_error

__all__ = [
    "MAX_LIMIT",
    "Page",
    "PageRequest",
    "SortKey",
    "paginate",
    "provide_page_request",
]

T = TypeVar("T")
SortKey = tuple[str | int, ...]
Fetch = Callable[[int, int], Awaitable[tuple[list[T], int]]]
"""`(limit, offset) -> (items, total)` in the endpoint's sort order."""

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
_MAX_SKIP_ROUNDS = 20
"""Pages fetched at most while skipping items inserted before a cursor."""

_encoder = msgspec.json.Encoder(order="sorted")


class PageRequest(msgspec.Struct, frozen=True, kw_only=True):
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    cursor: str | None = None


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    items: list[T]
    total: int
    has_more: bool
    next_cursor: str | None


class _Token(msgspec.Struct, frozen=True):
    f: str
    """Fingerprint of the filters."""
    k: list[str | int]
    """Sort key of the last item delivered."""
    o: int
    """Offset just after that item when the token was issued."""


def provide_page_request(
    limit: Annotated[int, QueryParameter(description=f"Page size, 1-{MAX_LIMIT}.")] = (
        DEFAULT_LIMIT
    ),
    offset: Annotated[int, QueryParameter(description="Items to skip (>= 0).")] = 0,
    cursor: Annotated[
        str | None,
        QueryParameter(
            description="`next_cursor` of the previous page; wins over `offset`."
        ),
    ] = None,
) -> PageRequest:
    """Litestar dependency reading and checking the pagination parameters."""
    if not 1 <= limit <= MAX_LIMIT:
        raise _invalid("limit", f"'limit' must be an integer between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise _invalid("offset", "'offset' must be an integer >= 0")
    return PageRequest(limit=limit, offset=offset, cursor=cursor or None)


async def paginate(
    request: PageRequest,
    *,
    fetch: Fetch[T],
    key: Callable[[T], SortKey],
    filters: Mapping[str, Any],
    descending: bool = False,
) -> Page[T]:
    """One page of the items `fetch` returns, sorted by `key`."""
    fingerprint = _fingerprint(filters)
    if request.cursor is None:
        items, total = await fetch(request.limit + 1, request.offset)
        return _page(items, total, request, request.offset, key, fingerprint)
    token = _decode(request.cursor, fingerprint)
    last = tuple(token.k)

    def after(item: T) -> bool:
        # Keys are compared as tuples; the cursor stores the same types.
        item_key = key(item)
        return item_key < last if descending else item_key > last

    start = token.o
    for _ in range(_MAX_SKIP_ROUNDS):
        batch, total = await fetch(request.limit + 1, start)
        # Items that do not sort after the cursor were inserted in front of
        # its position; they lead the batch because the batch is sorted.
        skipped = sum(1 for item in batch if not after(item))
        if skipped == 0 or len(batch) <= skipped <= request.limit:
            kept = batch[skipped:]
            return _page(kept, total, request, start + skipped, key, fingerprint)
        start += skipped
    raise _invalid("cursor", "'cursor' is too far behind the list; start over")


def _page(
    items: list[T],
    total: int,
    request: PageRequest,
    start: int,
    key: Callable[[T], SortKey],
    fingerprint: str,
) -> Page[T]:
    """`items` holds up to `limit + 1` entries beginning at offset `start`."""
    has_more = len(items) > request.limit
    items = items[: request.limit]
    next_cursor = None
    if has_more and items:
        position = start + len(items)
        token = _Token(f=fingerprint, k=list(key(items[-1])), o=position)
        next_cursor = _encode(token)
    return Page(items=items, total=total, has_more=has_more, next_cursor=next_cursor)


def _fingerprint(filters: Mapping[str, Any]) -> str:
    canonical = _encoder.encode({k: v for k, v in filters.items() if v is not None})
    return hashlib.sha256(canonical).hexdigest()[:16]


def _encode(token: _Token) -> str:
    return base64.urlsafe_b64encode(_encoder.encode(token)).rstrip(b"=").decode()


def _decode(cursor: str, fingerprint: str) -> _Token:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        token = msgspec.json.decode(base64.urlsafe_b64decode(padded), type=_Token)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise _invalid("cursor", "'cursor' is not a valid pagination cursor") from exc
    if token.f != fingerprint:
        message = (
            "'cursor' was issued for different filters; repeat the request "
            "with the original filters or without a cursor"
        )
        raise _invalid("cursor", message)
    if token.o < 0:
        raise _invalid("cursor", "'cursor' is not a valid pagination cursor")
    return token


def _invalid(name: str, message: str) -> Exception:
    return validation_error(message, [{"path": f"query.{name}", "message": message}])
