"""The daily reconciler fires once at start, then when program time reaches its due time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from programme.stack.clock import ManualClock
from programme.stack.scheduler import DailyJob, SchedulerThread, scheduled_jobs
from programme.template import load_template

JOB = DailyJob("LifecycleReconcilerFunction", minute=15, hour=3, zone="Europe/Stockholm")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_the_reconciler_job_is_read_from_the_template() -> None:
    (job,) = scheduled_jobs(load_template())
    assert job == DailyJob(
        "LifecycleReconcilerFunction",
        minute=15,
        hour=3,
        zone="Europe/Stockholm",
        input="{}",
        retries=2,
        on_failure="LifecycleFailureQueue",
    )


def test_the_next_run_is_03_15_in_stockholm_winter_or_summer() -> None:
    assert JOB.next_after(at(2015, 1, 10, 12)) == at(2015, 1, 11, 2, 15)  # CET
    assert JOB.next_after(at(2015, 7, 10, 0)) == at(2015, 7, 10, 1, 15)  # CEST
    assert JOB.next_after(at(2015, 7, 10, 1, 15)) == at(2015, 7, 11, 1, 15)  # strictly after


class Reconciler:
    """The function the job runs: notes the program time of each call, fails as told."""

    def __init__(self, clock: ManualClock, failures: int = 0) -> None:
        self.clock = clock
        self.at: list[datetime] = []
        self.failures = failures

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        self.at.append(self.clock())
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the reconciler failed")
        return {"live": 0, "started": []}


def scheduler(reconciler: Reconciler, failed: list[BaseException]) -> SchedulerThread:
    functions = {"LifecycleReconcilerFunction": reconciler}
    return SchedulerThread(
        [JOB], functions, reconciler.clock, lambda job, error: failed.append(error)
    )


def test_a_job_fires_at_start_then_once_each_time_program_time_passes_its_due_time() -> None:
    # GIVEN the scheduler, program time at 2014-09-01 09:00
    clock = ManualClock(at(2014, 9, 1, 9))
    reconciler, failed = Reconciler(clock), list[BaseException]()
    jobs = scheduler(reconciler, failed)

    # WHEN it starts, time passes to just before the next 03:15, to it, then a month on
    jobs.fire_due()
    clock.advance_to(at(2014, 9, 2, 1, 14))
    jobs.fire_due()
    clock.advance_to(at(2014, 9, 2, 1, 15))
    jobs.fire_due()
    clock.advance(timedelta(days=30))
    jobs.fire_due()

    # THEN it ran at start, at the due time, and once for the month skipped
    assert reconciler.at == [at(2014, 9, 1, 9), at(2014, 9, 2, 1, 15), at(2014, 10, 2, 1, 15)]
    assert failed == []


def test_a_failing_run_is_retried_then_handed_to_the_on_failure_destination() -> None:
    # GIVEN a reconciler that fails every time
    reconciler = Reconciler(ManualClock(at(2014, 9, 1, 9)), failures=10)
    failed: list[BaseException] = []

    # WHEN the job fires
    scheduler(reconciler, failed).fire_due()

    # THEN it ran three times (two retries), and the failure was handed on once
    assert len(reconciler.at) == 3
    assert [str(error) for error in failed] == ["the reconciler failed"]
