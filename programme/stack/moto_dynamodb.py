"""moto's DynamoDB, one request at a time, as a transaction is isolated in AWS.

moto's DynamoDB is not safe under threads: `TransactWriteItems` deep-copies the whole table as
a rollback snapshot without a lock, so a concurrent write can crash the copy ("dictionary
changed size during iteration"), and a cancelled transaction restores its stale snapshot over
a rival's committed items. Real DynamoDB serialises transactions on the items they touch; this
patch gives moto the same guarantee by handling one DynamoDB request at a time. Its Streams API
reads the same tables' change logs, so it takes the same lock.

The patch is on the handler classes, so it holds in decorator mode (`mock_aws`) and in server
mode (`ThreadedMotoServer` serves from this process) alike.

moto also rolls a cancelled transaction back by putting its deep-copied snapshot of each table
in place — stream shard included. Every reader's shard iterator (the stream pump's) is left on
the shard object nobody writes to any more, holding the cancelled writes' records: the stream
shows a phantom insert, then nothing ever again. `keep_stream_shards` keeps each table's live
shard, cut back to the records it had before the transaction: what DynamoDB Streams does.

That whole-table copy also made each append's cost grow with the table (every event, copied
twice per append). `undo_log.undo_logged` takes its place: it records the prior image of the
items a transaction can write and puts them back if it fails, and falls back to moto's own
snapshot (with `keep_stream_shards`) only for a transaction whose writes it cannot locate.
And a Query on a table reads the partition it names (`moto_queries`), not every item sorted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Final

from moto.core.common_models import BaseModel
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

from programme.stack.moto_queries import query_by_partition
from programme.stack.undo_log import undo_logged

_LOCK: Final = threading.RLock()
HANDLERS: Final = (DynamoHandler, DynamoDBStreamsHandler)
"""The handler classes the patch serialises."""

Action = Callable[[Any], Any]


def one_at_a_time(call_action: Action) -> Action:
    """`call_action` under the one DynamoDB lock (wrapping twice is harmless: it is re-entrant)."""

    def serialised(self: Any) -> Any:
        with _LOCK:
            return call_action(self)

    serialised.__wrapped__ = call_action  # type: ignore[attr-defined]
    return serialised


def keep_stream_shards(transact_write_items: Callable[..., Any]) -> Callable[..., Any]:
    """`DynamoDBBackend.transact_write_items` whose rollback leaves the streams' shards in place
    (cut back to their records before the transaction), so their readers go on reading them."""

    def transact(backend: DynamoDBBackend, transact_items: Any) -> Any:
        shards = {
            name: (table.stream_shard, len(table.stream_shard.items))
            for name, table in backend.tables.items()
            if table.stream_shard is not None
        }
        try:
            return transact_write_items(backend, transact_items)
        except Exception:
            for name, (shard, count) in shards.items():
                table = backend.tables.get(name)
                if table is not None and table.stream_shard is not shard:
                    del shard.items[count:]  # the cancelled writes' records
                    shard.table = table
                    table.stream_shard = shard
            raise

    transact.__wrapped__ = transact_write_items  # type: ignore[attr-defined]
    return transact


def _untracked(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)


def serialise_moto_dynamodb() -> Callable[[], None]:
    """Patch moto's DynamoDB (and Streams) handlers, and its rollback of a cancelled
    transaction (an undo log, `undo_log`), and its table Query (`moto_queries`); returns the
    function that undoes it.

    Also stops moto keeping every model instance it ever makes (a class-level list only its
    dashboard reads): each TransactWriteItems deep-copies the tables it touches as its rollback
    snapshot, so with tracking a long-running stack kept two copies of the event table per
    append and its memory grew with the square of the appends (bench/burst.py ran out of
    24 GB at 500 applications).
    """
    originals = {handler: handler.__dict__.get("call_action") for handler in HANDLERS}
    for handler in HANDLERS:
        handler.call_action = one_at_a_time(handler.call_action)  # type: ignore[method-assign]
    transact = DynamoDBBackend.__dict__["transact_write_items"]
    DynamoDBBackend.transact_write_items = undo_logged(  # type: ignore[method-assign,assignment]
        transact, keep_stream_shards(transact)
    )
    tracking = BaseModel.__dict__["__new__"]
    BaseModel.__new__ = _untracked  # type: ignore[method-assign]
    unpartitioned = query_by_partition()

    def undo() -> None:
        for handler, original in originals.items():
            if original is None:
                del handler.call_action
            else:
                handler.call_action = original  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]
        BaseModel.__new__ = tracking  # type: ignore[method-assign]
        unpartitioned()

    return undo
