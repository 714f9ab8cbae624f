"""Keyset pagination: pages of items and the opaque cursors that continue them.

A cursor is the base64url (unpadded) JSON ``{"o": ordering, "k": [key values…, id]}``: the
ordering it was issued for and the sort key of the last item returned. The next page is "rows
after that key" in the same ordering, so rows inserted or moved meanwhile never shift a page
boundary the way an offset would. Filters are not part of it: a position in an ordering means
the same under any filter. Decoding is strict (an unknown field, a wrong type, another ordering,
an id out of range); whatever is wrong, the client gets a 400 ``bad_cursor``.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

from streamvault.errors import BadRequest

MAX_CURSOR_CHARS = 512  # ours are well under 200; refuse to decode anything large
_BASE64URL = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_CURSOR_CHARS}}}")  # the decoder alone would skip stray characters

MAX_BIGINT = 2**63 - 1  # PostgreSQL's bigint: ids and counters
RowId = Annotated[int, Field(ge=1, le=MAX_BIGINT)]  # an identity value: the last part of every cursor key

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = Field(description="pass as `cursor` to get the next page; null on the last page")


class KeysetCursor:
    """Encodes and strictly decodes the cursors of one ordering; ``key`` is the tuple type of
    the sort key, e.g. ``tuple[Decimal, int]`` for (score, id)."""

    def __init__(self, ordering: str, key: Any) -> None:
        self.ordering = ordering
        self._key = TypeAdapter(key)
        self._payload = create_model(
            f"Cursor_{ordering}", __config__=ConfigDict(extra="forbid", strict=True),
            o=(Literal[ordering], ...), k=(key, ...),
        )

    def encode(self, key: tuple[Any, ...]) -> str:
        payload = {"o": self.ordering, "k": self._key.dump_python(key, mode="json")}
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode(self, cursor: str) -> tuple[Any, ...]:
        try:
            if not _BASE64URL.fullmatch(cursor):
                raise ValueError("not unpadded base64url")
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            return self._payload.model_validate_json(raw).k  # type: ignore[attr-defined]
        except ValueError as exc:  # binascii.Error and pydantic's ValidationError are ValueErrors
            raise BadRequest(
                f"not a cursor of this list in this order ({self.ordering}); start again without one",
                code="bad_cursor",
            ) from exc


def page_of(rows: list[ItemT], limit: int) -> tuple[list[ItemT], ItemT | None]:
    """Split a fetch of ``limit + 1`` rows into the page and the last row kept when more follow."""
    page = rows[:limit]
    return page, (page[-1] if len(rows) > limit else None)
