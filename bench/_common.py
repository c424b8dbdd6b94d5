"""The benches' shared harness: the run's header and tables, timing (with moto's share of
it), moto and the handlers' environment, the requests the benches send, and a DynamoDB
request meter that prices each request in on-demand request units.

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

import hashlib
import hmac
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import threading
import time
import warnings
from base64 import b64encode
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from events import EventMetadata

median = statistics.median

ROOT = Path(__file__).resolve().parent.parent
# A bench runs as `python bench/<name>.py`: its folder is on the path (so this module is
# found), and importing this module puts the repository's root there too (domain, tests...).
sys.path.insert(0, str(ROOT))
REGION = "eu-north-1"
TYPEFORM_SECRET = "bench-typeform-secret"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SECURITY_TOKEN": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}


# Printing ----------------------------------------------------------------------------------


def console() -> Console:
    """Tables go to the real stdout, even when a bench swaps `sys.stdout` to count log bytes."""
    return Console(file=sys.__stdout__, width=132, highlight=False)


def git(*arguments: str) -> str:
    return subprocess.run(
        ["git", *arguments], check=False, cwd=ROOT, capture_output=True, text=True
    ).stdout


def header(out: Console, title: str) -> None:
    """What was measured, when, where and how: printed above every bench's tables."""
    try:
        commit = git("rev-parse", "--short", "HEAD").strip()
        dirty = git("status", "--porcelain", "--untracked-files=no").splitlines()
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


def table(title: str, columns: Iterable[str], left: Collection[str] = (), **options: Any) -> Table:
    """A table of figures: its columns right-aligned, but those named in `left`."""
    result = Table(title=title, **options)
    for name in columns:
        result.add_column(name, justify="left" if name in left else "right")
    return result


def ratio(numerator: float, denominator: float) -> str:
    """Two figures measured side by side, as one against the other."""
    return f"{numerator / denominator:.2f}"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


# Timing ------------------------------------------------------------------------------------


@dataclass
class Timed:
    """Seconds a block took, and the share of them this thread spent inside moto."""

    seconds: float = 0.0
    moto: float = 0.0

    @property
    def own(self) -> float:
        return self.seconds - self.moto


@contextmanager
def timed() -> Iterator[Timed]:
    """Times the block (perf_counter), and moto's share if `MotoClock` is installed."""
    result = Timed()
    in_moto = MotoClock.spent()
    started = time.perf_counter()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - started
        result.moto = MotoClock.spent() - in_moto


def import_ms(module: str) -> float:
    """Milliseconds to import `module` in a fresh interpreter (a cold start's share)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(result.stdout) * 1000


# The emulated AWS and the handlers' environment ---------------------------------------------


def use_fake_aws() -> None:
    os.environ.update(FAKE_AWS)


def handler_environment(service: str, namespace: str, pseudonym_key: str, **more: str) -> None:
    """Fake AWS credentials, and what the functions are deployed with: Powertools' service
    and namespace (tracing off), the Typeform secret, the actor pseudonym key, and `more`."""
    use_fake_aws()
    os.environ.update(
        POWERTOOLS_SERVICE_NAME=service,
        POWERTOOLS_METRICS_NAMESPACE=namespace,
        POWERTOOLS_TRACE_DISABLED="1",
        TYPEFORM_SECRET=TYPEFORM_SECRET,
        ACTOR_PSEUDONYM_KEY=pseudonym_key,
        **more,
    )


@contextmanager
def emulated_aws(*, config: Any = None, one_snapshot: bool = True) -> Iterator[None]:
    """moto in this process, its time clocked (`MotoClock`), and with `one_snapshot` its
    transactions sped up (`snapshot_tables_once`); a table Query reads its partition only,
    as DynamoDB does (moto's sorts the whole table; the local stack's patch, answers equal);
    fake credentials, warnings silenced."""
    use_fake_aws()
    from moto import mock_aws

    from programme.stack.moto_queries import query_by_partition

    warnings.simplefilter("ignore")
    undo = query_by_partition()
    try:
        with mock_aws(config=config):
            MotoClock.install()
            if one_snapshot:
                snapshot_tables_once()
            yield
    finally:
        undo()


def handler_tables(template: Mapping[str, Any]) -> tuple[Any, dict[str, str]]:
    """The template's tables and a KMS key, created under moto and named in the environment
    as the handlers read them; the DynamoDB client that made them, and the tables' names."""
    import boto3

    from programme.template import create_tables

    client = boto3.client("dynamodb", region_name=REGION)
    tables = create_tables(client, dict(template))
    key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["KeyId"]
    os.environ.update(
        EVENT_STORE_TABLE=tables["EventStoreTable"],
        READ_MODEL_TABLE=tables["ReadModelTable"],
        IDEMPOTENCY_TABLE=tables["IdempotencyTable"],
        SUBJECT_KEYS_TABLE=tables["SubjectKeysTable"],
        PERSONAL_DATA_KEY_ID=key,
    )
    return client, tables


