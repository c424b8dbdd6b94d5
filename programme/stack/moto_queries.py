"""moto's Query on a table (not an index) reads the one partition it names, not every item.

moto (5.x) answers a table Query by listing every item of the table, sorted by key
(`Table.all_items`), and keeping those whose hash key matches: each Query's cost grew with
the whole table, though DynamoDB reads one partition. The projector reads a stream's
checkpoints with a Query on every batch and the event store reads a stream forward with one,
so in a burst of applications that sorting was a quarter of the local stack's time, growing
with every event and read-model document.

`by_partition` keeps moto's Query (its key conditions, paging, limits, projections, filters and
their order) and only hands it, for the length of the call, the items of the partition its
hash key names in place of `all_items()`: the same items moto's own filter would keep
(`DynamoType`'s hash and equality agree), which moto then sorts by range key as before. A Query
on an index, or without a hash key, takes moto's own path unchanged. It runs under the one
DynamoDB lock (`moto_dynamodb`), so the table's `all_items` is shadowed for no one else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

Query = Callable[..., Any]
_INDEX_NAME = 6  # the position of `index_name` in `Table.query`'s arguments after `hash_key`


def partition_items(table: Table, hash_key: DynamoType) -> list[Item]:
    """The items whose hash key is `hash_key`, in the order `all_items()` lists them."""
    partition: Any = table.items.get(hash_key)
    if partition is None:
        return []
    if table.range_key_attr is None:
        return [partition] if isinstance(partition, Item) else []
    return sorted(partition.values(), key=lambda item: item.range_key)


def by_partition(query: Query) -> Query:
    """`Table.query` that reads only the named partition when it queries the table itself."""

    def partitioned(table: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[_INDEX_NAME] if len(args) > _INDEX_NAME else kwargs.get("index_name")
        if index_name or not isinstance(hash_key, DynamoType) or "all_items" in vars(table):
            return query(table, hash_key, *args, **kwargs)
        items = partition_items(table, hash_key)
        table.all_items = lambda: items  # type: ignore[method-assign]
        try:
            return query(table, hash_key, *args, **kwargs)
        finally:
            del table.all_items

    partitioned.__wrapped__ = query  # type: ignore[attr-defined]
    return partitioned


def query_by_partition() -> Callable[[], None]:
    """Patch `Table.query`; returns the function that undoes it."""
    original = Table.__dict__["query"]
    Table.query = by_partition(original)  # type: ignore[method-assign]

    def undo() -> None:
        Table.query = original  # type: ignore[method-assign]

    return undo
