"""Two staff commands racing on one round, on the DynamoDB event store under moto.

Each race is forced: both commands read the round at the same version before either appends
(see `races.RacingStore`), so exactly one of them loses the append and must decide again on
the state that includes the winner's events. Either outcome is then correct — applied once,
or refused by a rule on that state — never a lost update, and the stream's versions stay
contiguous. The production command handler is used (built by the composition root), with
its retry hook counted.
"""

from __future__ import annotations

import threading

import pytest

from domain import AgencyAlreadyPairedError, CapacityExceededError, DecideApplication, FormPair
from domain.streams import round_stream_id
from events import AgencyAdmitted, PairFormed
from functions.common import bootstrap
from infra.command_handler import HandleResult
from tests.concurrency.races import (
    RacingStore,
    Retries,
    assert_contiguous,
    install,
    retry_log_lines,
    run_in_threads,
)
from tests.domain.given import (
    DIGITALISERING,
    FASTIGHETSMAKLARINSPEKTIONEN,
    KRIMINALVARDEN,
    SKATTEVERKET,
    UHR,
)
from tests.functions.http import Reply, staff
from tests.functions.rounds import ROUND_ID, Rounds

STREAM = round_stream_id(ROUND_ID)
SKV, KV, FMI = SKATTEVERKET, KRIMINALVARDEN, FASTIGHETSMAKLARINSPEKTIONEN


def handle(
    store: RacingStore,
    command: DecideApplication | FormPair,
    *,
    appended: threading.Event | None = None,
) -> HandleResult:
    store.arm(appended=appended)
    return bootstrap.command_handler().handle(
        command, stream_id=STREAM, actor="staff:test", correlation_id="race"
    )


def in_selection(rounds: Rounds, *applicants: str, capacity: int = 12) -> None:
    rounds.schedule(capacity=capacity)
    rounds.open_applications()
    rounds.apply(*applicants)
    rounds.close_applications()


