"""Scheduling, rescheduling and cancelling a round."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain import (
    CancelRound,
    DateAlreadyPassedError,
    DatesNotIncreasingError,
    InvalidCapacityError,
    NoThemesError,
    RescheduleRound,
    RoundAlreadyScheduledError,
    RoundCancelledError,
    RoundClosedError,
    RoundNotFoundError,
    ScheduleRound,
    decide,
)
from events import (
    ApplicationsClosed,
    ApplicationsOpened,
    Event,
    RoundCancelled,
    RoundRescheduled,
    RoundScheduled,
    RoundStarted,
)
from tests.domain.given import (
    AFTER_CLOSING,
    BEFORE_OPENING,
    CLOSES,
    DURING_ROUND,
    OPENS,
    PLAN_DUE,
    ROUND_CLOSES,
    ROUND_ID,
    STARTS,
    THEMES,
    deadline_passed,
    given,
    open_round,
    round_3_closed,
    round_3_running,
    scheduled,
)

SCHEDULE = ScheduleRound(
    round_id=ROUND_ID,
    number=3,
    title="Omgång 3",
    capacity=6,
    themes=THEMES,
    application_opens_at=OPENS,
    application_closes_at=CLOSES,
    starts_at=STARTS,
    plan_due_at=PLAN_DUE,
    closes_at=ROUND_CLOSES,
)
DATE_NAMES = ("application_opens_at", "application_closes_at", "starts_at", "plan_due_at")
LATER_DATE = {
    "application_opens_at": "application_closes_at",
    "application_closes_at": "starts_at",
    "starts_at": "plan_due_at",
    "plan_due_at": "closes_at",
}


def test_schedules_a_round_with_its_dates_themes_and_capacity() -> None:
    # GIVEN no round yet
    # WHEN staff schedule round 3
    events = decide(SCHEDULE, None, BEFORE_OPENING)
    # THEN the round is scheduled exactly as asked
    assert events == [scheduled()]


def test_scheduling_tidies_repeated_and_blank_themes() -> None:
    # GIVEN themes typed with spaces, a repeat and a blank
    command = replace(SCHEDULE, themes=(" digitalisering ", "digitalisering", "", "vi-känsla"))
    # WHEN the round is scheduled
    [event] = decide(command, None, BEFORE_OPENING)
    # THEN each theme is recorded once, trimmed, in the order given
    assert isinstance(event, RoundScheduled)
    assert event.themes == ("digitalisering", "vi-känsla")


def test_cannot_schedule_a_round_twice() -> None:
    # GIVEN round 3 is scheduled
    state = given(scheduled())
    # WHEN it is scheduled again
    # THEN the second schedule is refused
    with pytest.raises(RoundAlreadyScheduledError, match="2015-3"):
        decide(SCHEDULE, state, BEFORE_OPENING)


@pytest.mark.parametrize("earlier", DATE_NAMES)
def test_cannot_schedule_dates_that_do_not_strictly_increase(earlier: str) -> None:
    # GIVEN a schedule where a date is not before the next one (equal to it)
    later = LATER_DATE[earlier]
    command = replace(SCHEDULE, **{later: getattr(SCHEDULE, earlier)})
    # WHEN / THEN the schedule is refused, naming the date out of order
    with pytest.raises(DatesNotIncreasingError, match=f"{later} must be later than {earlier}"):
        decide(command, None, BEFORE_OPENING)


@pytest.mark.parametrize("capacity", [0, 1, 201])
def test_cannot_schedule_a_round_for_fewer_than_two_or_more_than_200_agencies(
    capacity: int,
) -> None:
    # GIVEN a capacity no learning pair fits into (or beyond what the programme runs)
    command = replace(SCHEDULE, capacity=capacity)
    # WHEN / THEN the schedule is refused
    with pytest.raises(InvalidCapacityError):
        decide(command, None, BEFORE_OPENING)


def test_cannot_schedule_a_round_without_themes() -> None:
    # GIVEN a schedule whose themes are all blank
    command = replace(SCHEDULE, themes=(" ",))
    # WHEN / THEN it is refused
    with pytest.raises(NoThemesError):
        decide(command, None, BEFORE_OPENING)


def test_reschedule_moves_one_date_and_records_the_full_new_set() -> None:
    # GIVEN a scheduled round
    state = given(scheduled())
    # WHEN applications are given a week more
    new_close = CLOSES + timedelta(days=7)
    command = RescheduleRound(ROUND_ID, application_closes_at=new_close)
    events = decide(command, state, BEFORE_OPENING)
    # THEN the event carries all five dates, the others unchanged
    assert events == [
        RoundRescheduled(
            application_opens_at=OPENS,
            application_closes_at=new_close,
            starts_at=STARTS,
            plan_due_at=PLAN_DUE,
            closes_at=ROUND_CLOSES,
        )
    ]


def test_rescheduling_to_the_dates_already_set_records_nothing() -> None:
    # GIVEN a scheduled round
    state = given(scheduled())
    # WHEN a reschedule names the current dates (or none)
    # THEN nothing happens
    assert decide(RescheduleRound(ROUND_ID, starts_at=STARTS), state, BEFORE_OPENING) == []
    assert decide(RescheduleRound(ROUND_ID), state, BEFORE_OPENING) == []


def test_cannot_reschedule_into_dates_that_do_not_increase() -> None:
    # GIVEN a scheduled round
    state = given(scheduled())
    # WHEN the start is moved past the plan deadline
    command = RescheduleRound(ROUND_ID, starts_at=PLAN_DUE + timedelta(days=1))
    # THEN it is refused
    with pytest.raises(DatesNotIncreasingError, match="plan_due_at must be later than starts_at"):
        decide(command, state, BEFORE_OPENING)


@pytest.mark.parametrize(
    ("stream", "moved"),
    [
        ((ApplicationsOpened(due_at=OPENS),), "application_opens_at"),
        (
            (ApplicationsOpened(due_at=OPENS), ApplicationsClosed(due_at=CLOSES, applications=0)),
            "application_closes_at",
        ),
        (
            (
                ApplicationsOpened(due_at=OPENS),
                ApplicationsClosed(due_at=CLOSES, applications=0),
                RoundStarted(due_at=STARTS, admitted=(), unpaired=()),
            ),
            "starts_at",
        ),
        (
            (
                ApplicationsOpened(due_at=OPENS),
                ApplicationsClosed(due_at=CLOSES, applications=0),
                RoundStarted(due_at=STARTS, admitted=(), unpaired=()),
                deadline_passed(),
            ),
            "plan_due_at",
        ),
    ],
)
def test_cannot_move_a_date_whose_transition_has_happened(
    stream: tuple[Event, ...], moved: str
) -> None:
    # GIVEN a round past the transition the date triggered
    state = given(scheduled(), *stream)
    # WHEN staff try to move that date (one hour earlier keeps the order intact)
    command = RescheduleRound(ROUND_ID, **{moved: getattr(state.dates, moved) - timedelta(hours=1)})
    # THEN it is refused: what happened cannot be rescheduled
    with pytest.raises(DateAlreadyPassedError, match=moved):
        decide(command, state, AFTER_CLOSING)


def test_the_plan_deadline_can_move_while_the_round_runs() -> None:
    # GIVEN round 3 running, its plan deadline not yet passed
    state = given(*round_3_running())
    # WHEN the deadline is moved a week later
    new_due = PLAN_DUE + timedelta(days=7)
    [event] = decide(RescheduleRound(ROUND_ID, plan_due_at=new_due), state, DURING_ROUND)
    # THEN the round records it
    assert isinstance(event, RoundRescheduled)
    assert event.plan_due_at == new_due
    assert event.starts_at == STARTS


def test_cannot_reschedule_a_cancelled_round() -> None:
    # GIVEN a cancelled round
    state = given(scheduled(), RoundCancelled(reason="För få sökande"))
    # WHEN / THEN rescheduling it is refused
    with pytest.raises(RoundCancelledError):
        decide(RescheduleRound(ROUND_ID, closes_at=AFTER_CLOSING), state, BEFORE_OPENING)


def test_cannot_reschedule_a_closed_round() -> None:
    # GIVEN a closed round
    state = given(*round_3_closed())
    # WHEN / THEN rescheduling it is refused
    with pytest.raises(RoundClosedError):
        decide(RescheduleRound(ROUND_ID, closes_at=AFTER_CLOSING), state, AFTER_CLOSING)


def test_cannot_reschedule_a_round_that_does_not_exist() -> None:
    # GIVEN no round
    # WHEN / THEN rescheduling is refused as not found
    with pytest.raises(RoundNotFoundError):
        decide(RescheduleRound(ROUND_ID, closes_at=AFTER_CLOSING), None, BEFORE_OPENING)


def test_a_command_for_another_round_is_refused_as_not_found() -> None:
    # GIVEN round 3's state (a wrong stream handed to decide would be a bug upstream)
    state = given(scheduled())
    # WHEN a command names round 4
    # THEN it is refused rather than applied to round 3
    with pytest.raises(RoundNotFoundError, match="2016-4"):
        decide(CancelRound("2016-4", reason="Fel omgång"), state, BEFORE_OPENING)


@pytest.mark.parametrize(
    "stream",
    [(), open_round()[1:], (*round_3_running()[1:],), (*round_3_running()[1:], deadline_passed())],
    ids=["scheduled", "open", "running", "deadline passed"],
)
def test_cancels_a_round_in_any_state_before_closed(stream: tuple[Event, ...]) -> None:
    # GIVEN a round not yet closed
    state = given(scheduled(), *stream)
    # WHEN staff cancel it
    events = decide(CancelRound(ROUND_ID, reason="För få sökande"), state, DURING_ROUND)
    # THEN it is cancelled with the reason
    assert events == [RoundCancelled(reason="För få sökande")]


def test_cancelling_a_cancelled_round_again_records_nothing() -> None:
    # GIVEN a cancelled round
    state = given(scheduled(), RoundCancelled(reason="För få sökande"))
    # WHEN it is cancelled again (a retried request)
    # THEN nothing new happens and nothing fails
    assert decide(CancelRound(ROUND_ID, reason="Igen"), state, DURING_ROUND) == []


def test_cannot_cancel_a_closed_round() -> None:
    # GIVEN a closed round
    state = given(*round_3_closed())
    # WHEN / THEN cancelling is refused
    with pytest.raises(RoundClosedError):
        decide(CancelRound(ROUND_ID, reason="För sent"), state, AFTER_CLOSING)


def test_cannot_cancel_a_round_that_does_not_exist() -> None:
    # GIVEN no round
    # WHEN / THEN cancelling is refused as not found
    with pytest.raises(RoundNotFoundError):
        decide(CancelRound(ROUND_ID, reason="Okänd"), None, DURING_ROUND)
