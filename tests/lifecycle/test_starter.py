"""The starter: the round's schedule in the event store's stream decides which execution runs.

`RoundScheduled` starts the round's execution, `RoundRescheduled` replaces it with the new
schedule's and `RoundCancelled` stops it, each exactly once however often delivered. A Wait
lasts until its transition is due, so the starter, not the waiting execution, is what acts
on a change: these tests run on a clock whose Waits last an hour of real time, so that a
waiting execution does not look at the round again while the test runs, as on AWS.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from domain import CancelRound, RescheduleRound
from events import ApplicationsOpened
from functions.common import bootstrap
from programme.round3 import data as r3
from programme.stack.clock import LocalClock
from tests.lifecycle.harness import Lifecycle, the, until
from tests.lifecycle.streams import stream_batch
from tests.lifecycle.test_round_lifecycle import STAFF, schedule_round_3
from tests.support.stack import FunctionsEnv


def deliver(lifecycle: Lifecycle, batch: dict[str, Any]) -> Any:
    """The batch to the starter function, as the event source mapping would invoke it."""
    response = lifecycle.lambdas.invoke("LifecycleStarterFunction", json.dumps(batch))
    assert "FunctionError" not in response, response["Payload"]
    return response["Payload"]


def records(functions_env: FunctionsEnv, *versions: int) -> dict[str, Any]:
    """The stream's records of round 3 at these stream versions (all of them if none given)."""
    batch = stream_batch(functions_env.tables["EventStoreTable"])
    batch["Records"] = [
        record
        for record in batch["Records"]
        if not versions or int(record["dynamodb"]["NewImage"]["version"]["N"]) in versions
    ]
    return batch


def with_waits_as_long_as_on_aws(lifecycle: Lifecycle) -> Lifecycle:
    """The harness on a clock whose Waits for a future instant last an hour of real time."""
    clock = LocalClock(lifecycle.clock(), poll=timedelta(hours=1))
    bootstrap.set_clock(clock)
    return replace(lifecycle, clock=clock)


def waiting(lifecycle: Lifecycle, name: str = r3.ROUND_ID) -> None:
    until(lambda: "WaitUntilDue" in lifecycle.entered_states(name), f"{name} waits")


def test_a_scheduled_round_gets_one_execution_named_after_it_however_often_delivered(
    lifecycle: Lifecycle, functions_env: FunctionsEnv
) -> None:
    # GIVEN round 3 scheduled in the event store
    schedule_round_3(lifecycle.driver())
    batch = records(functions_env)

    # WHEN the stream's batch reaches the starter, and is delivered once more
    first = deliver(lifecycle, batch)
    again = deliver(lifecycle, batch)

    # THEN one execution runs, named after the round, and no record failed either time
    assert first == again == {"batchItemFailures": []}
    assert lifecycle.executions() == {r3.ROUND_ID: "RUNNING"}


def test_a_date_moved_earlier_is_met_by_the_new_schedules_execution(
    lifecycle: Lifecycle, functions_env: FunctionsEnv
) -> None:
    # GIVEN round 3 scheduled, and its execution waiting (as on AWS) for applications to open
    lifecycle = with_waits_as_long_as_on_aws(lifecycle)
    driver = lifecycle.driver()
    schedule_round_3(driver)
    deliver(lifecycle, records(functions_env, 1))
    waiting(lifecycle)

    # WHEN staff move the opening a week earlier (stream version 2), that date comes, and
    # then the reschedule's record reaches the starter
    earlier = r3.APPLICATION_OPENS_AT - timedelta(days=7)
    driver.run(RescheduleRound(r3.ROUND_ID, application_opens_at=earlier), actor=STAFF)
    lifecycle.advance_to(earlier)
    assert deliver(lifecycle, records(functions_env, 2)) == {"batchItemFailures": []}

    # THEN the new schedule's execution opens applications at once, for the earlier date ...
    until(lambda: lifecycle.state().status == "open", "applications open")
    opened, opened_meta = the(ApplicationsOpened)
    assert opened.due_at == earlier
    assert opened_meta.correlation_id == "2015-3.v2"

    # ... and the execution that was waiting for the old date was stopped, having done nothing
    until(lifecycle.finished, "the old execution stopped")
    assert lifecycle.executions() == {r3.ROUND_ID: "ABORTED", "2015-3.v2": "RUNNING"}
    assert "ApplyTransition" not in lifecycle.entered_states()

    # AND the whole stream delivered again stops and starts nothing
    assert deliver(lifecycle, records(functions_env)) == {"batchItemFailures": []}
    assert lifecycle.executions() == {r3.ROUND_ID: "ABORTED", "2015-3.v2": "RUNNING"}
    assert lifecycle.event_types().count("ApplicationsOpened") == 1


