"""The real state machine walking round 3 of 2015: the clock moves, the execution follows."""

from __future__ import annotations

from datetime import timedelta

from domain import (
    PLAN_REMINDER_LEAD,
    CancelRound,
    DecideApplication,
    FormPair,
    RecordPresentation,
    RescheduleRound,
    SubmitPlan,
)
from events import (
    ApplicationsClosed,
    ApplicationsOpened,
    PlanDeadlinePassed,
    PlanReminderIssued,
    RoundClosed,
    RoundStarted,
)
from functions.lifecycle.policy import RENEW_AFTER
from programme.round3 import data as r3
from programme.round3.story import RoundDriver
from tests.lifecycle.harness import Lifecycle, the, until

STAFF = "staff:programme-office"
TRANSITION_EVENTS = [
    "ApplicationsOpened",
    "ApplicationsClosed",
    "RoundStarted",
    "PlanReminderIssued",
    "PlanDeadlinePassed",
    "RoundClosed",
]


def schedule_round_3(driver: RoundDriver) -> None:
    driver.run(
        r3.schedule_command(),
        actor=STAFF,
    )


def test_the_execution_walks_round_3_from_scheduled_to_closed_and_succeeds(
    lifecycle: Lifecycle,
) -> None:
    # GIVEN round 3 of 2015 scheduled, and its execution started
    driver = lifecycle.driver()
    schedule_round_3(driver)
    lifecycle.start()

    # WHEN the clock reaches each date, with staff and forms acting in between
    lifecycle.advance_to(r3.APPLICATION_OPENS_AT)
    until(lambda: lifecycle.state().status == "open", "applications open")
    for day, agency in enumerate(r3.AGENCIES, start=3):
        driver.apply(agency, r3.APPLICATION_OPENS_AT + timedelta(days=day))

    lifecycle.advance_to(r3.APPLICATION_CLOSES_AT)
    until(lambda: lifecycle.state().status == "selection", "applications closed")
    lifecycle.advance_to(r3.APPLICATION_CLOSES_AT + timedelta(days=7))
    for agency in r3.AGENCIES:
        driver.run(
            DecideApplication(r3.ROUND_ID, agency.org_number, "admit", "ESV 2014/101"), STAFF
        )
    for members, theme in r3.PAIRS:
        driver.run(FormPair(r3.ROUND_ID, members, theme), actor=STAFF)

    lifecycle.advance_to(r3.PLAN_DUE_AT - timedelta(days=3))
    until(lambda: lifecycle.state().reminder_issued, "the plan reminder went out")
    for n, pair_id in enumerate(sorted(lifecycle.state().pairs)):
        driver.run(
            SubmitPlan(r3.ROUND_ID, pair_id, "Plan", f"https://plans.example/{n}", f"{n:064x}"),
            actor=STAFF,
        )

    lifecycle.advance_to(r3.PLAN_DUE_AT)
    until(lambda: lifecycle.state().deadline_passed, "the plan deadline passed")
    for pair_id in sorted(lifecycle.state().pairs):
        held_at = r3.CLOSES_AT - timedelta(days=7)
        lifecycle.advance_to(held_at + timedelta(hours=2))
        driver.run(RecordPresentation(r3.ROUND_ID, pair_id, held_at), actor=STAFF)

    lifecycle.advance_to(r3.CLOSES_AT)
    until(lifecycle.all_finished, "the executions finished")

    # THEN the round's 15 months took two executions: the first handed over once it had
    # lived RENEW_AFTER (program time here, as the wall clock on AWS), inside Step Functions'
    # one-year limit; the next succeeded on the closed round ...
    assert lifecycle.executions() == {"2015-3": "SUCCEEDED", "2015-3.gen2": "SUCCEEDED"}
    assert lifecycle.entered_states()[-2:] == ["HandOver", "HandedOver"]
    assert lifecycle.entered_states("2015-3.gen2")[-1] == "Finished"
    # ... the first firing what was due when the clock passed its renewal instant, the next
    # the rest
    renewal = r3.SCHEDULED_ON + RENEW_AFTER
    assert r3.APPLICATION_CLOSES_AT < renewal < r3.PLAN_DUE_AT - timedelta(days=3)
    fired_by = {
        r.event.type: r.metadata.correlation_id
        for r in lifecycle.recorded()
        if r.event.type in TRANSITION_EVENTS
    }
    assert fired_by == dict(
        zip(TRANSITION_EVENTS, ["2015-3"] * 3 + ["2015-3.gen2"] * 3, strict=True)
    )
    state = lifecycle.state()
    assert state.status == "closed"

    # ... and each transition was recorded once, by the scheduler, for the date it was due
    assert [e for e in lifecycle.event_types() if e in TRANSITION_EVENTS] == TRANSITION_EVENTS
    opened, opened_meta = the(ApplicationsOpened)
    closed_applications, _ = the(ApplicationsClosed)
    started, _ = the(RoundStarted)
    reminded, _ = the(PlanReminderIssued)
    deadline, _ = the(PlanDeadlinePassed)
    closed, closed_meta = the(RoundClosed)
    assert opened_meta.actor == closed_meta.actor == "scheduler:round-lifecycle"
    assert (opened.due_at, closed_applications.due_at, started.due_at) == (
        r3.APPLICATION_OPENS_AT,
        r3.APPLICATION_CLOSES_AT,
        r3.STARTS_AT,
    )
    assert (reminded.due_at, deadline.due_at, closed.due_at) == (
        r3.PLAN_DUE_AT - PLAN_REMINDER_LEAD,
        r3.PLAN_DUE_AT,
        r3.CLOSES_AT,
    )
    # ... with what each records
    assert closed_applications.applications == 6
    assert started.admitted == tuple(sorted(agency.org_number for agency in r3.AGENCIES))
    assert started.unpaired == ()
    assert len(reminded.pairs_without_plan) == 3
    assert deadline.pairs_without_plan == ()
    assert (closed.admitted, closed.pairs, closed.plans_submitted, closed.presentations) == (
        6,
        3,
        3,
        3,
    )


