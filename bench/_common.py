"""Shared by the cost benches: the run's header, a console, moto's share of the time, and a
DynamoDB request meter that prices each request in on-demand request units.

The request-unit model (AWS, "DynamoDB read and write operations",
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):

- reads are billed per 4 KB of the items read: 1 unit strongly consistent, 0.5 eventually
  consistent, 2 transactional. GetItem rounds its item up to 4 KB; a Query (or Scan) adds
  the sizes of every item it reads on a page (at most 1 MB) and rounds the sum up once. A
  projection does not lower the size; a read that finds nothing still costs the minimum.
- writes are billed per 1 KB of the item (the larger of its old and new image): 1 unit, 2 in
  a transaction. A ConditionCheck in TransactWriteItems is billed as a transactional write
  of the checked item (2 units per KB), as measured against DynamoDB by M. Hicks, "What a
  conditional DynamoDB transaction actually costs" (martinhicks.dev); AWS's page is silent.
- item size: the UTF-8 bytes of each attribute name plus its value (strings: UTF-8 bytes;
  numbers: about one byte per two significant digits, plus one).

Sizes of items read are looked up by key from what this meter saw written (a projected
Query answers with a few attributes, but is billed for the whole item); an item written
before the meter was attached is sized from what the read returned ("unsized" counts them).
"""

from __future__ import annotations

import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

median = statistics.median

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-north-1"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SECURITY_TOKEN": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}


def console() -> Console:
    """Tables go to the real stdout, even when a bench swaps `sys.stdout` to count log bytes."""
    return Console(file=sys.__stdout__, width=132, highlight=False)


def header(out: Console, title: str) -> None:
    """What was measured, when, where and how: printed above every bench's tables."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            check=False,
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            check=False,
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
    except OSError:
        commit, dirty = "?", []
    state = f"{commit}" + (f" + {len(dirty)} uncommitted file(s)" if dirty else "")
    out.print(f"[bold]{title}[/bold]")
    out.print(f"date     {datetime.now(UTC).isoformat(timespec='seconds')}")
    out.print(
        f"machine  {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}"
    )
    out.print(f"code     {state}")
    out.print(f"command  {shlex.join([Path(sys.executable).name, *sys.argv])}")
    out.print()


def use_fake_aws() -> None:
    os.environ.update(FAKE_AWS)


def with_check_digit(first_nine: str) -> str:
    """A Luhn-valid Swedish organisation number NNNNNN-NNNN from its first nine digits."""
    from domain.org_number import luhn_check_digit

    return f"{first_nine[:6]}-{first_nine[6:]}{luhn_check_digit(first_nine)}"


class MotoClock:
    """Time spent inside moto's emulation of AWS, per thread (what AWS would do remotely)."""

    _local = threading.local()
    _installed = False

    @classmethod
    def install(cls) -> None:
        if cls._installed:
            return
        from moto.core.botocore_stubber import BotocoreStubber

        emulate = BotocoreStubber.__call__

        def timed(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return emulate(self, event_name, request, **kwargs)
            finally:
                cls._local.spent = cls.spent() + time.perf_counter() - started

        BotocoreStubber.__call__ = timed  # type: ignore[method-assign]
        cls._installed = True

    @classmethod
    def spent(cls) -> float:
        """Seconds this thread has spent in moto so far."""
        return float(getattr(cls._local, "spent", 0.0))


def snapshot_tables_once() -> None:
    """Make moto's TransactWriteItems snapshot each table once per transaction, not once per
    action: it deep-copies the whole table for every action (O(actions x table size)) to roll
    back a cancelled transaction. All copies are taken before any action runs, so one per
    table is the same snapshot. An emulator speed-up only: what is written and read, and
    every request the code makes, are unchanged."""
    import copy

    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "bench_patched", False):
        return
    real = copy.deepcopy

    def transact(self: Any, transact_items: Any) -> Any:
        snapshots: dict[int, Any] = {}

        def once(obj: Any, memo: Any = None) -> Any:
            if not isinstance(obj, Table):
                return real(obj, memo)
            if id(obj) not in snapshots:
                copy.deepcopy = real  # the copy's own recursion goes straight to deepcopy
                try:
                    snapshots[id(obj)] = real(obj, memo)
                finally:
                    copy.deepcopy = once
            return snapshots[id(obj)]

        copy.deepcopy = once
        try:
            return original(self, transact_items)
        finally:
            copy.deepcopy = real

    transact.bench_patched = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]