@cache
def event_store_spec() -> dict[str, Any]:
    """The template's EventStoreTable, as the tests create it."""
    from programme.template import dynamodb_tables, load_template

    return dict(dynamodb_tables(load_template())["EventStoreTable"])


def event_store_table(client: Any, name: str) -> None:
    """An event-store table as the template defines it, less its stream: nothing reads it
    here, and under moto its records would be copied with the table on every transaction."""
    definition = {k: v for k, v in event_store_spec().items() if k != "StreamSpecification"}
    client.create_table(**{**definition, "TableName": name})


def typeform_body(
    event_id: str,
    round_id: str,
    submitted_at: str,
    texts: dict[str, str],
    email: str,
    theme: str,
    *,
    form_id: str,
    token: str,
    choice_type: str | None = None,
) -> bytes:
    """A Typeform delivery of the application form, as JSON: `texts` are its short-text
    answers by field ref, then the contact's email and the one theme chosen."""
    answers: list[dict[str, Any]] = [
        {"type": "text", "text": value, "field": {"id": ref, "type": "short_text", "ref": ref}}
        for ref, value in texts.items()
    ]
    themes = {"ref": "themes"} | ({"type": choice_type} if choice_type else {})
    answers += [
        {"type": "email", "email": email, "field": {"ref": "contact_email"}},
        {"type": "choices", "choices": {"labels": [theme]}, "field": themes},
    ]
    response: dict[str, Any] = {"form_id": form_id, "token": token, "submitted_at": submitted_at}
    response |= {"hidden": {"round_id": round_id}, "definition": {"fields": []}, "answers": answers}
    payload = {"event_id": event_id, "event_type": "form_response", "form_response": response}
    return json.dumps(payload).encode()


def typeform_headers(body: bytes, secret: str = TYPEFORM_SECRET) -> dict[str, str]:
    """The headers Typeform sends with a delivery: its JSON type and its HMAC signature."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "content-type": "application/json",
        "typeform-signature": "sha256=" + b64encode(digest).decode(),
    }


def staff_event(
    path: str, body: dict[str, Any], user_arn: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway v2 POST from a staff member, signed in as `user_arn` (IAM)."""
    from tests.support.apigw import http_event

    event = http_event("POST", path, body=body, headers=headers)
    event["requestContext"]["authorizer"] = {"iam": {"userArn": user_arn}}
    return event


CIPHERTEXT = "c2VhbGVkLXBlcnNvbmFsLWRhdGEtb2YtYS1wZXJzb24tYXQtbGVhc3QtYS1mZXctd29yZHMtbG9uZw=="


