"""The scheduled transitions: due, idempotent, in lifecycle order, each recording its trigger."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import (
    PLAN_REMINDER_LEAD,
    CloseApplications,
    CloseRound,
    DecideApplication,
    FormPair,
    IssuePlanReminder,
    OpenApplications,
    PassPlanDeadline,
    RecordPresentation,
    RoundNotFoundError,
    ScheduledTransition,
    StartRound,
    SubmitPlan,
    decide,
    next_transition,
)
from domain.commands import Command
from events import (
    ApplicationsClosed,
    ApplicationsOpened,
    ApplicationWithdrawn,
    Event,
    PairDissolved,
    PairFormed,
    PlanDeadlinePassed,
    PlanReminderIssued,
    PlanRevised,
    PresentationRecorded,
    RoundCancelled,
    RoundClosed,
    RoundRescheduled,
    RoundStarted,
)
from tests.domain.given import (
    AFTER_CLOSING,
    ATTRAKTIV,
    CLOSES,
    DIGITALISERING,
    DURING_APPLICATIONS,
    KRIMINALVARDEN,
    KUSTBEVAKNINGEN,
    LANSSTYRELSEN_STOCKHOLM,
    OPENS,
    PLAN_DUE,
    PLAN_URL,
    ROUND_3,
    ROUND_CLOSES,
    ROUND_ID,
    SHA_A,
    SHA_B,
    SKATTEVERKET,
    STARTS,
    UHR,
    applied,
    apply,
    deadline_passed,
    given,
    in_selection,
    open_round,
    plan_submitted,
    round_3_closed,
    round_3_running,
    scheduled,
    with_admitted,
)

REMINDER_DUE = PLAN_DUE - PLAN_REMINDER_LEAD
REMINDED = PlanReminderIssued(due_at=REMINDER_DUE, plan_due_at=PLAN_DUE, pairs_without_plan=())
ALL_TRANSITIONS: tuple[ScheduledTransition, ...] = (
    OpenApplications(ROUND_ID),
    CloseApplications(ROUND_ID),
    StartRound(ROUND_ID),
    IssuePlanReminder(ROUND_ID),
    PassPlanDeadline(ROUND_ID),
    CloseRound(ROUND_ID),
)


def test_applications_open_when_due() -> None:
    # GIVEN a scheduled round
    state = given(scheduled())
    # WHEN the opening fires at its time
    events = decide(OpenApplications(ROUND_ID), state, OPENS)
    # THEN applications open, recording the trigger
    assert events == [ApplicationsOpened(due_at=OPENS)]


def test_opening_applications_twice_records_nothing() -> None:
    # GIVEN applications already open
    state = given(*open_round())
    # WHEN the opening fires again (a retried task)
    # THEN nothing happens
    assert decide(OpenApplications(ROUND_ID), state, DURING_APPLICATIONS) == []


def test_a_transition_fired_before_a_rescheduled_date_records_nothing() -> None:
    # GIVEN the opening was moved a week later after the state machine began waiting
    later = OPENS + timedelta(days=7)
    state = given(
        scheduled(),
        RoundRescheduled(
            application_opens_at=later,
            application_closes_at=CLOSES,
            starts_at=STARTS,
            plan_due_at=PLAN_DUE,
            closes_at=ROUND_CLOSES,
        ),
    )
    # WHEN the opening fires at the old time
    # THEN nothing happens yet, and the next transition points at the new time
    assert decide(OpenApplications(ROUND_ID), state, OPENS) == []
    assert next_transition(state) == ("OpenApplications", later)


def test_closing_applications_counts_live_applications() -> None:
    # GIVEN three applications, one of them withdrawn
    state = given(
        *open_round(),
        applied(SKATTEVERKET),
        applied(KRIMINALVARDEN),
        applied(UHR),
        ApplicationWithdrawn(org_number=UHR),
    )
    # WHEN applications close at their time
    events = decide(CloseApplications(ROUND_ID), state, CLOSES)
    # THEN selection begins with two live applications recorded
    assert events == [ApplicationsClosed(due_at=CLOSES, applications=2)]


def test_starting_the_round_records_admitted_and_still_unpaired_agencies() -> None:
    # GIVEN four admitted agencies, two of them paired
    state = given(
        *with_admitted(SKATTEVERKET, KRIMINALVARDEN, KUSTBEVAKNINGEN, LANSSTYRELSEN_STOCKHOLM),
        PairFormed(pair_id="pair-1", org_numbers=(SKATTEVERKET, KRIMINALVARDEN), theme=ATTRAKTIV),
    )
    # WHEN the round starts
    events = decide(StartRound(ROUND_ID), state, STARTS)
    # THEN it records who is admitted and who still lacks a partner
    assert events == [
        RoundStarted(
            due_at=STARTS,
            admitted=tuple(
                sorted((SKATTEVERKET, KRIMINALVARDEN, KUSTBEVAKNINGEN, LANSSTYRELSEN_STOCKHOLM))
            ),
            unpaired=(LANSSTYRELSEN_STOCKHOLM, KUSTBEVAKNINGEN),
        )
    ]


def test_the_plan_reminder_is_due_fourteen_days_before_the_deadline() -> None:
    # GIVEN round 3 running with one plan in
    state = given(*round_3_running(), plan_submitted("pair-2"))
    # WHEN the reminder fires a day early, then on time
    early = decide(IssuePlanReminder(ROUND_ID), state, REMINDER_DUE - timedelta(days=1))
    events = decide(IssuePlanReminder(ROUND_ID), state, REMINDER_DUE)
    # THEN only the on-time firing reminds the two pairs without a plan
    assert timedelta(days=14) == PLAN_REMINDER_LEAD
    assert early == []
    assert events == [
        PlanReminderIssued(
            due_at=REMINDER_DUE, plan_due_at=PLAN_DUE, pairs_without_plan=("pair-1", "pair-3")
        )
    ]


def test_the_plan_reminder_is_issued_once_per_deadline() -> None:
    # GIVEN a reminder already issued for the current deadline
    state = given(*round_3_running(), REMINDED)
    # WHEN the reminder fires again
    # THEN nothing happens
    assert decide(IssuePlanReminder(ROUND_ID), state, REMINDER_DUE) == []


def test_a_moved_deadline_earns_a_new_reminder() -> None:
    # GIVEN a reminder issued, then the deadline moved a month later
    new_due = PLAN_DUE + timedelta(days=30)
    moved = RoundRescheduled(
        application_opens_at=OPENS,
        application_closes_at=CLOSES,
        starts_at=STARTS,
        plan_due_at=new_due,
        closes_at=ROUND_CLOSES + timedelta(days=30),
    )
    state = given(*round_3_running(), REMINDED, moved)
    # WHEN the new reminder time comes
    events = decide(IssuePlanReminder(ROUND_ID), state, new_due - PLAN_REMINDER_LEAD)
    # THEN the pairs are reminded of the new deadline
    assert [type(e) for e in events] == [PlanReminderIssued]
    assert isinstance(events[0], PlanReminderIssued)
    assert events[0].plan_due_at == new_due


def test_the_plan_deadline_records_pairs_without_a_plan() -> None:
    # GIVEN round 3 reminded, one pair's plan in
    state = given(*round_3_running(), REMINDED, plan_submitted("pair-1"))
    # WHEN the deadline passes
    events = decide(PassPlanDeadline(ROUND_ID), state, PLAN_DUE)
    # THEN it records the two pairs still without a plan
    assert events == [PlanDeadlinePassed(due_at=PLAN_DUE, pairs_without_plan=("pair-2", "pair-3"))]


def test_the_deadline_waits_for_the_reminder_before_it() -> None:
    # GIVEN a running round whose reminder has not gone out
    state = given(*round_3_running())
    # WHEN the deadline fires first
    # THEN nothing happens: the reminder is next (and overdue) in the lifecycle
    assert decide(PassPlanDeadline(ROUND_ID), state, PLAN_DUE) == []
    assert next_transition(state) == ("IssuePlanReminder", REMINDER_DUE)


def test_closing_the_round_records_its_outcome() -> None:
    # GIVEN round 3 after the deadline: a plan on time, a late one, a dissolved pair, a talk held
    state = given(
        *round_3_running(),
        plan_submitted("pair-1"),
        deadline_passed("pair-2", "pair-3"),
        plan_submitted("pair-2", late=True),
        PairDissolved(pair_id="pair-3", reason="Kustbevakningen lämnade"),
        PresentationRecorded(pair_id="pair-1", held_at=PLAN_DUE + timedelta(days=20)),
    )
    # WHEN the round closes
    events = decide(CloseRound(ROUND_ID), state, ROUND_CLOSES)
    # THEN it records the outcome figures (active pairs only) and their themes
    assert events == [
        RoundClosed(
            due_at=ROUND_CLOSES,
            admitted=6,
            pairs=2,
            plans_submitted=2,
            plans_late=1,
            presentations=1,
            themes=("vi-känsla", DIGITALISERING),
        )
    ]


def test_the_round_does_not_close_before_its_plan_deadline_is_recorded() -> None:
    # GIVEN a running round whose deadline has not been recorded
    state = given(*round_3_running())
    # WHEN closing fires, even at its time
    # THEN nothing happens: the deadline (and reminder) come first
    assert decide(CloseRound(ROUND_ID), state, ROUND_CLOSES) == []


@pytest.mark.parametrize("transition", ALL_TRANSITIONS, ids=lambda t: type(t).__name__)
def test_transitions_on_a_cancelled_round_record_nothing(transition: ScheduledTransition) -> None:
    # GIVEN a cancelled round
    state = given(*round_3_running(), RoundCancelled(reason="Omorganisation"))
    # WHEN any transition fires, however late
    # THEN nothing happens and no transition is due any more
    assert decide(transition, state, AFTER_CLOSING + timedelta(days=365)) == []
    assert next_transition(state) is None


@pytest.mark.parametrize("transition", ALL_TRANSITIONS, ids=lambda t: type(t).__name__)
def test_transitions_on_a_closed_round_record_nothing(transition: ScheduledTransition) -> None:
    # GIVEN a closed round
    state = given(*round_3_closed())
    # WHEN any transition fires again
    # THEN nothing happens and no transition is due any more
    assert decide(transition, state, AFTER_CLOSING) == []
    assert next_transition(state) is None


def test_a_transition_out_of_order_records_nothing() -> None:
    # GIVEN applications open
    state = given(*open_round())
    # WHEN the start fires before applications have closed
    # THEN nothing happens
    assert decide(StartRound(ROUND_ID), state, STARTS) == []


@pytest.mark.parametrize("transition", ALL_TRANSITIONS, ids=lambda t: type(t).__name__)
def test_a_transition_on_an_unknown_round_is_refused(transition: ScheduledTransition) -> None:
    # GIVEN no round
    # WHEN / THEN a transition is refused as not found (the state machine alarms on it)
    with pytest.raises(RoundNotFoundError):
        decide(transition, None, AFTER_CLOSING)


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        ((), ("OpenApplications", OPENS)),
        (open_round()[1:], ("CloseApplications", CLOSES)),
        (in_selection()[1:], ("StartRound", STARTS)),
        (round_3_running()[1:], ("IssuePlanReminder", REMINDER_DUE)),
        ((*round_3_running()[1:], REMINDED), ("PassPlanDeadline", PLAN_DUE)),
        ((*round_3_running()[1:], deadline_passed()), ("CloseRound", ROUND_CLOSES)),
    ],
    ids=["scheduled", "open", "selection", "running", "reminded", "deadline passed"],
)
def test_next_transition_names_the_next_command_and_its_time(
    stream: tuple[Event, ...], expected: tuple[str, object]
) -> None:
    # GIVEN a round in some phase
    state = given(scheduled(), *stream)
    # WHEN we ask what comes next
    # THEN it names the transition command and when it is due
    assert next_transition(state) == expected


def test_round_3_of_2015_runs_from_schedule_to_close_by_its_transitions() -> None:
    # GIVEN round 3 scheduled, and what people do between the transitions
    manual: dict[str, list[Command]] = {
        "CloseApplications": [apply(org) for org in ROUND_3],
        "StartRound": [
            *(DecideApplication(ROUND_ID, org, "admit") for org in ROUND_3),
            FormPair(ROUND_ID, (SKATTEVERKET, KRIMINALVARDEN), "Vi-känsla"),
        ],
        "IssuePlanReminder": [
            FormPair(ROUND_ID, ROUND_3[2:4], DIGITALISERING),
            FormPair(ROUND_ID, ROUND_3[4:], ATTRAKTIV),
            SubmitPlan(ROUND_ID, "pair-1", "Vi-känsla i staten", PLAN_URL, SHA_A),
        ],
        "CloseRound": [
            SubmitPlan(ROUND_ID, "pair-2", "Digital förvaltning", PLAN_URL, SHA_B),
            RecordPresentation(ROUND_ID, "pair-1", AFTER_CLOSING - timedelta(days=30)),
        ],
    }
    stream: list[Event] = [scheduled()]
    # WHEN the state machine loops: wait for the next transition, do the work, fire it
    while (due := next_transition(given(*stream))) is not None:
        name, at = due
        for command in manual.get(name, []):
            when = DURING_APPLICATIONS if name == "CloseApplications" else at - timedelta(days=1)
            stream += decide(command, given(*stream), when)
        stream += decide(_transition(name), given(*stream), at)
    # THEN the round closed with round 3's figures; pair 2's plan came in after the deadline
    final = stream[-1]
    assert isinstance(final, RoundClosed)
    assert (final.admitted, final.pairs, final.plans_submitted, final.plans_late) == (6, 3, 2, 1)
    assert final.presentations == 1
    assert given(*stream).status == "closed"
    assert not any(isinstance(e, PlanRevised) for e in stream)


def _transition(name: str) -> ScheduledTransition:
    return next(t for t in ALL_TRANSITIONS if type(t).__name__ == name)
