"""The scenario published end to end under moto, for the query tests: events appended to the
event store, their real stream records through the projector function, the read models it
wrote. Built once per test module (the queries only read it)."""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.common import bootstrap
from infra.eventstore import DynamoDBEventStore
from tests.readmodels.moto_speed import copy_tables_once
from tests.readmodels.scenario import scenario, seed
from tests.readmodels.streams import StreamTap
from tests.support.apigw import LambdaContext, http_event
from tests.support.aws import FAKE_ENVIRONMENT, REGION
from tests.support.template import create_template_tables


@dataclass(frozen=True)
class Published:
    tables: dict[str, str]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


@contextmanager
def published_scenario() -> Iterator[Published]:
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name, value in FAKE_ENVIRONMENT.items():
            patch.setenv(name, value)
        copy_tables_once(patch)
        client = boto3.client("dynamodb", region_name=REGION)
        tables = create_template_tables(client)
        for name, value in {
            "EVENT_STORE_TABLE": tables["EventStoreTable"],
            "READ_MODEL_TABLE": tables["ReadModelTable"],
            "POWERTOOLS_SERVICE_NAME": "programme-engine-test",
            "POWERTOOLS_METRICS_NAMESPACE": "ProgrammeEngineTest",
            "POWERTOOLS_TRACE_DISABLED": "1",
        }.items():
            patch.setenv(name, value)
        bootstrap.reset()
        seed(DynamoDBEventStore(client, tables["EventStoreTable"]), scenario().events)
        tap = StreamTap(tables["EventStoreTable"])
        projector = importlib.import_module("functions.projector.app")
        response = projector.handler(tap.lambda_event(tap.records()), LambdaContext())
        assert response["batchItemFailures"] == []
        # The queries function must not know where the events are: on AWS it may not read them.
        patch.delenv("EVENT_STORE_TABLE")
        bootstrap.reset()
        try:
            yield Published(tables)
        finally:
            bootstrap.reset()


def get(path: str, query: dict[str, str] | None = None) -> Answer:
    """GET through the queries function, as API Gateway's HTTP API would call it."""
    app = importlib.import_module("functions.queries.app")
    response = app.handler(http_event("GET", path, query=query), LambdaContext())
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return Answer(response["statusCode"], response.get("headers") or {}, body)
