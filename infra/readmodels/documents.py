"""Read-model documents: where each lives (a key) and how it is stored (compact JSON text)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pydantic_core import to_json

JsonObject = dict[str, Any]


class DocKey(NamedTuple):
    """A document's place inside its view: a partition (one Query) and a sort key in it.

    A named tuple: made and hashed once or more per document written, it costs half what a
    frozen dataclass does; it orders the same, by partition then sort key.
    """

    partition: str
    sort: str


def encode(value: JsonObject) -> str:
    """Compact JSON text, non-ASCII kept as is (Swedish names stay readable and small).

    The text `json.dumps(value, separators=(",", ":"), ensure_ascii=False)` gives for the
    plain values documents hold (strings, integers, booleans, null, lists, objects), written
    by pydantic's serializer (a dependency already), which takes a quarter of the time: every
    document and state the projector and the rebuild store passes through here.
    """
    return to_json(value).decode()


def decode(text: str) -> JsonObject:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise TypeError(f"a stored document is a JSON object, got {type(value).__name__}")
    return value


_TWO_DIGITS: tuple[str, ...] = tuple(f"{n:02d}" for n in range(100))
"""`00` to `99`: an hour, minute or second as an ISO timestamp writes it."""
_DAYS: dict[int, str] = {}
"""`YYYY-MM-DDT` by day: events fall on few days, and formatting a date costs a printf."""


def iso(instant: datetime) -> str:
    """An instant as ISO 8601 in UTC with a `Z`, as every view stores it.

    What `instant.astimezone(UTC).isoformat().replace("+00:00", "Z")` gives, built from a
    cached date: the audit trail formats an instant for every event it records.
    """
    if instant.tzinfo is not UTC:
        instant = instant.astimezone(UTC)
    day = _DAYS.get(ordinal := instant.toordinal())
    if day is None:
        if len(_DAYS) >= 4096:
            _DAYS.clear()
        day = _DAYS[ordinal] = instant.date().isoformat() + "T"
    two = _TWO_DIGITS  # indexed: a format spec per field cost more than the rest of it
    if micro := instant.microsecond:
        return f"{day}{two[instant.hour]}:{two[instant.minute]}:{two[instant.second]}.{micro:06d}Z"
    return f"{day}{two[instant.hour]}:{two[instant.minute]}:{two[instant.second]}Z"


def sortable(instant: datetime) -> str:
    """An instant as fixed-width text (microseconds always shown): sorts as the instants do."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
