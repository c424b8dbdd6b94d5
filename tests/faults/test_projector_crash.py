"""Fault 2: the projector dies in the middle of a batch, some of its records' commits written.

Lambda sees an invocation error and delivers the whole batch again (bisected or not); every
record already committed is a repeat — its checkpoint says so — and the rest are applied.
Also: a commit DynamoDB throttles past botocore's retries fails that record alone, which is
retried from there.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from infra.readmodels import Commit, DynamoDBReadModelStore
from tests.faults.system import LambdaDied, System, assert_exactly_once, some_events
from tests.faults.wire import BOTOCORE_ATTEMPTS, Wire
from tests.readmodels.scenario import seed
from tests.readmodels.streams import sequence_numbers, versions

EVENTS = len(some_events())


def die_in_commit(
    monkeypatch: pytest.MonkeyPatch, after_commits: int, *, committed: bool
) -> list[int]:
    """The projector dies inside its `after_commits + 1`-th commit: before writing it, or
    after it was written (its answer never seen)."""
    calls: list[int] = []
    commit = DynamoDBReadModelStore.commit

    def dying_commit(store: DynamoDBReadModelStore, commits: Sequence[Commit]) -> None:
        calls.append(len(commits))
        if len(calls) <= after_commits:
            commit(store, commits)
            return
        if committed:
            commit(store, commits)
        raise LambdaDied

    monkeypatch.setattr(DynamoDBReadModelStore, "commit", dying_commit)
    return calls


@pytest.mark.parametrize(
    ("after_commits", "committed"),
    [(0, False), (1, True), (23, False), (EVENTS - 1, True)],
    ids=["first-unwritten", "second-written", "24th-unwritten", "last-written"],
)
def test_a_batch_redelivered_after_the_projector_died_mid_batch_applies_each_event_once(
    system: System, monkeypatch: pytest.MonkeyPatch, after_commits: int, committed: bool
) -> None:
    # GIVEN the scenario's events in the store, its stream records in one batch
    seed(system.events, some_events())
    records = system.tap.records()
    assert len(records) == EVENTS

    # WHEN the projector dies inside a commit, part of the batch written
    with monkeypatch.context() as dying:
        die_in_commit(dying, after_commits, committed=committed)
        with pytest.raises(LambdaDied):
            system.deliver(records)
    if after_commits or committed:  # something of the batch is written, not all of it
        assert system.read_model_items()

    # WHEN Lambda delivers the batch again: first halved (bisect on a function error), then whole
    half = len(records) // 2
    assert system.deliver(records[:half]) == []
    assert system.deliver(records) == []

    # THEN every event was applied exactly once to every view
    assert_exactly_once(system)


def test_a_commit_throttled_past_botocores_retries_fails_its_record_which_is_retried(
    system: System, wire: Wire
) -> None:
    # GIVEN the scenario's records, and DynamoDB throttling the 21st read-model commit until
    # botocore gives up on it
    seed(system.events, some_events())
    records = system.tap.records()
    fault = wire.inject(
        "TransactWriteItems", system.read_model_table, "throttled", times=BOTOCORE_ATTEMPTS, skip=20
    )

    # WHEN the batch is delivered
    failed = system.deliver(records)

    # THEN that record failed, and the later ones of its stream with it; the rest applied
    assert fault.hits == BOTOCORE_ATTEMPTS
    assert failed
    first = sequence_numbers(records).index(failed[0])
    assert first == 20
    stream = versions(records[first : first + 1])[0][0]
    assert {s for s, _ in versions([r for r in records if sequence_numbers([r])[0] in failed])} == {
        stream
    }

    # WHEN Lambda retries from the first failed record
    assert system.deliver(records[first:]) == []

    # THEN every event was applied exactly once
    assert_exactly_once(system)
