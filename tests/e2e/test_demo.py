"""`programme demo`: round 3 of 2015 walked from scheduling to closed on both event stores."""

from __future__ import annotations

from collections import Counter

import pytest

from domain import fold
from infra import round3_2015 as r3
from infra.cli import main
from infra.demo import moto_dynamodb_store, walk_round_3
from infra.eventstore import InMemoryEventStore


def test_round_3_is_walked_to_closed_with_its_six_agencies_in_three_pairs() -> None:
    # WHEN round 3 is walked on the in-memory store
    result = walk_round_3(InMemoryEventStore())
    # THEN it is closed, every agency admitted and paired as in 2015, every plan presented
    assert result.state.status == "closed"
    admitted = {org for org, app in result.state.applications.items() if app.status == "admitted"}
    assert admitted == {agency.org_number for agency in r3.AGENCIES}
    formed = {(tuple(p.org_numbers), p.theme) for p in result.state.pairs.values()}
    assert formed == set(r3.PAIRS)
    assert all(
        p.plan is not None and p.presented_at is not None for p in result.state.pairs.values()
    )
    # AND the history holds the lifecycle in order and the organiser's recorded refusal
    types = [recorded.event.type for recorded in result.history]
    assert types[0] == "RoundScheduled"
    assert types[-1] == "RoundClosed"
    counts = Counter(types)
    assert counts["AgencyApplied"] == 6
    assert counts["ApplicationRefused"] == 1
    assert counts["PairFormed"] == 3
    assert counts["PlanSubmitted"] == 3
    assert [r.version for r in result.history] == list(range(1, len(result.history) + 1))
    # AND replaying the history rebuilds the same state
    assert fold(recorded.event for recorded in result.history) == result.state


def test_the_demo_runs_on_dynamodb_and_prints_the_history_ending_in_closed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # WHEN the `programme demo` command runs
    exit_code = main(["demo"])
    # THEN it succeeds and prints the history and the final state
    out = capsys.readouterr().out
    assert exit_code == 0
    assert "RoundClosed" in out
    assert "final state: closed" in out
    assert "Länsstyrelsen i Stockholms län" in out


def test_the_dynamodb_walk_matches_the_in_memory_walk() -> None:
    with moto_dynamodb_store() as store:
        on_dynamodb = walk_round_3(store)
    in_memory = walk_round_3(InMemoryEventStore())
    assert [r.event.type for r in on_dynamodb.history] == [r.event.type for r in in_memory.history]
    assert on_dynamodb.state.status == in_memory.state.status == "closed"
