"""Fault 4: DynamoDB throttles, times out or cannot be reached, under the event store's
`TransactWriteItems` (the append) and `Query` (loading a stream).

Injected on the wire, beneath botocore (see `tests.faults.wire`):
- a fault botocore's own retries absorb changes nothing: recorded once, answered as usual;
- one they cannot absorb is a 503 with Retry-After (not a 500), with nothing recorded;
- the nasty one: the append committed but its answer was lost. botocore retries it with the
  same ClientRequestToken; DynamoDB would answer that retry with success, moto fails its
  version condition instead — either way the store recognises its own events (by id) and the
  command is answered as done. When even that check cannot be made the answer is a 503, and
  the sender's retry finds the event already there: a duplicate (or a no-op), never a second.
"""

from __future__ import annotations

import pytest

from tests.domain.given import KRIMINALVARDEN, SKATTEVERKET
from tests.faults.system import System, assert_exactly_once
from tests.faults.wire import ALWAYS, BOTOCORE_ATTEMPTS, Kind, Wire
from tests.functions.http import Reply, deliver_typeform, staff, typeform_payload
from tests.functions.rounds import ROUND_ID, Rounds
from tests.functions.test_commands_lifecycle import round_body

ROUND_STREAM = f"round-{ROUND_ID}"
APPEND, LOAD = "TransactWriteItems", "Query"
DELIVERY = "tf-fault-1"

PTEE = "ProvisionedThroughputExceededException"
THROTTLED = "ThrottlingException"
CANCELLED = "TransactionCanceledException"  # cancelled for a ThrottlingError: not retried
SERVER = "InternalServerError"


def deliver() -> Reply:
    return deliver_typeform(typeform_payload(DELIVERY))


def assert_retry_later(reply: Reply) -> None:
    assert reply.status == 503
    assert reply.headers["Retry-After"].isdigit()
    assert reply.headers["Content-Type"] == "application/problem+json"


@pytest.fixture
def open_round(system: System, rounds: Rounds) -> Rounds:
    rounds.open()
    system.project()
    return rounds


@pytest.mark.parametrize(
    ("operation", "kind", "code", "times"),
    [
        (APPEND, "throttled", PTEE, 1),
        (APPEND, "throttled", THROTTLED, BOTOCORE_ATTEMPTS - 1),
        (APPEND, "throttled", SERVER, 2),
        (APPEND, "timeout", PTEE, 2),
        (APPEND, "unreachable", PTEE, BOTOCORE_ATTEMPTS - 1),
        (LOAD, "throttled", PTEE, BOTOCORE_ATTEMPTS - 1),
        (LOAD, "timeout", PTEE, 1),
    ],
)
def test_a_fault_botocore_absorbs_records_the_delivery_once(
    system: System,
    open_round: Rounds,
    wire: Wire,
    operation: str,
    kind: Kind,
    code: str,
    times: int,
) -> None:
    # GIVEN DynamoDB failing the event store's next calls, fewer times than botocore tries
    fault = wire.inject(operation, system.events_table, kind, code=code, times=times)

    # WHEN an application is delivered
    reply = deliver()

    # THEN botocore's retries got through: recorded once, and projected once
    assert (reply.status, reply.body["status"]) == (202, "recorded")
    assert fault.hits == times
    assert len(system.with_delivery(DELIVERY)) == 1
    system.project()
    assert_exactly_once(system)


@pytest.mark.parametrize(
    ("operation", "kind", "code", "times"),
    [
        (APPEND, "throttled", PTEE, ALWAYS),
        (APPEND, "throttled", THROTTLED, ALWAYS),
        (APPEND, "throttled", SERVER, ALWAYS),
        (APPEND, "throttled", CANCELLED, 1),
        (APPEND, "timeout", PTEE, ALWAYS),
        (APPEND, "unreachable", PTEE, ALWAYS),
        (LOAD, "throttled", PTEE, ALWAYS),
        (LOAD, "timeout", PTEE, ALWAYS),
        (LOAD, "unreachable", PTEE, ALWAYS),
    ],
)
def test_a_fault_botocore_cannot_absorb_is_503_and_records_nothing(
    system: System,
    open_round: Rounds,
    wire: Wire,
    operation: str,
    kind: Kind,
    code: str,
    times: int,
) -> None:
    # GIVEN DynamoDB failing the event store's calls past botocore's retries
    before = system.event_items()
    fault = wire.inject(operation, system.events_table, kind, code=code, times=times)

    # WHEN an application is delivered
    reply = deliver()

    # THEN the sender is told to retry later, and nothing at all was recorded
    assert_retry_later(reply)
    assert fault.hits >= 1
    assert system.event_items() == before

    # WHEN DynamoDB recovers and the sender retries
    wire.heal()
    again = deliver()

    # THEN the application is recorded, once
    assert (again.status, again.body["status"]) == (202, "recorded")
    assert len(system.with_delivery(DELIVERY)) == 1
    system.project()
    assert_exactly_once(system)