def test_a_schedule_and_its_change_in_one_batch_leave_the_new_schedules_execution_running(
    lifecycle: Lifecycle, functions_env: FunctionsEnv
) -> None:
    # GIVEN round 3 scheduled, then its closing moved a day later, before the starter ran
    driver = lifecycle.driver()
    schedule_round_3(driver)
    driver.run(RescheduleRound(r3.ROUND_ID, closes_at=r3.CLOSES_AT + timedelta(days=1)), STAFF)
    batch = records(functions_env)

    # WHEN both records reach the starter in one batch, and the batch is delivered again
    first = deliver(lifecycle, batch)
    again = deliver(lifecycle, batch)

    # THEN the new schedule's execution runs alone: the first was started and stopped at once
    # (or, reading the round first, found the newer schedule and handed over to its very
    # execution); the second delivery changed nothing
    assert first == again == {"batchItemFailures": []}
    until(lifecycle.finished, "the first execution ended")
    statuses = lifecycle.executions()
    assert statuses.pop("2015-3.v2") == "RUNNING"
    assert statuses in ({r3.ROUND_ID: "ABORTED"}, {r3.ROUND_ID: "SUCCEEDED"})


def test_a_cancellation_stops_the_rounds_execution_at_once(
    lifecycle: Lifecycle, functions_env: FunctionsEnv
) -> None:
    # GIVEN round 3 scheduled, and its execution waiting (as on AWS) for applications to open
    lifecycle = with_waits_as_long_as_on_aws(lifecycle)
    driver = lifecycle.driver()
    schedule_round_3(driver)
    deliver(lifecycle, records(functions_env, 1))
    waiting(lifecycle)

    # WHEN staff cancel the round and the cancellation's record reaches the starter
    driver.run(CancelRound(r3.ROUND_ID, "Too few applicants"), actor=STAFF)
    assert deliver(lifecycle, records(functions_env, 2)) == {"batchItemFailures": []}

    # THEN the waiting execution is stopped, having done nothing, and nothing else runs
    until(lifecycle.finished, "the execution stopped")
    assert lifecycle.executions() == {r3.ROUND_ID: "ABORTED"}
    assert "ApplyTransition" not in lifecycle.entered_states()

    # AND the whole stream delivered again starts nothing
    assert deliver(lifecycle, records(functions_env)) == {"batchItemFailures": []}
    assert lifecycle.executions() == {r3.ROUND_ID: "ABORTED"}
    assert lifecycle.event_types() == ["RoundScheduled", "RoundCancelled"]


def test_events_that_leave_the_schedule_alone_start_and_stop_nothing(
    lifecycle: Lifecycle, functions_env: FunctionsEnv
) -> None:
    # GIVEN round 3's execution started from the stream, and applications opened by it
    schedule_round_3(lifecycle.driver())
    deliver(lifecycle, records(functions_env, 1))
    lifecycle.advance_to(r3.APPLICATION_OPENS_AT)
    until(lambda: lifecycle.state().status == "open", "applications open")
    started = lifecycle.client.describe_execution(
        executionArn=lifecycle.execution_arn(r3.ROUND_ID)
    )["startDate"]

    # WHEN a batch holding only the transition's record arrives
    response = deliver(lifecycle, records(functions_env, 2))

    # THEN it succeeds, and the very same execution runs on alone
    assert response == {"batchItemFailures": []}
    assert lifecycle.executions() == {r3.ROUND_ID: "RUNNING"}
    again = lifecycle.client.describe_execution(executionArn=lifecycle.execution_arn(r3.ROUND_ID))
    assert again["startDate"] == started