def metadata(event_id: str, at: datetime, correlation_id: str, actor: str) -> EventMetadata:
    """An event's metadata as the command handler records it, the command its own cause."""
    from events import EventMetadata

    return EventMetadata(
        event_id=event_id,
        occurred_at=at,
        recorded_at=at,
        correlation_id=correlation_id,
        causation_id=correlation_id,
        actor=actor,
    )


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
    from moto.dynamodb.models.table import Table as MotoTable

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "bench_patched", False):
        return
    real = copy.deepcopy

    def transact(self: Any, transact_items: Any) -> Any:
        snapshots: dict[int, Any] = {}

        def once(obj: Any, memo: Any = None) -> Any:
            if not isinstance(obj, MotoTable):
                return real(obj, memo)
            if id(obj) not in snapshots:
                copy.deepcopy = real  # the copy's own recursion goes straight to deepcopy
                try:
                    snapshots[id(obj)] = real(obj, memo)
                finally:
                    copy.deepcopy = once  # type: ignore[assignment]
            return snapshots[id(obj)]

        copy.deepcopy = once  # type: ignore[assignment]
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


def billed(size: float, per: int) -> int:
    """Request units for `size` bytes, at `per` bytes a unit: at least one."""
    return max(1, math.ceil(size / per))


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
            return Request(operation, table, read_units=billed(total, 4096) * consistent)
        if operation == "GetItem":
            item = parsed.get("Item")
            size = self._size_read(table, item) if item else 0
            return Request(operation, table, read_units=billed(size, 4096) * consistent)
        if operation == "PutItem":
            size = self._put(table, params["Item"], failed)
            return Request(operation, table, write_units=billed(size, 1024))
        if operation in ("DeleteItem", "UpdateItem"):
            size = self._known(table, params["Key"], operation == "DeleteItem" and not failed)
            return Request(operation, table, write_units=billed(size, 1024))
        if operation == "TransactWriteItems":
            units = 0.0
            tables = set()
            for action in params["TransactItems"]:
                (kind, spec), *_ = action.items()
                name = str(spec["TableName"])
                tables.add(name)
                if kind == "Put":
                    size = self._put(name, spec["Item"], failed)
                elif kind == "Update":
                    key = self._key(name, spec["Key"])
                    after = updated_sizes(self.attributes.get(key, {}), spec)
                    size = max(sum(after.values()), self.sizes.get(key, 0))
                    if not failed:
                        self.sizes[key], self.attributes[key] = sum(after.values()), after
                else:
                    size = self._known(name, spec["Key"], kind == "Delete" and not failed)
                units += 2 * billed(size, 1024)
            items = len(params["TransactItems"])
            return Request(operation, ",".join(sorted(tables)), write_units=units, items=items)
        if operation == "BatchWriteItem":
            units = 0.0
            for name, writes in params["RequestItems"].items():
                for write in writes:
                    if "PutRequest" in write:
                        units += billed(self._put(name, write["PutRequest"]["Item"], failed), 1024)
                    else:
                        units += billed(
                            self._known(name, write["DeleteRequest"]["Key"], True), 1024
                        )
            return Request(operation, ",".join(params["RequestItems"]), write_units=units)
        if operation in READS or operation in WRITES:
            # Not used by this code base today; counted, not priced.
            return Request(operation, table)
        return None  # control plane (CreateTable, DescribeTable, ...): not billed per request

    def _put(self, table: str, item: Mapping[str, Any], failed: bool) -> int:
        """A put's size as billed (the larger of the old item and the new); the new one is
        remembered unless the write failed."""
        key = self._key(table, item)
        size = max(item_size(item), self.sizes.get(key, 0))
        if not failed:
            self.sizes[key] = item_size(item)
            self.attributes[key] = attribute_sizes(item)
        return size

    def _known(self, table: str, key_item: Mapping[str, Any], forget: bool) -> int:
        """The size of the item a key names (0 if never seen), forgotten with `forget`."""
        key = self._key(table, key_item)
        return self.sizes.pop(key, 0) if forget else self.sizes.get(key, 0)

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