# DynamoDB request units ------------------------------------------------------------------

UNITS_MODEL = (
    "Request units: AWS, 'DynamoDB read and write operations' (docs.aws.amazon.com/amazondynamodb/"
    "latest/developerguide/read-write-operations.html): a strongly consistent read is 1 RRU per "
    "4 KB (eventually consistent 0.5), a Query adds the sizes of the whole items on a page (<= 1 "
    "MB; a projection does not lower it) and rounds up once, a read finding nothing still costs "
    "the minimum; a write is 1 WRU per KB of the item, 2 in a transaction; a ConditionCheck in "
    "TransactWriteItems is taken as a transactional write of the checked item (AWS's page is "
    "silent; measured so by M. Hicks, martinhicks.dev). Item size: attribute names + values."
)

READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one DynamoDB attribute value, as DynamoDB counts them for capacity."""
    (kind, raw), *_ = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        digits = str(raw).lstrip("-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(raw) if isinstance(raw, bytes | bytearray) else len(str(raw).encode())
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: item}) for item in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(item) for item in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + value_size(v) for k, v in raw.items())
    return len(str(raw).encode())


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def attribute_sizes(item: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    return {name: len(name.encode()) + value_size(value) for name, value in item.items()}


def updated_sizes(known: Mapping[str, int], update: Mapping[str, Any]) -> dict[str, int]:
    """An item's attribute sizes after an update of the `SET #a = :x, b = :y` form (the only
    form this code base writes), from its attribute sizes before."""
    names = update.get("ExpressionAttributeNames", {})
    values = update.get("ExpressionAttributeValues", {})
    after = {**known, **attribute_sizes(update["Key"])}
    expression = str(update["UpdateExpression"]).strip()
    if not expression.upper().startswith("SET "):
        raise ValueError(f"the meter prices SET updates only: {expression!r}")
    for assignment in expression[4:].split(","):
        name, value = (part.strip() for part in assignment.split("="))
        attribute = names.get(name, name)
        after[attribute] = len(attribute.encode()) + value_size(values[value])
    return after


@dataclass
class Request:
    operation: str
    table: str
    read_units: float = 0.0
    write_units: float = 0.0
    tag: str = ""
    items: int = 1  # items written (a transaction's or a batch's actions)


@dataclass
class DynamoMeter:
    """Every DynamoDB request made through the clients it is attached to, priced in units.

    `keys` gives each table's key attribute names (to size projected reads by key);
    `tagger`, if given, names who made each request (say, the Lambda function running).
    """

    keys: dict[str, tuple[str, ...]]
    tagger: Callable[[], str] | None = None
    requests: list[Request] = field(default_factory=list)
    sizes: dict[tuple[str, tuple[str, ...]], int] = field(default_factory=dict)
    attributes: dict[tuple[str, tuple[str, ...]], dict[str, int]] = field(default_factory=dict)
    unsized: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, events: Any) -> None:
        """Hook a client's (`client.meta.events`) or a session's event system."""
        events.register("provide-client-params.dynamodb", self._remember_params)
        events.register("after-call.dynamodb", self._priced)

    @staticmethod
    def _remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_params"] = dict(params)

    def _key(self, table: str, item: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
        names = self.keys.get(table, ())
        return table, tuple(str(item.get(name)) for name in names)

    def _size_read(self, table: str, item: Mapping[str, Any]) -> int:
        known = self.sizes.get(self._key(table, item))
        if known is None:
            self.unsized += 1
            return item_size(item)
        return known

    def _priced(
        self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        operation = model.name
        params = context.get("bench_params", {})
        failed = "Error" in parsed
        with self._lock:
            request = self._price(operation, params, parsed, failed)
            if request is not None:
                request.tag = self.tagger() if self.tagger else ""
                self.requests.append(request)

    def _price(
        self, operation: str, params: dict[str, Any], parsed: dict[str, Any], failed: bool
    ) -> Request | None:
        table = str(params.get("TableName", ""))
        consistent = 1.0 if params.get("ConsistentRead") else 0.5
        if operation in ("Query", "Scan"):
            total = sum(self._size_read(table, item) for item in parsed.get("Items", []))
            return Request(
                operation, table, read_units=max(1, math.ceil(total / 4096)) * consistent
            )
        if operation == "GetItem":
            item = parsed.get("Item")
            size = self._size_read(table, item) if item else 0
            return Request(operation, table, read_units=max(1, math.ceil(size / 4096)) * consistent)
        if operation == "PutItem":
            item = params["Item"]
            key = self._key(table, item)
            size = max(item_size(item), self.sizes.get(key, 0))
            if not failed:
                self.sizes[key] = item_size(item)
                self.attributes[key] = attribute_sizes(item)
            return Request(operation, table, write_units=max(1, math.ceil(size / 1024)))
        if operation in ("DeleteItem", "UpdateItem"):
            key = self._key(table, params["Key"])
            size = self.sizes.get(key, 0)
            if operation == "DeleteItem" and not failed:
                self.sizes.pop(key, None)
            return Request(operation, table, write_units=max(1, math.ceil(size / 1024)))
        if operation == "TransactWriteItems":
            units = 0.0
            tables = set()
            for action in params["TransactItems"]:
                (kind, spec), *_ = action.items()
                name = str(spec["TableName"])
                tables.add(name)
                if kind == "Put":
                    key = self._key(name, spec["Item"])
                    size = max(item_size(spec["Item"]), self.sizes.get(key, 0))
                    if not failed:
                        self.sizes[key] = item_size(spec["Item"])
                        self.attributes[key] = attribute_sizes(spec["Item"])
                elif kind == "Update":
                    key = self._key(name, spec["Key"])
                    after = updated_sizes(self.attributes.get(key, {}), spec)
                    size = max(sum(after.values()), self.sizes.get(key, 0))
                    if not failed:
                        self.sizes[key], self.attributes[key] = sum(after.values()), after
                else:
                    key = self._key(name, spec["Key"])
                    size = self.sizes.get(key, 0)
                    if kind == "Delete" and not failed:
                        self.sizes.pop(key, None)
                units += 2 * max(1, math.ceil(size / 1024))
            items = len(params["TransactItems"])
            return Request(operation, ",".join(sorted(tables)), write_units=units, items=items)
        if operation == "BatchWriteItem":
            units = 0.0
            for name, writes in params["RequestItems"].items():
                for write in writes:
                    if "PutRequest" in write:
                        item = write["PutRequest"]["Item"]
                        key = self._key(name, item)
                        units += max(
                            1, math.ceil(max(item_size(item), self.sizes.get(key, 0)) / 1024)
                        )
                        if not failed:
                            self.sizes[key] = item_size(item)
                            self.attributes[key] = attribute_sizes(item)
                    else:
                        key = self._key(name, write["DeleteRequest"]["Key"])
                        units += max(1, math.ceil(self.sizes.pop(key, 0) / 1024))
            return Request(operation, ",".join(params["RequestItems"]), write_units=units)
        if operation in READS or operation in WRITES:
            # Not used by this code base today; counted, not priced.
            return Request(operation, table)
        return None  # control plane (CreateTable, DescribeTable, ...): not billed per request

    # summaries

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def mark(self) -> int:
        return len(self.requests)

    def since(self, mark: int) -> list[Request]:
        with self._lock:
            return list(self.requests[mark:])


def summarise(requests: Iterable[Request]) -> dict[str, float]:
    reads = writes = 0
    rru = wru = 0.0
    for request in requests:
        if request.operation in READS:
            reads += 1
        elif request.operation in WRITES:
            writes += 1
        rru += request.read_units
        wru += request.write_units
    return {"reads": reads, "writes": writes, "rru": rru, "wru": wru}


def table_keys(template: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Key attribute names of each template table, by the table name tests and benches use."""
    from programme.template import dynamodb_tables

    return {
        spec["TableName"]: tuple(k["AttributeName"] for k in spec["KeySchema"])
        for spec in dynamodb_tables(dict(template)).values()
    }