@pytest.mark.parametrize(("kind", "code"), [("throttled", PTEE), ("timeout", PTEE)])
def test_a_staff_command_the_store_cannot_take_is_503_and_its_key_runs_once_later(
    system: System, rounds: Rounds, wire: Wire, kind: Kind, code: str
) -> None:
    # GIVEN DynamoDB failing every append
    wire.inject(APPEND, system.events_table, kind, code=code, times=ALWAYS)

    # WHEN staff schedule a round under a key
    failed = staff("POST", "/rounds", round_body(rounds), key="sched-fault")

    # THEN they are told to retry later; nothing is stored and the key is free
    assert_retry_later(failed)
    assert system.event_items() == []
    assert system.idempotency_items() == []

    # WHEN DynamoDB recovers and they retry with the key
    wire.heal()
    retried = staff("POST", "/rounds", round_body(rounds), key="sched-fault")

    # THEN the round is scheduled once
    assert (retried.status, retried.body) == (201, {"round_id": ROUND_ID, "version": 1})
    assert system.types(ROUND_STREAM) == ["RoundScheduled"]
    system.project()
    assert_exactly_once(system)


def test_an_append_that_committed_but_timed_out_is_recorded_once_and_answered_recorded(
    system: System, open_round: Rounds, wire: Wire
) -> None:
    # GIVEN the append commits but its answer is lost; botocore sends it again
    fault = wire.inject(APPEND, system.events_table, "timeout_after_commit")

    # WHEN an application is delivered
    reply = deliver()

    # THEN the retry was recognised as the append itself: recorded, and stored once
    assert (reply.status, reply.body["status"]) == (202, "recorded")
    assert fault.hits == 1
    assert wire.count(APPEND, system.events_table) == 2
    assert len(system.with_delivery(DELIVERY)) == 1

    # AND a re-delivery is a duplicate that records nothing
    stored = system.event_items()
    again = deliver()
    assert (again.status, again.body["status"]) == (202, "duplicate")
    assert system.event_items() == stored
    system.project()
    assert_exactly_once(system)


def test_another_writer_slipping_in_before_a_timed_out_append_is_retried_loses_nothing(
    system: System, open_round: Rounds, wire: Wire
) -> None:
    # GIVEN the append times out unapplied, and before botocore sends it again another
    # writer appends to the same stream (at the version the append was for)
    wire.inject(
        APPEND,
        system.events_table,
        "timeout",
        meanwhile=lambda: open_round.apply(KRIMINALVARDEN),
    )

    # WHEN an application is delivered
    reply = deliver()

    # THEN the retry did not overwrite the other writer's event: it lost the race, the
    # command decided again on the stream as it had become, and both are stored once
    assert (reply.status, reply.body["status"]) == (202, "recorded")
    assert system.types(ROUND_STREAM).count("AgencyApplied") == 2
    assert len(system.with_delivery(DELIVERY)) == 1
    system.project()
    assert_exactly_once(system)


def test_an_append_that_committed_while_every_answer_was_lost_is_found_by_its_event_ids(
    system: System, open_round: Rounds, wire: Wire
) -> None:
    # GIVEN the append commits, then it and every retry of it time out
    wire.inject(APPEND, system.events_table, "timeout_after_commit")
    wire.inject(APPEND, system.events_table, "timeout", times=ALWAYS)

    # WHEN an application is delivered
    reply = deliver()

    # THEN botocore gave up, and the store's look at its versions found the append there
    assert wire.count(APPEND, system.events_table) == BOTOCORE_ATTEMPTS
    assert (reply.status, reply.body["status"]) == (202, "recorded")
    assert len(system.with_delivery(DELIVERY)) == 1
    system.project()
    assert_exactly_once(system)


