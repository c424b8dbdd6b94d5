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
from infra import round3_2015 as r3
from infra.demo import RoundDriver
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
    until(lifecycle.finished, "the execution finished")

    # THEN the execution succeeded on a closed round ...
    assert lifecycle.status() == "SUCCEEDED"
    assert lifecycle.entered_states()[-1] == "Finished"
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


def test_a_reschedule_during_the_wait_is_followed_by_the_same_execution(
    lifecycle: Lifecycle,
) -> None:
    # GIVEN round 3 scheduled and its execution waiting for applications to open
    driver = lifecycle.driver()
    schedule_round_3(driver)
    lifecycle.start()
    until(lambda: "WaitUntilDue" in lifecycle.entered_states(), "the execution waits")

    # WHEN staff move the opening two weeks later, and the old date passes
    later = r3.APPLICATION_OPENS_AT + timedelta(days=14)
    driver.run(RescheduleRound(r3.ROUND_ID, application_opens_at=later), actor=STAFF)
    lifecycle.advance_to(r3.APPLICATION_OPENS_AT + timedelta(days=1))
    applies_after_the_move = lifecycle.entered_states().count("ApplyTransition") + 2
    until(
        lambda: lifecycle.entered_states().count("ApplyTransition") >= applies_after_the_move,
        "the execution has looked again past the old date",
    )

    # THEN nothing opened at the old date ...
    assert lifecycle.state().status == "scheduled"

    # ... and the same execution opens applications at the new one
    lifecycle.advance_to(later)
    until(lambda: lifecycle.state().status == "open", "applications open")
    opened, _ = the(ApplicationsOpened)
    assert opened.due_at == later
    assert lifecycle.executions() == {r3.ROUND_ID: "RUNNING"}


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