def test_two_admissions_racing_for_the_last_place_admit_one_and_refuse_the_other(
    rounds: Rounds,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a round of capacity 2 in selection, one place taken, two more applicants
    in_selection(rounds, SKV, KV, FMI, capacity=2)
    rounds.admit(SKV)
    store = RacingStore(bootstrap.event_store(), racers=2)
    install(monkeypatch, store)
    before = len(rounds.events())
    capsys.readouterr()
    caplog.set_level("INFO")

    # WHEN staff admit KV over HTTP (the real commands function) while FMI is admitted
    # directly; both read the round before either appends, and FMI's append goes first
    fmi_appended = threading.Event()

    def admit_kv_over_http() -> Reply:
        store.arm(append_after=fmi_appended)
        body = {"org_number": KV, "decision": "admit"}
        return staff("POST", f"/rounds/{ROUND_ID}/decisions", body)

    kv, fmi = run_in_threads(
        [
            admit_kv_over_http,
            lambda: handle(store, DecideApplication(ROUND_ID, FMI, "admit"), appended=fmi_appended),
        ]
    )

    # THEN FMI is admitted once; KV's command lost the append, decided again on the state
    # holding FMI's admission, and was refused by the capacity rule: 409 naming it
    assert store.met == 2
    assert isinstance(fmi, HandleResult)
    assert fmi.retries == 0
    assert isinstance(kv, Reply)
    assert kv.status == 409, kv.body
    assert kv.body["rule"] == "ensure_capacity_left"
    recorded = assert_contiguous(bootstrap.event_store(), STREAM)
    assert len(recorded) == before + 1
    admitted = [r.event.org_number for r in recorded if isinstance(r.event, AgencyAdmitted)]
    assert admitted == [SKV, FMI]
    # AND the commands function counted the retry (EMF) and logged it, with no payload
    assert '"ConcurrencyRetries":[1.0]' in capsys.readouterr().out
    assert retry_log_lines(caplog) == [
        {
            "stream_id": STREAM,
            "concurrency_retry": 1,
            "max_attempts": 4,
            "expected_version": before,
            "actual_version": before + 1,
        }
    ]


def test_two_admissions_with_room_for_both_are_each_applied_once(
    rounds: Rounds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a round in selection with room for both applicants
    in_selection(rounds, SKV, KV)
    store = RacingStore(bootstrap.event_store(), racers=2)
    retries = Retries()
    install(monkeypatch, store, retries)
    before = len(rounds.events())

    # WHEN both are admitted at once, each having read the round before either appends
    results = run_in_threads(
        [
            lambda: handle(store, DecideApplication(ROUND_ID, SKV, "admit")),
            lambda: handle(store, DecideApplication(ROUND_ID, KV, "admit")),
        ]
    )

    # THEN one lost the append and retried once; both admissions are in the stream, once each
    assert store.met == 2
    assert all(isinstance(r, HandleResult) for r in results), results
    assert sorted(r.retries for r in results if isinstance(r, HandleResult)) == [0, 1]
    assert retries.total == 1
    recorded = assert_contiguous(bootstrap.event_store(), STREAM)
    assert len(recorded) == before + 2
    admitted = [r.event.org_number for r in recorded if isinstance(r.event, AgencyAdmitted)]
    assert sorted(admitted) == sorted([SKV, KV])


@pytest.mark.parametrize(
    ("first", "second", "formed"),
    [
        pytest.param((SKV, KV), (SKV, FMI), 1, id="sharing an agency: one refused"),
        pytest.param((SKV, KV), (FMI, UHR), 2, id="disjoint: both formed, numbered apart"),
    ],
)
def test_two_pair_formations_racing(
    rounds: Rounds,
    monkeypatch: pytest.MonkeyPatch,
    first: tuple[str, str],
    second: tuple[str, str],
    formed: int,
) -> None:
    # GIVEN four admitted agencies
    in_selection(rounds, SKV, KV, FMI, UHR)
    rounds.admit(SKV, KV, FMI, UHR)
    store = RacingStore(bootstrap.event_store(), racers=2)
    retries = Retries()
    install(monkeypatch, store, retries)
    before = len(rounds.events())

    # WHEN staff form two pairs at once, both read before either appends
    results = run_in_threads(
        [
            lambda: handle(store, FormPair(ROUND_ID, first, DIGITALISERING)),
            lambda: handle(store, FormPair(ROUND_ID, second, DIGITALISERING)),
        ]
    )

    # THEN exactly one retry happened, on the state holding the winner's pair
    assert store.met == 2
    assert retries.total == 1
    recorded = assert_contiguous(bootstrap.event_store(), STREAM)
    pairs = [r.event for r in recorded if isinstance(r.event, PairFormed)]
    assert len(recorded) == before + formed
    assert len(pairs) == formed
    if formed == 1:
        # the loser saw SKV paired and was refused by the rule; nothing of it was written
        refused = [r for r in results if isinstance(r, Exception)]
        assert [type(r) for r in refused] == [AgencyAlreadyPairedError]
        assert pairs[0].org_numbers in (first, second)
    else:
        # the loser re-derived its id from the fresh state: no two pairs share pair-1
        assert all(isinstance(r, HandleResult) for r in results), results
        assert sorted(p.pair_id for p in pairs) == ["pair-1", "pair-2"]
        assert {p.org_numbers for p in pairs} == {first, second}


def test_a_refusal_on_fresh_state_is_a_rule_not_a_conflict(
    rounds: Rounds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a full round (capacity 2) where two more admissions race for no place at all
    in_selection(rounds, SKV, KV, FMI, UHR, capacity=2)
    rounds.admit(SKV, KV)
    store = RacingStore(bootstrap.event_store(), racers=2)
    retries = Retries()
    install(monkeypatch, store, retries)
    before = len(rounds.events())

    # WHEN both are admitted at once
    results = run_in_threads(
        [
            lambda: handle(store, DecideApplication(ROUND_ID, FMI, "admit")),
            lambda: handle(store, DecideApplication(ROUND_ID, UHR, "admit")),
        ]
    )

    # THEN both are refused by the capacity rule, without any append or retry
    assert [type(r) for r in results] == [CapacityExceededError, CapacityExceededError]
    assert retries.total == 0
    assert len(assert_contiguous(bootstrap.event_store(), STREAM)) == before
