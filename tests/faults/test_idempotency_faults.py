"""Fault 5: an `Idempotency-Key`'s record exists, but the append it guards failed or never ran.

(a) the append fails: the in-progress record is removed with the failure, so the same key
    runs the command afresh — once;
(b) the function dies after the record is written and before the append: the record is left
    in progress. A retry is told to retry later (409 with Retry-After, not a 500) until its
    lease runs out; then the same key records the command exactly once.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.eventstore import DynamoDBEventStore
from tests.faults.system import LambdaDied, System, assert_exactly_once
from tests.faults.wire import ALWAYS, Wire
from tests.functions.http import Reply, staff
from tests.functions.rounds import ROUND_ID, Rounds
from tests.functions.test_commands_lifecycle import round_body

ROUND_STREAM = f"round-{ROUND_ID}"


def schedule(rounds: Rounds, key: str = "sched-1") -> Reply:
    return staff("POST", "/rounds", round_body(rounds), key=key)


def test_a_throttled_append_leaves_no_record_and_the_same_key_then_runs_once(
    system: System, rounds: Rounds, wire: Wire
) -> None:
    # GIVEN DynamoDB throttling every append, past botocore's retries
    wire.inject("TransactWriteItems", system.events_table, "throttled", times=ALWAYS)

    # WHEN staff schedule a round under a key
    failed = schedule(rounds)

    # THEN they are told to retry later, nothing is stored, and no record holds the key
    assert (failed.status, failed.headers["Retry-After"].isdigit()) == (503, True)
    assert failed.headers["Content-Type"] == "application/problem+json"
    assert system.event_items() == []
    assert system.idempotency_items() == []

    # WHEN DynamoDB recovers and the same request comes with the same key, twice
    wire.heal()
    first, again = schedule(rounds), schedule(rounds)

    # THEN it ran once: one event, and the second answer is the first one replayed
    assert (first.status, first.body) == (201, {"round_id": ROUND_ID, "version": 1})
    assert (again.status, again.body) == (201, first.body)
    assert system.types(ROUND_STREAM) == ["RoundScheduled"]
    assert [i["status"]["S"] for i in system.idempotency_items()] == ["COMPLETED"]
    system.project()
    assert_exactly_once(system)


def test_an_append_that_raises_a_bug_leaves_no_record_and_the_same_key_then_runs_once(
    system: System, rounds: Rounds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an append that fails with an error no handler maps (a bug: Lambda's 500)
    with monkeypatch.context() as broken:

        def append(*args: Any, **kwargs: Any) -> int:
            raise RuntimeError("the store adapter is broken")

        broken.setattr(DynamoDBEventStore, "append", append)
        with pytest.raises(RuntimeError):
            schedule(rounds)

    # THEN the in-progress record went with the failure, and the fixed code runs once
    assert system.idempotency_items() == []
    first, again = schedule(rounds), schedule(rounds)
    assert (first.status, again.status, again.body) == (201, 201, first.body)
    assert system.types(ROUND_STREAM) == ["RoundScheduled"]
    system.project()
    assert_exactly_once(system)


def test_a_function_that_died_before_the_append_leaves_the_key_in_progress_then_runs_once(
    system: System, rounds: Rounds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the function dies after its key's record is written, before it appends
    with monkeypatch.context() as dying:

        def die(*args: Any, **kwargs: Any) -> int:
            raise LambdaDied

        dying.setattr(DynamoDBEventStore, "append", die)
        with pytest.raises(LambdaDied):
            schedule(rounds)
    (record,) = system.idempotency_items()
    assert record["status"]["S"] == "INPROGRESS"
    assert system.event_items() == []

    # WHEN the client retries at once
    busy = schedule(rounds)

    # THEN it is told the request is running and to retry later; nothing is recorded
    assert (busy.status, busy.headers["Retry-After"].isdigit()) == (409, True)
    assert "Idempotency-Key" in busy.body["detail"]
    assert system.event_items() == []

    # WHEN the in-progress lease has run out and the client retries, then once more
    system.expire_in_progress()
    first, again = schedule(rounds), schedule(rounds)

    # THEN the command ran exactly once
    assert (first.status, first.body) == (201, {"round_id": ROUND_ID, "version": 1})
    assert (again.status, again.body) == (201, first.body)
    assert system.types(ROUND_STREAM) == ["RoundScheduled"]
    system.project()
    assert_exactly_once(system)