def test_a_committed_append_nobody_could_confirm_is_503_and_the_retry_a_duplicate(
    system: System, open_round: Rounds, wire: Wire
) -> None:
    # GIVEN the append commits, every answer is lost, and from then on the store cannot be
    # read either
    committed = wire.inject(APPEND, system.events_table, "timeout_after_commit")
    wire.inject(APPEND, system.events_table, "timeout", times=ALWAYS)
    wire.inject(LOAD, system.events_table, "throttled", times=ALWAYS, after=committed)

    # WHEN an application is delivered
    reply = deliver()

    # THEN the sender is told to retry later (it cannot be told more), the event is stored once
    assert_retry_later(reply)
    assert len(system.with_delivery(DELIVERY)) == 1
    stored = system.event_items()

    # WHEN DynamoDB recovers and the sender retries
    wire.heal()
    again = deliver()

    # THEN the command, reloaded, sees the delivery already recorded: a duplicate, no new event
    assert (again.status, again.body["status"]) == (202, "duplicate")
    assert system.event_items() == stored
    system.project()
    assert_exactly_once(system)


def test_a_staff_command_that_committed_but_timed_out_is_answered_once_with_its_result(
    system: System, rounds: Rounds, wire: Wire
) -> None:
    # GIVEN the append of a new round commits but its answer is lost
    wire.inject(APPEND, system.events_table, "timeout_after_commit")

    # WHEN staff schedule the round under a key, and repeat the request
    first = staff("POST", "/rounds", round_body(rounds), key="sched-lost")
    again = staff("POST", "/rounds", round_body(rounds), key="sched-lost")

    # THEN both get the 201 (not a 409 for "the round exists"), and the round exists once
    assert (first.status, first.body) == (201, {"round_id": ROUND_ID, "version": 1})
    assert (again.status, again.body) == (201, first.body)
    assert system.types(ROUND_STREAM) == ["RoundScheduled"]
    system.project()
    assert_exactly_once(system)


def test_a_decision_committed_unconfirmed_is_503_and_its_retry_a_no_op(
    system: System, rounds: Rounds, wire: Wire
) -> None:
    # GIVEN an application under selection, and an admission that commits unconfirmed
    rounds.open()
    rounds.apply(SKATTEVERKET)
    rounds.close_applications()
    decision = {"org_number": SKATTEVERKET, "decision": "admit"}
    path = f"/rounds/{ROUND_ID}/decisions"
    committed = wire.inject(APPEND, system.events_table, "timeout_after_commit")
    wire.inject(APPEND, system.events_table, "timeout", times=ALWAYS)
    wire.inject(LOAD, system.events_table, "timeout", times=ALWAYS, after=committed)

    # WHEN staff admit under a key
    failed = staff("POST", path, decision, key="admit-lost")

    # THEN they are told to retry later; the admission is stored, once
    assert_retry_later(failed)
    assert system.types(ROUND_STREAM).count("AgencyAdmitted") == 1
    stored = system.event_items()

    # WHEN DynamoDB recovers and they retry with the key
    wire.heal()
    retried = staff("POST", path, decision, key="admit-lost")

    # THEN the command finds the agency admitted: a no-op at the admission's version
    admitted_at = system.types(ROUND_STREAM).index("AgencyAdmitted") + 1
    assert (retried.status, retried.body) == (200, {"round_id": ROUND_ID, "version": admitted_at})
    assert system.event_items() == stored
    system.project()
    assert_exactly_once(system)


def test_a_cancelled_append_leaves_the_stream_whole_for_its_readers(system: System) -> None:
    # GIVEN a reader of the stream, and a transaction cancelled after its first Put went in
    # (moto rolls back by swapping in a copy of the table — its stream shard too)
    system.tap.records()
    item = {"stream_id": {"S": "stream-x"}, "version": {"N": "1"}}
    put = {"TableName": system.events_table, "ConditionExpression": "attribute_not_exists(#v)"}
    names = {"ExpressionAttributeNames": {"#v": "version"}}
    system.client.put_item(TableName=system.events_table, Item=item)
    with pytest.raises(system.client.exceptions.TransactionCanceledException):
        system.client.transact_write_items(
            TransactItems=[
                {"Put": {**put, **names, "Item": {**item, "version": {"N": "2"}}}},
                {"Put": {**put, **names, "Item": item}},
            ]
        )

    # WHEN the stream goes on
    system.client.put_item(TableName=system.events_table, Item={**item, "version": {"N": "3"}})

    # THEN the reader sees what was written, and nothing of the cancelled transaction
    seen = [int(r["dynamodb"]["NewImage"]["version"]["N"]) for r in system.tap.records()]
    assert seen == [1, 3]
