"""Schemathesis against the local stack, over HTTP: every operation of the published OpenAPI
document, with requests generated from it (valid and invalid), checked against it.

Every answer must be no server error, and conform to the document: a documented status, a
documented media type, a body matching its schema. Every request answered 4xx must leave the
stored state item for item as it was: the event store, the read models, the subject keys and
the idempotency records. The state is read around each request inside the stack's invocation
lock, which every handler holds while it runs (the HTTP API's, the stream pump's, the state
machine's, the scheduler's), so nothing else can write between the two readings.

Staff and report routes need no signing here: the local front counts every caller on
loopback as staff and hands the handlers the IAM authoriser's context, as API Gateway does.

Bounded for a 2-core machine (about half a minute): a fixed seed, derandomised, a few
examples per operation, no coverage or stateful phases. The number of cases sent is printed
with the end-to-end figures.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from functions.openapi import DOCUMENT_PATH
from programme.stack.functions import INVOCATION_LOCK
from programme.stack.http_front import LocalHttpApi
from tests.e2e.conftest import FIGURES
from tests.e2e.targets import LocalRun
from tests.hostile.snapshot import Snapshot, difference, take

SEED = 20153
EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_path(
    DOCUMENT_PATH,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "deterministic": True},
            "phases": {
                "examples": {"enabled": False},
                "coverage": {"enabled": False},
                "stateful": {"enabled": False},
            },
        }
    ),
)


@dataclass(frozen=True)
class Exchange:
    method: str
    target: str
    status: int
    changes: list[str]


@dataclass
class Recorder:
    """Wraps the front's `invoke`: reads the state around every request, under the lock."""

    run: LocalRun
    exchanges: list[Exchange] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        info = self.run.info
        self._client = boto3.client("dynamodb", region_name=info.region, endpoint_url=info.moto_url)

    def state(self) -> Snapshot:
        return take(self._client, self.run.info.tables)

    def wrap(self, invoke: Any) -> Any:
        def recorded(
            api: LocalHttpApi,
            method: str,
            target: str,
            headers: dict[str, str],
            body: bytes,
            source_ip: str,
        ) -> tuple[int, dict[str, str], bytes]:
            with INVOCATION_LOCK:  # no handler but this request's runs until it is released
                before = self.state()
                status, reply_headers, reply = invoke(api, method, target, headers, body, source_ip)
                changes = difference(before, self.state()) if 400 <= status < 500 else []
            self.exchanges.append(Exchange(method, target, status, changes))
            return status, reply_headers, reply

        return recorded


@pytest.fixture(scope="module")
def recorder(local_stack: LocalRun) -> Iterator[Recorder]:
    with pytest.MonkeyPatch.context() as patch:
        recorder = Recorder(local_stack)
        patch.setattr(LocalHttpApi, "invoke", recorder.wrap(LocalHttpApi.invoke))
        yield recorder
    sent = recorder.exchanges
    refused = sum(1 for exchange in sent if 400 <= exchange.status < 500)
    FIGURES.append(
        f"schemathesis: {len(sent)} cases sent in {time.perf_counter() - recorder.started:.1f} s"
        f" ({refused} answered 4xx, each leaving every table as it was)"
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_is_a_server_error_and_none_refused_changes_anything(
    case: schemathesis.Case[Any], recorder: Recorder
) -> None:
    # WHEN a generated request is sent to the local stack
    response = case.call(base_url=recorder.run.target.base_url, timeout=30)

    # THEN the answer is no server error, and as the document says
    case.validate_response(response, checks=CHECKS)

    # AND a refusal stored nothing
    exchange = recorder.exchanges[-1]
    assert exchange.status == response.status_code
    assert not exchange.changes, "\n".join(
        [f"{exchange.method} {exchange.target} -> {exchange.status} changed:", *exchange.changes]
    )
