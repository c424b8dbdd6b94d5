"""Read-model documents: where each lives (a key) and how it is stored (compact JSON text)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True, order=True)
class DocKey:
    """A document's place inside its view: a partition (one Query) and a sort key in it."""

    partition: str
    sort: str


def encode(value: JsonObject) -> str:
    """Compact JSON text, non-ASCII kept as is (Swedish names stay readable and small)."""
    # Documents are trees of plain values: the circular-reference check only costs time.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, check_circular=False)


def decode(text: str) -> JsonObject:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise TypeError(f"a stored document is a JSON object, got {type(value).__name__}")
    return value


def iso(instant: datetime) -> str:
    """An instant as ISO 8601 in UTC with a `Z`, as every view stores it."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def sortable(instant: datetime) -> str:
    """An instant as fixed-width text (microseconds always shown): sorts as the instants do."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def round_id_of(stream_id: str) -> str | None:
    """The round a stream belongs to (`round-<id>`), or None for any other stream."""
    return stream_id.removeprefix("round-") if stream_id.startswith("round-") else None
