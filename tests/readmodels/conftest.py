"""Fixtures for the read-model tests: both stores behind one parametrized `read_store`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from infra.readmodels import DynamoDBReadModelStore, InMemoryReadModelStore, ReadModelStore
from tests.readmodels.moto_speed import copy_tables_once

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Small pages, so any partition longer than this exercises the paging path.
PAGE_SIZE = 3


@pytest.fixture(params=["memory", "dynamodb"])
def read_store(request: pytest.FixtureRequest) -> ReadModelStore:
    if request.param == "memory":
        return InMemoryReadModelStore()
    client: DynamoDBClient = request.getfixturevalue("dynamodb_client")
    tables: dict[str, str] = request.getfixturevalue("template_tables")
    return DynamoDBReadModelStore(
        client, tables["ReadModelTable"], pointer_max_age=0, page_size=PAGE_SIZE
    )


@pytest.fixture(autouse=True)
def _fast_moto_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    copy_tables_once(monkeypatch)
