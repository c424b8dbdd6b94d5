"""The starter: a `RoundScheduled` in the event store's stream starts exactly one execution."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from domain import RescheduleRound
from infra import round3_2015 as r3
from tests.lifecycle.harness import Lifecycle
from tests.lifecycle.streams import stream_batch
from tests.lifecycle.test_round_lifecycle import STAFF, schedule_round_3
from tests.support.stack import FunctionsEnv


def deliver(lifecycle: Lifecycle, batch: dict[str, Any]) -> Any:
    """The batch to the starter function, as the event source mapping would invoke it."""
    response = lifecycle.lambdas.invoke("LifecycleStarterFunction", json.dumps(batch))
    assert "FunctionError" not in response, response["Payload"]
    return response["Payload"]


def test_a_scheduled_round_gets_one_execution_named_after_it_however_often_delivered(
    lifecycle: Lifecycle, functions_env: FunctionsEnv
) -> None:
    # GIVEN round 3 scheduled (and then rescheduled) in the event store
    driver = lifecycle.driver()
    schedule_round_3(driver)
    later = r3.APPLICATION_OPENS_AT + timedelta(days=1)
    driver.run(RescheduleRound(r3.ROUND_ID, application_opens_at=later), actor=STAFF)
    batch = stream_batch(functions_env.tables["EventStoreTable"])

    # WHEN the stream's batch reaches the starter, and is delivered once more
    first = deliver(lifecycle, batch)
    again = deliver(lifecycle, batch)

    # THEN one execution runs, named after the round, and no record failed either time
    assert first == again == {"batchItemFailures": []}
    assert lifecycle.executions() == {r3.ROUND_ID: "RUNNING"}


def test_events_other_than_round_scheduled_start_nothing(
    lifecycle: Lifecycle, functions_env: FunctionsEnv
) -> None:
    # GIVEN round 3 scheduled, then rescheduled
    driver = lifecycle.driver()
    schedule_round_3(driver)
    driver.run(RescheduleRound(r3.ROUND_ID, closes_at=r3.CLOSES_AT + timedelta(days=1)), STAFF)

    # WHEN a batch holding only the reschedule's record arrives
    batch = stream_batch(functions_env.tables["EventStoreTable"])
    batch["Records"] = batch["Records"][1:]
    response = deliver(lifecycle, batch)

    # THEN it succeeds, and starts nothing
    assert response == {"batchItemFailures": []}
    assert lifecycle.executions() == {}
