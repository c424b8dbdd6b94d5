"""`GET /reports/participation.csv` over more rows than one page of the read model holds."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
import pytest

from functions.common import bootstrap
from infra.readmodels import Checkpoint, Commit, DocKey, DynamoDBReadModelStore, Target
from infra.readmodels.documents import encode
from infra.readmodels.views.participation import ROWS
from tests.functions.test_queries_csv import REPORT, rows_of
from tests.readmodels.moto_speed import copy_tables_once
from tests.readmodels.published import get
from tests.support.aws import REGION
from tests.support.stack import FunctionsEnv


def test_a_large_report_pages_through_the_read_model(
    functions_env: FunctionsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 250 participation rows, and a read-model store reading 40 items per page
    copy_tables_once(monkeypatch)
    client = boto3.client("dynamodb", region_name=REGION)
    store = DynamoDBReadModelStore(client, functions_env.tables["ReadModelTable"], page_size=40)
    rows: dict[DocKey, str | None] = {
        DocKey(ROWS, f"000009#2030-9#{n:06d}-0000"): encode(
            {
                "round_id": "2030-9",
                "round_number": 9,
                "org_number": f"{n:06d}-0000",
                "agency_name": f"Myndighet {n}",
            }
        )
        for n in range(250)
    }
    for start in range(0, 250, 90):
        chunk = dict(list(rows.items())[start : start + 90])
        store.commit(
            [Commit(Target("participation", 1), f"round-{start}", 0, Checkpoint(1), chunk)]
        )
    monkeypatch.setattr(bootstrap, "read_models", cache(lambda: store))  # reset() clears it
    queries: list[Any] = []
    client.meta.events.register(
        "provide-client-params.dynamodb.Query", lambda **kw: queries.append(kw)
    )
    # WHEN the report is asked for
    answer = get(REPORT)
    # THEN every row is in it, in order, read a page at a time
    read = rows_of(answer.text.encode("utf-8"))
    assert [row[2] for row in read[1:]] == [f"{n:06d}-0000" for n in range(250)]
    assert len(queries) == 7  # 250 rows / 40 per page
