"""What the system holds, item for item: the tables a request can change, scanned whole.

`take` scans the event store, the read models, the subject keys and the idempotency records;
two snapshots are equal when every table holds the same items. `assert_unchanged` names the
items that appeared or went, so a failure says what a rejected request left behind.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

STATE_TABLES = ("EventStoreTable", "ReadModelTable", "SubjectKeysTable", "IdempotencyTable")
"""Logical ids of the tables a request may write to (the idempotency records included)."""


@dataclass(frozen=True)
class Snapshot:
    items: Mapping[str, frozenset[str]]  # canonical JSON of each item, by logical id

    def count(self) -> int:
        return sum(len(items) for items in self.items.values())


def take(client: DynamoDBClient, tables: Mapping[str, str]) -> Snapshot:
    """Every item of the state tables (`tables`: table name by logical id)."""
    return Snapshot({logical_id: _scan(client, tables[logical_id]) for logical_id in STATE_TABLES})


def difference(before: Snapshot, after: Snapshot) -> list[str]:
    """One line per item that appeared (+) or went (-), by table; empty when equal."""
    lines: list[str] = []
    for logical_id in STATE_TABLES:
        old, new = before.items[logical_id], after.items[logical_id]
        lines += [f"{logical_id} + {item[:300]}" for item in sorted(new - old)]
        lines += [f"{logical_id} - {item[:300]}" for item in sorted(old - new)]
    return lines


def assert_unchanged(before: Snapshot, after: Snapshot, what: str = "the request") -> None:
    changes = difference(before, after)
    assert not changes, f"{what} changed the stored state:\n" + "\n".join(changes)


@contextmanager
def nothing_stored(client: DynamoDBClient, tables: Mapping[str, str]) -> Iterator[Snapshot]:
    """Fails on leaving when any state table differs from what it held on entering."""
    before = take(client, tables)
    yield before
    assert_unchanged(before, take(client, tables))


def _scan(client: DynamoDBClient, table: str) -> frozenset[str]:
    items: set[str] = set()
    arguments: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**arguments)
        items.update(json.dumps(item, sort_keys=True, default=_bytes) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return frozenset(items)
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _bytes(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} in a DynamoDB item")
