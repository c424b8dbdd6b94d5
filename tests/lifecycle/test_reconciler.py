"""The daily reconciler: every round neither closed nor cancelled gets a running execution."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from domain import CancelRound, RescheduleRound
from programme.round3 import data as r3
from programme.stack.lambdas import LocalLambdas
from tests.lifecycle.harness import Lifecycle, run, until
from tests.lifecycle.streams import stream_batch
from tests.support.stack import FunctionsEnv

PROJECTOR = LocalLambdas({"ProjectorFunction": "functions.projector.app.handler"})


def schedule(round_id: str, number: int) -> None:
    command = r3.schedule_command(round_id=round_id, number=number, title=f"Omgång {number}")
    run(command, round_id)


def project(functions_env: FunctionsEnv) -> None:
    """Bring the read models up to date, as the projector does from the stream."""
    batch = stream_batch(functions_env.tables["EventStoreTable"])
    response = PROJECTOR.invoke("ProjectorFunction", json.dumps(batch))
    assert response["Payload"] == {"batchItemFailures": []}, response["Payload"]


def reconcile(lifecycle: Lifecycle) -> Any:
    response = lifecycle.lambdas.invoke("LifecycleReconcilerFunction", b"{}")
    assert "FunctionError" not in response, response["Payload"]
    return response["Payload"]


def test_the_reconciler_starts_missing_executions_and_leaves_running_ones_alone(
    lifecycle: Lifecycle, functions_env: FunctionsEnv
) -> None:
    # GIVEN four rounds: one with its execution running, one that never got one, one whose
    # execution failed, and one cancelled
    for number, round_id in enumerate(("2015-3", "2016-4", "2017-5", "2018-6"), start=3):
        schedule(round_id, number)
    run(CancelRound("2018-6", "No funding"), "2018-6")
    lifecycle.start("2015-3")
    lifecycle.client.start_execution(  # an input it cannot read fails it at once
        stateMachineArn=lifecycle.state_machine_arn, name="2017-5", input='{"round_id":"2017-5"}'
    )
    until(lambda: lifecycle.status("2017-5") == "FAILED", "the execution failed")
    running_since = lifecycle.client.describe_execution(
        executionArn=lifecycle.execution_arn("2015-3")
    )["startDate"]
    project(functions_env)

    # WHEN the daily job runs
    result = reconcile(lifecycle)

    # THEN the round without an execution got its first, the failed one its next generation
    assert result == {"live": 3, "started": ["2016-4", "2017-5.gen2"]}
    assert lifecycle.executions() == {
        "2015-3": "RUNNING",
        "2016-4": "RUNNING",
        "2017-5": "FAILED",
        "2017-5.gen2": "RUNNING",
    }
    # ... and the running one is the very execution that ran before
    again = lifecycle.client.describe_execution(executionArn=lifecycle.execution_arn("2015-3"))
    assert again["startDate"] == running_since


def test_a_second_run_finds_every_live_round_running_and_starts_nothing(
    lifecycle: Lifecycle, functions_env: FunctionsEnv
) -> None:
    # GIVEN two rounds, and the reconciler has run once
    schedule("2015-3", 3)
    schedule("2016-4", 4)
    project(functions_env)
    reconcile(lifecycle)

    # WHEN it runs again
    result = reconcile(lifecycle)

    # THEN nothing more was started
    assert result == {"live": 2, "started": []}
    assert lifecycle.executions() == {"2015-3": "RUNNING", "2016-4": "RUNNING"}


def test_a_rescheduled_round_gets_the_next_generation_of_its_latest_schedule(
    lifecycle: Lifecycle, functions_env: FunctionsEnv
) -> None:
    # GIVEN round 3 rescheduled (stream version 2), and the execution the starter started
    # for the new schedule failed
    schedule("2015-3", 3)
    run(RescheduleRound("2015-3", closes_at=r3.CLOSES_AT + timedelta(days=1)), "2015-3")
    lifecycle.client.start_execution(  # an input it cannot read fails it at once
        stateMachineArn=lifecycle.state_machine_arn, name="2015-3.v2", input='{"round_id":"x"}'
    )
    until(lambda: lifecycle.status("2015-3.v2") == "FAILED", "the execution failed")
    project(functions_env)

    # WHEN the daily job runs
    result = reconcile(lifecycle)

    # THEN the round's latest schedule is carried on by its next generation
    assert result == {"live": 1, "started": ["2015-3.v2.gen2"]}
    assert lifecycle.executions()["2015-3.v2.gen2"] == "RUNNING"
