"""moto's TransactWriteItems deep-copies the whole table once per *item* of a transaction,
as its rollback snapshot: a 15-item projection commit copied the read-model table 15 times.
`copy_tables_once` makes it take one snapshot per table and transaction, which is all its
rollback uses (it restores the last copy taken, and every copy is taken before any write).
Semantics are unchanged; the read-model suite runs several times faster.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

import moto.dynamodb.models as moto_dynamodb
import pytest
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table


class _OncePerTransaction:
    """Stands in for the `copy` module inside moto's DynamoDB backend."""

    def __init__(self) -> None:
        self._local = threading.local()

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        snapshots: dict[int, Any] | None = getattr(self._local, "snapshots", None)
        if snapshots is None or not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if id(value) not in snapshots:
            snapshots[id(value)] = copy.deepcopy(value, memo)
        return snapshots[id(value)]

    def transaction(self, original: Any) -> Any:
        def transact_write_items(backend: DynamoDBBackend, transact_items: Any) -> None:
            self._local.snapshots = {}
            try:
                return original(backend, transact_items)  # type: ignore[no-any-return]
            finally:
                self._local.snapshots = None

        return transact_write_items

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def copy_tables_once(monkeypatch: pytest.MonkeyPatch) -> None:
    shim = _OncePerTransaction()
    monkeypatch.setattr(moto_dynamodb, "copy", shim)
    monkeypatch.setattr(
        DynamoDBBackend,
        "transact_write_items",
        shim.transaction(DynamoDBBackend.transact_write_items),
    )
