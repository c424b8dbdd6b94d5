"""Fault 1: the function dies between the append and its answer (and before any projection).

The append is durable, so its stream record reaches the projector later all the same; the
sender, having had no answer, sends again — and records nothing new.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.eventstore import DynamoDBEventStore
from tests.domain.given import SKATTEVERKET
from tests.faults.system import LambdaDied, System, assert_exactly_once
from tests.functions.http import deliver_forms, deliver_typeform, staff, typeform_payload
from tests.functions.rounds import ROUND_ID, Rounds
from tests.functions.test_commands_lifecycle import round_body

ROUND_STREAM = f"round-{ROUND_ID}"


def die_after_append(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The next appends commit, then the function dies before it answers."""
    committed: list[int] = []
    append = DynamoDBEventStore.append

    def append_then_die(store: DynamoDBEventStore, *args: Any, **kwargs: Any) -> int:
        committed.append(append(store, *args, **kwargs))
        raise LambdaDied

    monkeypatch.setattr(DynamoDBEventStore, "append", append_then_die)
    return committed


def test_a_delivery_whose_function_died_after_the_append_is_projected_and_answered_duplicate(
    system: System, rounds: Rounds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an open round, projected
    rounds.open()
    system.project()
    payload = typeform_payload("tf-died-after-append")

    # WHEN the function dies right after appending the application
    with monkeypatch.context() as dying:
        committed = die_after_append(dying)
        with pytest.raises(LambdaDied):
            deliver_typeform(payload)
    assert committed == [3]
    stored = system.event_items()

    # THEN the application is in the store once, and its stream record, delivered later,
    # projects it
    assert len(system.with_delivery("tf-died-after-append")) == 1
    assert len(system.project()) == 1
    assert_exactly_once(system)
    projected = system.read_model_items()

    # WHEN Typeform, without an answer, delivers it again
    again = deliver_typeform(payload)

    # THEN it is a duplicate: the store, the stream and the read models are unchanged
    assert (again.status, again.body["status"]) == (202, "duplicate")
    assert system.event_items() == stored
    assert system.project() == []
    assert system.read_model_items() == projected
    assert_exactly_once(system)


def test_a_plan_whose_function_died_after_the_append_is_recorded_once(
    system: System, rounds: Rounds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a running round with a pair
    pair_id = rounds.running_with_a_pair()
    plan = {
        "type": "plan.submitted",
        "round_id": ROUND_ID,
        "pair_id": pair_id,
        "title": "Styrning i lärpar",
        "document_url": "https://example.se/plan.pdf",
        "document_sha256": "a" * 64,
    }

    # WHEN the function dies after appending the plan, and the sender retries the delivery
    with monkeypatch.context() as dying:
        die_after_append(dying)
        with pytest.raises(LambdaDied):
            deliver_forms(plan, "msg_plan_died")
    stored = system.event_items()
    again = deliver_forms(plan, "msg_plan_died")

    # THEN the plan is recorded once, the retry changed nothing, and it projects once
    assert (again.status, again.body["status"]) == (202, "duplicate")
    assert system.types(ROUND_STREAM).count("PlanSubmitted") == 1
    assert system.event_items() == stored
    system.project()
    assert_exactly_once(system)


def test_a_staff_command_whose_function_died_after_the_append_is_replayed_as_a_no_op(
    system: System, rounds: Rounds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an application under selection
    rounds.open()
    rounds.apply(SKATTEVERKET)
    rounds.close_applications()
    decision = {"org_number": SKATTEVERKET, "decision": "admit"}
    path = f"/rounds/{ROUND_ID}/decisions"

    # WHEN the admission is appended under an Idempotency-Key and the function dies
    with monkeypatch.context() as dying:
        committed = die_after_append(dying)
        with pytest.raises(LambdaDied):
            staff("POST", path, decision, key="admit-skv")
    stored = system.event_items()

    # THEN the key's record is left in progress: a retry now is told to retry later (not 500)
    (record,) = system.idempotency_items()
    assert record["status"]["S"] == "INPROGRESS"
    busy = staff("POST", path, decision, key="admit-skv")
    assert (busy.status, busy.headers["Retry-After"].isdigit()) == (409, True)
    assert system.event_items() == stored

    # WHEN the in-progress lease has run out and the client retries again
    system.expire_in_progress()
    retried = staff("POST", path, decision, key="admit-skv")

    # THEN the command runs again, finds the admission there, and records nothing new
    assert (retried.status, retried.body) == (200, {"round_id": ROUND_ID, "version": committed[0]})
    assert system.event_items() == stored
    assert system.types(ROUND_STREAM).count("AgencyAdmitted") == 1
    again = staff("POST", path, decision, key="admit-skv")
    assert (again.status, again.body) == (200, retried.body)
    system.project()
    assert_exactly_once(system)


def test_a_round_scheduled_by_a_function_that_died_after_the_append_exists_once(
    system: System, rounds: Rounds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # WHEN staff schedule a round without a key and the function dies after the append
    with monkeypatch.context() as dying:
        die_after_append(dying)
        with pytest.raises(LambdaDied):
            staff("POST", "/rounds", round_body(rounds))

    # THEN the client's retry cannot schedule it twice: the domain refuses a second round
    again = staff("POST", "/rounds", round_body(rounds))
    assert (again.status, again.body["rule"]) == (409, "ensure_round_is_new")
    assert system.types(ROUND_STREAM) == ["RoundScheduled"]
    system.project()
    assert_exactly_once(system)