def test_an_execution_that_finds_a_newer_schedule_hands_the_round_to_that_schedules_execution(
    lifecycle: Lifecycle,
) -> None:
    # GIVEN round 3 scheduled and its execution waiting for applications to open
    driver = lifecycle.driver()
    schedule_round_3(driver)
    lifecycle.start()
    until(lambda: "WaitUntilDue" in lifecycle.entered_states(), "the execution waits")

    # WHEN staff move the opening two weeks later, and the execution reads the round before
    # the starter has replaced it (no starter runs here: as when a hand-over raced it)
    later = r3.APPLICATION_OPENS_AT + timedelta(days=14)
    driver.run(RescheduleRound(r3.ROUND_ID, application_opens_at=later), actor=STAFF)
    until(lifecycle.finished, "the execution finished")

    # THEN it handed the round to the execution named after the reschedule (stream version 2),
    # the one the starter starts for it, so the two cannot both run on
    assert lifecycle.status() == "SUCCEEDED"
    assert lifecycle.entered_states()[-2:] == ["HandOver", "HandedOver"]
    assert "2015-3.v2" in lifecycle.executions()

    # ... which does not open applications at the old date ...
    lifecycle.advance_to(r3.APPLICATION_OPENS_AT + timedelta(days=1))
    applies_after_the_move = lifecycle.entered_states("2015-3.v2").count("ApplyTransition") + 2
    until(
        lambda: (
            lifecycle.entered_states("2015-3.v2").count("ApplyTransition") >= applies_after_the_move
        ),
        "the execution has looked again past the old date",
    )
    assert lifecycle.state().status == "scheduled"

    # ... but at the new one
    lifecycle.advance_to(later)
    until(lambda: lifecycle.state().status == "open", "applications open")
    opened, opened_meta = the(ApplicationsOpened)
    assert opened.due_at == later
    assert opened_meta.correlation_id == "2015-3.v2"
    assert lifecycle.executions() == {r3.ROUND_ID: "SUCCEEDED", "2015-3.v2": "RUNNING"}


def test_a_cancellation_during_the_wait_ends_the_execution_cleanly(lifecycle: Lifecycle) -> None:
    # GIVEN round 3 open for applications and its execution waiting for them to close
    driver = lifecycle.driver()
    schedule_round_3(driver)
    lifecycle.start()
    lifecycle.advance_to(r3.APPLICATION_OPENS_AT)
    until(lambda: lifecycle.state().status == "open", "applications open")

    # WHEN staff cancel the round
    driver.run(CancelRound(r3.ROUND_ID, "Too few applicants"), actor=STAFF)
    until(lifecycle.finished, "the execution finished")

    # THEN the execution succeeded without recording anything more
    assert lifecycle.status() == "SUCCEEDED"
    assert lifecycle.entered_states()[-1] == "Finished"
    assert lifecycle.event_types()[-2:] == ["ApplicationsOpened", "RoundCancelled"]
