"""moto's TransactWriteItems rolled back by an undo log of the items it touches, not by copying
every table it touches.

moto (5.x) takes its rollback snapshot of a transaction by deep-copying each table the
transaction names, before the first write, and puts the copies in place when the transaction
is cancelled. The event store's table holds every event, so each append copied all of them:
an append's cost grew with the store (a burst of 500 applications spent a third of the local
stack's time in `copy.deepcopy`), though DynamoDB's own cost does not.

`undo_logged` keeps moto's transaction code (its checks, its order, its cancellation reasons)
and replaces only the snapshot: before moto runs, it records the prior image of each item
the transaction can write — the item's partition (a shallow copy: a Put or a Delete replaces
or removes an item object, it never changes one), with a deep copy of each item an Update
changes in place — and the length of every table's stream shard. moto's own table copies
are made cheap tokens for the length of the call. If the call raises (a failed condition, a
validation error, anything), the live tables are put back (moto would have put its tokens in
their place), every recorded partition is restored, and each stream shard is cut back to the
records it had: the tables and their streams are exactly as before, and the live shard stays
in place for its readers (see `moto_dynamodb.keep_stream_shards`). On success nothing is
copied but the updated items' prior images.

A transaction whose writes cannot all be located by key beforehand (an action without its
table's key attributes, say: moto refuses or misreads it) takes moto's own path, whole-table
copies and all. The undo log is only sound because the call runs under the one DynamoDB lock
(`moto_dynamodb`): nothing else writes a table between the record and the rollback.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

Transact = Callable[[DynamoDBBackend, Any], Any]
_ABSENT: Final = object()


class UnlocatedWriteError(LookupError):
    """A transaction action whose item cannot be located before moto runs it."""


@dataclass(frozen=True, slots=True)
class _Token:
    """What moto's `copy.deepcopy(table)` returns during an undo-logged transaction."""

    table: Table


@dataclass
class UndoLog:
    """Prior images of the partitions a transaction may write, and its tables' stream lengths."""

    backend: DynamoDBBackend
    tables: dict[str, Table] = field(default_factory=dict)
    partitions: dict[tuple[str, DynamoType], Any] = field(default_factory=dict)
    shards: list[tuple[Any, int]] = field(default_factory=list)

    @classmethod
    def before(cls, backend: DynamoDBBackend, transact_items: Any) -> UndoLog:
        """Record what `transact_items` can change; `UnlocatedWriteError` if that is unknown."""
        log = cls(backend, dict(backend.tables))
        for table in log.tables.values():
            if table.stream_shard is not None:
                log.shards.append((table.stream_shard, len(table.stream_shard.items)))
        for action in transact_items:
            if not isinstance(action, Mapping) or len(action) != 1:
                continue  # moto refuses it before any write of its own
            ((kind, spec),) = action.items()
            if kind in ("Put", "Update", "Delete") and isinstance(spec, Mapping):
                log._remember(kind, spec)
        return log

    def _remember(self, kind: str, spec: Mapping[str, Any]) -> None:
        table = self.tables.get(str(spec.get("TableName")))
        if table is None:
            return  # moto answers ResourceNotFound for it: nothing written
        source = spec.get("Item") if kind == "Put" else spec.get("Key")
        if not isinstance(source, Mapping) or table.hash_key_attr not in source:
            if kind == "Put":
                return  # moto fails it (no key) before writing
            raise UnlocatedWriteError(f"{kind} on {table.name} without its hash key")
        try:
            hash_value = DynamoType(source[table.hash_key_attr])
            slot = (table.name, hash_value)
            if slot not in self.partitions:
                current: Any = table.items.get(hash_value, _ABSENT)
                if table.range_key_attr is not None and current is not _ABSENT:
                    current = dict(current)  # the item objects, not copies
                self.partitions[slot] = current
            if kind != "Update":
                return
            # an Update changes the item object in place: keep a copy of it as it was
            prior = self.partitions[slot]
            if table.range_key_attr is None:
                if prior is not _ABSENT:
                    self.partitions[slot] = copy.deepcopy(prior)
            elif prior is not _ABSENT and table.range_key_attr in source:
                range_value = DynamoType(source[table.range_key_attr])
                item = prior.get(range_value)
                if item is not None and item is table.items.get(hash_value, {}).get(range_value):
                    prior[range_value] = copy.deepcopy(item)  # not copied yet
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            raise UnlocatedWriteError(f"{kind} on {table.name}: {error}") from None

    def roll_back(self) -> None:
        """Everything recorded put back as it was; the live tables and shards in place."""
        for name, table in self.tables.items():
            self.backend.tables[name] = table  # moto put its tokens here
        for (name, hash_value), prior in self.partitions.items():
            items = self.tables[name].items
            if prior is _ABSENT:
                items.pop(hash_value, None)
            elif self.tables[name].range_key_attr is None:
                items[hash_value] = prior
            else:
                partition = items.get(hash_value)
                if partition is None:
                    items[hash_value] = dict(prior)
                else:
                    partition.clear()
                    partition.update(prior)
        for shard, count in self.shards:
            del shard.items[count:]


def undo_logged(fast: Transact, fallback: Transact) -> Transact:
    """`DynamoDBBackend.transact_write_items` rolled back by an `UndoLog`: `fast` is moto's own
    method (its table copies made tokens), `fallback` what runs a transaction the log cannot
    locate (moto's method with its whole-table snapshot)."""

    def transact(backend: DynamoDBBackend, transact_items: Any) -> Any:
        try:
            log = UndoLog.before(backend, transact_items)
        except UnlocatedWriteError:
            return fallback(backend, transact_items)
        Table.__deepcopy__ = _token  # type: ignore[attr-defined]
        try:
            return fast(backend, transact_items)
        except BaseException:
            log.roll_back()
            raise
        finally:
            del Table.__deepcopy__  # type: ignore[attr-defined]

    transact.__wrapped__ = fast  # type: ignore[attr-defined]
    return transact


def _token(table: Table, memo: dict[int, Any]) -> _Token:
    return _Token(table)
