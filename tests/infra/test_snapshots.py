"""The round-state snapshot codec: what it decodes decides exactly as the folded stream does."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from domain import (
    CloseApplications,
    CloseRound,
    Command,
    DecideApplication,
    FormPair,
    IssuePlanReminder,
    OpenApplications,
    PassPlanDeadline,
    RoundState,
    StartRound,
    decide,
    fold,
)
from domain.errors import DomainError
from domain.state import STATE_REVISION
from events import event_to_json
from infra.command_handler import SnapshotUnreadableError
from infra.snapshots import JsonSnapshots, round_state_snapshots
from tests.readmodels.scenario import ROUND_3, ROUND_4, scenario

CODEC = round_state_snapshots()


def probes(round_id: str, state: RoundState) -> list[Command]:
    """Commands whose outcome depends on every part of the state."""
    orgs = sorted(state.applications)
    return [
        OpenApplications(round_id),
        CloseApplications(round_id),
        StartRound(round_id),
        IssuePlanReminder(round_id),
        PassPlanDeadline(round_id),
        CloseRound(round_id),
        *(DecideApplication(round_id, org, "admit") for org in orgs),
        *(DecideApplication(round_id, org, "reject") for org in orgs[:2]),
        FormPair(round_id, tuple(orgs[:2]), state.themes[0]),
    ]


def outcome(command: Command, state: RoundState, now: datetime) -> object:
    try:
        return [event_to_json(event) for event in decide(command, state, now)]
    except DomainError as error:
        return (type(error).__name__, str(error))


@pytest.mark.parametrize("round_id", [ROUND_3, ROUND_4])
def test_every_state_of_a_round_decodes_equal_and_decides_the_same(round_id: str) -> None:
    # GIVEN a whole round's stream, folded one event at a time
    events = [r.event for r in scenario().stream(f"round-{round_id}")]
    assert len(events) > 20
    for length in range(1, len(events) + 1):
        state = fold(events[:length])
        assert state is not None
        # WHEN its state goes through a snapshot
        decoded = CODEC.decode(CODEC.encode(state))
        # THEN it comes back equal, and every probe decides the same on it, at any time
        assert decoded == state
        for now in (datetime(2014, 1, 1, tzinfo=UTC), datetime(2017, 1, 1, tzinfo=UTC)):
            for command in probes(round_id, state):
                assert outcome(command, decoded, now) == outcome(command, state, now), command


def test_the_format_names_the_state_its_revision_and_its_shape() -> None:
    @dataclass(frozen=True)
    class Before:
        a: int

    @dataclass(frozen=True)
    class After:  # one field more: the same name would not make it the same shape
        a: int
        b: frozenset[str] = field(default_factory=frozenset)

    assert CODEC.format.startswith(f"RoundState/r{STATE_REVISION}/")
    assert JsonSnapshots(Before, 1).format != JsonSnapshots(Before, 2).format
    assert (
        JsonSnapshots(Before, 1).format.split("/")[2]
        != JsonSnapshots(After, 1).format.split("/")[2]
    )


def test_data_that_does_not_decode_is_reported_unreadable() -> None:
    state = fold(r.event for r in scenario().stream(f"round-{ROUND_4}"))
    whole = CODEC.encode(state)  # type: ignore[arg-type]
    cut = zlib.compress(zlib.decompress(whole)[:-40])
    wrong = zlib.compress(b'{"round_id": 4}')
    for data in (b"not zlib", whole[:-3], cut, wrong):
        with pytest.raises(SnapshotUnreadableError, match="RoundState snapshot"):
            CODEC.decode(data)


def test_a_real_rounds_snapshot_is_small() -> None:
    # round 3 of 2015: 12 agencies, the whole round
    state = fold(r.event for r in scenario().stream(f"round-{ROUND_3}"))
    assert len(CODEC.encode(state)) < 2_000  # type: ignore[arg-type]
