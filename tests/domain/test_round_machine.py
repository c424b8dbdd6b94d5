"""Random command sequences on a moving clock never break a round's invariants, and replaying
what was recorded always rebuilds the same state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from domain import (
    ApplyForRound,
    CancelRound,
    CloseApplications,
    CloseRound,
    DecideApplication,
    DissolvePair,
    DomainError,
    FormPair,
    IssuePlanReminder,
    NominateParticipant,
    OpenApplications,
    PassPlanDeadline,
    RecordPresentation,
    RefuseApplication,
    RescheduleRound,
    RoundState,
    ScheduledTransition,
    ScheduleRound,
    StartRound,
    SubmitPlan,
    WithdrawApplication,
    decide,
    evolve,
    fold,
    next_transition,
)
from domain.commands import Command, Decision
from domain.state import DATE_FIELDS, LIFECYCLE
from events import Event, PairFormed, ParticipantRole, event_from_json, event_to_json
from tests.domain.given import (
    ESV,
    EXEMPELVERKET,
    PLAN_URL,
    ROUND_3,
    ROUND_ID,
    SHA_A,
    SHA_B,
    SHA_C,
    THEMES,
    sealed,
)

AGENCIES = (*ROUND_3, EXEMPELVERKET, ESV, "202100-5449", ROUND_3[0].replace("-", ""))
TRANSITIONS: dict[str, ScheduledTransition] = {
    type(t).__name__: t
    for t in (
        OpenApplications(ROUND_ID),
        CloseApplications(ROUND_ID),
        StartRound(ROUND_ID),
        IssuePlanReminder(ROUND_ID),
        PassPlanDeadline(ROUND_ID),
        CloseRound(ROUND_ID),
    )
}
DECISIONS: tuple[Decision, ...] = ("admit", "admit", "reject", "waitlist")
ROLES: tuple[ParticipantRole, ...] = ("director_general", "leadership_member")
START = datetime(2015, 1, 1, tzinfo=UTC)

agencies = st.sampled_from(AGENCIES)
picks = st.integers(min_value=0, max_value=15)
deliveries = st.sampled_from(("tf-1", "tf-2", "tf-3", None))


class RoundMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.state: RoundState | None = None
        self.stream: list[Event] = []
        self.statuses: list[str] = []

    def run(self, command: Command) -> None:
        try:
            events = decide(command, self.state, self.now)
        except DomainError:
            return
        assert decide(command, self.state, self.now) == events, "decide is not pure"
        self.record(events)

    def agency(self, pick: int, likely: Callable[[RoundState], tuple[str, ...]]) -> str:
        """Mostly an agency the command makes sense for, sometimes any agency at all."""
        assert self.state is not None
        sensible = likely(self.state)
        if sensible and pick < 12:
            return sensible[pick % len(sensible)]
        return AGENCIES[pick % len(AGENCIES)]

    def pair_id(self, pick: int) -> str:
        assert self.state is not None
        candidates = (*self.state.pairs, "pair-99")
        return candidates[pick % len(candidates)]

    def record(self, events: list[Event]) -> None:
        for fact in events:
            self.state = evolve(self.state, fact)
            self.stream.append(fact)
            self.statuses.append(self.state.status)

    # The round and the clock

    @initialize(
        capacity=st.integers(min_value=2, max_value=7),
        gaps=st.lists(st.integers(min_value=1, max_value=40), min_size=5, max_size=5),
        applicants=st.permutations(AGENCIES),
        how_many=st.integers(min_value=0, max_value=len(AGENCIES)),
        fast_forward=st.sampled_from((0, 1, 2, 3, 4, 4, 4)),
        groups=st.sampled_from((1, 1, 2, 4)),
    )
    def schedule(
        self,
        capacity: int,
        gaps: list[int],
        applicants: list[str],
        how_many: int,
        fast_forward: int,
        groups: int,
    ) -> None:
        # Random walks rarely get far on their own: start most runs further along (applications
        # in, selection begun, agencies admitted, paired and started) so that pairs, plans and
        # closing are explored as much as opening.
        instants = [START + timedelta(days=sum(gaps[: i + 1])) for i in range(5)]
        self.run(ScheduleRound(ROUND_ID, 3, "Omgång 3", capacity, THEMES, *instants))
        applicants = applicants[:how_many]
        if fast_forward >= 1:
            self.the_state_machine_waits_for_the_next_transition()
            for org in applicants:
                self.an_agency_applies(org, None, None)
        if fast_forward >= 2:
            self.the_state_machine_waits_for_the_next_transition()
        if fast_forward >= 3:
            for org in applicants:
                self.run(DecideApplication(ROUND_ID, org, "admit"))
        if fast_forward >= 4:
            assert self.state is not None
            admitted = self.state.admitted()
            # The trio first (when the count is odd), so some agencies may stay unpaired beside it.
            cuts = [0, 3] if len(admitted) % 2 else [0]
            cuts += range(cuts[-1] + 2, len(admitted) + 1, 2)
            for start, end in list(pairwise(cuts))[:groups]:
                self.run(FormPair(ROUND_ID, admitted[start:end], THEMES[start % len(THEMES)]))
            self.the_state_machine_waits_for_the_next_transition()

    @rule(days=st.integers(min_value=0, max_value=20), hours=st.integers(min_value=0, max_value=23))
    def time_passes(self, days: int, hours: int) -> None:
        self.now += timedelta(days=days, hours=hours)

    @rule(name=st.sampled_from(sorted(TRANSITIONS)))
    def a_transition_fires(self, name: str) -> None:
        # Fired at any time, in any state, a transition never fails and records at most one event.
        events = decide(TRANSITIONS[name], self.state, self.now)
        assert len(events) <= 1
        self.record(events)

    @precondition(lambda self: self.state is not None and next_transition(self.state) is not None)
    @rule()
    def the_state_machine_waits_for_the_next_transition(self) -> None:
        assert self.state is not None
        due = next_transition(self.state)
        assert due is not None
        name, at = due
        self.now = max(self.now, at)
        events = decide(TRANSITIONS[name], self.state, self.now)
        assert len(events) == 1, f"{name} was due at {at} but recorded {events}"
        self.record(events)

    @rule(
        date_field=st.sampled_from(DATE_FIELDS),
        days=st.integers(min_value=-30, max_value=30).filter(bool),
    )
    def staff_reschedule(self, date_field: str, days: int) -> None:
        assert self.state is not None
        moved = getattr(self.state.dates, date_field) + timedelta(days=days)
        self.run(RescheduleRound(ROUND_ID, **{date_field: moved}))

    @rule(coin=st.integers(min_value=0, max_value=24))
    def staff_sometimes_cancel(self, coin: int) -> None:
        if coin == 0:
            self.run(CancelRound(ROUND_ID, reason="Inställd"))

    # Applications and selection

    @precondition(lambda self: _status(self) == "open")
    @rule(org=agencies, delivery=deliveries, partner=st.sampled_from((None, *ROUND_3[:2])))
    def an_agency_applies(self, org: str, delivery: str | None, partner: str | None) -> None:
        self.run(
            ApplyForRound(
                ROUND_ID,
                org,
                "Myndigheten",
                sealed(1),
                sealed(2),
                (THEMES[0],),
                self.now,
                "forms",
                preferred_partner=partner,
                delivery_id=delivery,
            )
        )

    @rule(org=agencies, delivery=deliveries)
    def intake_records_a_refusal(self, org: str, delivery: str | None) -> None:
        self.run(
            RefuseApplication(
                ROUND_ID, org, "Myndigheten", "ensure_round_is_open", "closed", "forms", delivery
            )
        )

    @rule(pick=picks)
    def an_agency_withdraws(self, pick: int) -> None:
        self.run(WithdrawApplication(ROUND_ID, self.agency(pick, _applicants)))

    @precondition(lambda self: _status(self) in ("selection", "running"))
    @rule(pick=picks, outcome=st.sampled_from(DECISIONS))
    def staff_decide(self, pick: int, outcome: Decision) -> None:
        self.run(DecideApplication(ROUND_ID, self.agency(pick, _applicants), outcome))

    @precondition(lambda self: _status(self) in ("selection", "running"))
    @rule(
        pick=picks,
        role=st.sampled_from(ROLES),
        person=st.integers(min_value=1, max_value=4),
    )
    def staff_nominate(self, pick: int, role: ParticipantRole, person: int) -> None:
        org = self.agency(pick, RoundState.admitted)
        self.run(NominateParticipant(ROUND_ID, org, role, sealed(person)))

    # Pairs, plans and presentations

    @precondition(lambda self: _status(self) in ("selection", "running"))
    @rule(
        pick=picks,
        size=st.sampled_from((2, 2, 3)),
        theme=st.sampled_from(THEMES),
    )
    def staff_form_a_pair(self, pick: int, size: int, theme: str) -> None:
        orgs = tuple(self.agency(pick + i, RoundState.unpaired) for i in range(size))
        self.run(FormPair(ROUND_ID, orgs, theme))

    @precondition(lambda self: _status(self) in ("selection", "running"))
    @rule(pick=picks)
    def staff_dissolve_a_pair(self, pick: int) -> None:
        self.run(DissolvePair(ROUND_ID, self.pair_id(pick), "Byter partner"))

    @precondition(lambda self: _status(self) == "running")
    @rule(pick=picks, sha256=st.sampled_from((SHA_A, SHA_B, SHA_C)))
    def a_pair_submits_a_plan(self, pick: int, sha256: str) -> None:
        self.run(SubmitPlan(ROUND_ID, self.pair_id(pick), "Plan", PLAN_URL, sha256))

    @precondition(lambda self: _status(self) == "running")
    @rule(pick=picks, days_ago=st.integers(min_value=-1, max_value=5))
    def staff_record_a_presentation(self, pick: int, days_ago: int) -> None:
        held_at = self.now - timedelta(days=days_ago)
        self.run(RecordPresentation(ROUND_ID, self.pair_id(pick), held_at))

    # Invariants

    @invariant()
    def admitted_never_exceed_capacity(self) -> None:
        if self.state is not None:
            assert len(self.state.admitted()) <= self.state.capacity

    @invariant()
    def pairs_hold_admitted_agencies_each_in_one_active_pair(self) -> None:
        if self.state is None:
            return
        members = Counter(o for p in self.state.active_pairs() for o in p.org_numbers)
        assert all(count == 1 for count in members.values())
        assert set(members) <= set(self.state.admitted())

    @invariant()
    def at_most_one_trio_and_only_with_an_odd_admitted_count(self) -> None:
        if self.state is None:
            return
        trios = [p for p in self.state.active_pairs() if p.is_trio]
        assert len(trios) <= 1
        assert not trios or len(self.state.admitted()) % 2 == 1

    @invariant()
    def dates_strictly_increase(self) -> None:
        if self.state is not None:
            instants = self.state.dates.in_order()
            assert all(a < b for a, b in pairwise(instants))

    @invariant()
    def status_only_moves_one_step_forward_or_to_cancelled(self) -> None:
        for before, after in pairwise(self.statuses):
            assert before == after or _is_step_forward(before, after), (before, after)

    @invariant()
    def pair_ids_are_never_reused(self) -> None:
        formed = [e.pair_id for e in self.stream if isinstance(e, PairFormed)]
        assert len(formed) == len(set(formed))

    @invariant()
    def replaying_the_stream_rebuilds_the_state(self) -> None:
        assert fold(self.stream) == self.state

    def teardown(self) -> None:
        # What was recorded must also survive storage: encode, decode, replay.
        stored = [event_from_json(event_to_json(e)) for e in self.stream]
        assert fold(stored) == self.state
        # Shown by `pytest --hypothesis-show-statistics`: how deep the runs went.
        if self.state is not None:
            event(f"ended {self.state.status}")
        for recorded in sorted({type(e).__name__ for e in self.stream}):
            event(f"recorded {recorded}")


def _applicants(state: RoundState) -> tuple[str, ...]:
    # Unpaired admitted agencies first: the ones whose leaving or admission moves the count.
    return (*state.unpaired(), *state.applications)


def _status(machine: RoundMachine) -> str | None:
    return None if machine.state is None else machine.state.status


def _is_step_forward(before: str, after: str) -> bool:
    if after == "cancelled":
        return before != "closed"
    lifecycle: list[str] = list(LIFECYCLE)
    return before in lifecycle and lifecycle.index(after) == lifecycle.index(before) + 1


RoundMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_random_command_sequences_keep_the_round_consistent = RoundMachine.TestCase
