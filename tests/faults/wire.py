"""Faults on the wire between botocore and moto's DynamoDB, beneath botocore's own retries.

moto answers every request from botocore's `before-send` hook. `Wire` wraps that hook, so an
injected fault reaches botocore exactly as a real one would: a throttling answer or a read
timeout is retried by botocore itself (standard mode: 4 attempts for DynamoDB, the same
`ClientRequestToken` each time — which moto, unlike DynamoDB, ignores), and what is left when
its retries run out reaches the code under test as a `ClientError` or a botocore exception.

Kinds of fault:
- `throttled`: DynamoDB answers 400 with `code` (nothing is written);
- `timeout`: the request never got an answer and was not applied (a read timeout);
- `timeout_after_commit`: DynamoDB applied the request, then the answer was lost;
- `unreachable`: no connection to the endpoint (nothing is written).

DynamoDB Streams calls (`GetShardIterator`, `GetRecords`) can be failed the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse

Kind = Literal["throttled", "timeout", "timeout_after_commit", "unreachable"]
ALWAYS = None
"""`times` of a fault that never wears off."""
BOTOCORE_ATTEMPTS = 4
"""What botocore's standard retry mode gives one DynamoDB call: a fault this many times in a
row is one the code under test sees."""
_TARGET_PREFIXES = ("DynamoDB_20120810.", "DynamoDBStreams_20120810.")
_THROTTLED_STATUS = {"InternalServerError": 500}


@dataclass
class Fault:
    operation: str
    table: str | None  # None: any (DynamoDB Streams calls name a stream, not a table)
    kind: Kind
    times: int | None = 1
    code: str = "ProvisionedThroughputExceededException"
    after: Fault | None = None  # applies only once that fault has struck
    skip: int = 0  # matching requests let through before it strikes
    meanwhile: Callable[[], None] | None = None  # runs as it strikes (another writer, say)
    hits: int = 0  # requests this fault was applied to

    def strikes(self) -> bool:
        """Whether it applies to the matching request being sent (counting it)."""
        if self.after is not None and self.after.hits == 0:
            return False
        if self.skip > 0:
            self.skip -= 1
            return False
        return self.times is None or self.hits < self.times


@dataclass
class Wire:
    """The DynamoDB requests sent, and the faults to apply to the matching ones."""

    faults: list[Fault] = field(default_factory=list)
    sent: list[tuple[str, frozenset[str]]] = field(default_factory=list)

    def inject(
        self,
        operation: str,
        table: str | None,
        kind: Kind,
        *,
        times: int | None = 1,
        code: str = "ProvisionedThroughputExceededException",
        after: Fault | None = None,
        skip: int = 0,
        meanwhile: Callable[[], None] | None = None,
    ) -> Fault:
        fault = Fault(operation, table, kind, times, code, after, skip, meanwhile)
        self.faults.append(fault)
        return fault

    def heal(self) -> None:
        """No more faults: the network and DynamoDB are well again."""
        self.faults.clear()

    def count(self, operation: str, table: str) -> int:
        """Requests of `operation` on `table` sent so far (each botocore attempt counts)."""
        return sum(1 for op, tables in self.sent if op == operation and table in tables)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original: Callable[..., AWSResponse | None] = BotocoreStubber.__call__

        def send(
            stubber: BotocoreStubber, event_name: str, request: AWSPreparedRequest, **kwargs: Any
        ) -> AWSResponse | None:
            operation, tables = _dynamodb_request(request)
            if operation is None:
                return original(stubber, event_name, request, **kwargs)
            self.sent.append((operation, tables))
            fault = next(
                (
                    f
                    for f in self.faults
                    if f.operation == operation
                    and (f.table is None or f.table in tables)
                    and f.strikes()
                ),
                None,
            )
            if fault is None:
                return original(stubber, event_name, request, **kwargs)
            fault.hits += 1
            if fault.meanwhile is not None:
                fault.meanwhile()
            if fault.kind == "throttled":
                return _error(request, fault.code)
            if fault.kind == "unreachable":
                raise EndpointConnectionError(endpoint_url=request.url)
            if fault.kind == "timeout_after_commit":
                original(stubber, event_name, request, **kwargs)  # DynamoDB applies it
            raise ReadTimeoutError(endpoint_url=request.url)

        monkeypatch.setattr(BotocoreStubber, "__call__", send)


def _dynamodb_request(request: AWSPreparedRequest) -> tuple[str | None, frozenset[str]]:
    target = request.headers.get("X-Amz-Target") or b""
    target = target.decode() if isinstance(target, bytes) else str(target)
    prefix = next((p for p in _TARGET_PREFIXES if target.startswith(p)), None)
    if prefix is None:
        return None, frozenset()
    body = request.body or b"{}"
    params = json.loads(body.decode() if isinstance(body, bytes) else str(body))
    tables = {params["TableName"]} if "TableName" in params else set()
    for item in params.get("TransactItems", []):
        tables.update(action["TableName"] for action in item.values())
    return target.removeprefix(prefix), frozenset(tables)


def _error(request: AWSPreparedRequest, code: str) -> AWSResponse:
    body: dict[str, Any] = {
        "__type": f"com.amazonaws.dynamodb.v20120810#{code}",
        "message": f"injected: {code}",
    }
    if code == "TransactionCanceledException":  # cancelled by throttling: botocore won't retry
        body["CancellationReasons"] = [{"Code": "ThrottlingError", "Message": "injected"}]
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault"}
    status = _THROTTLED_STATUS.get(code, 400)
    return AWSResponse(request.url, status, headers, MockRawResponse(json.dumps(body)))  # type: ignore[arg-type]
